// The version `pier --version` prints: the one in the package.json pier was installed from
// (build/src/cli/ is three folders below it, in a checkout and in an installed package alike).
import { readFileSync } from 'node:fs';

export function pierVersion(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
