import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'pier-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

process.on('exit', () => {
  if (process.env.PIER_TEST_KEEP) return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
