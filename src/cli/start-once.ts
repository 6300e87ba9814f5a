// What `pier serve` does once per start, before it takes requests, however many server processes
// it runs: the first administrator of an empty index, and the removal of temporary blobs left
// over from uploads cut short (an hour old, so that none still being written is touched).
// Migrations of the embedded default happen when the services are opened (src/services.ts).
import type { Services } from '../services.js';
import { createFirstAdministrator, firstStartMessage } from './first-start.js';

const LEFTOVER_AGE_MS = 60 * 60 * 1000;

export async function startOnce(s: Services): Promise<void> {
  const passwordFile = await createFirstAdministrator(s.auth, s.config.dataDir);
  if (passwordFile !== null) process.stderr.write(firstStartMessage(passwordFile));
  await s.blobs.sweep(LEFTOVER_AGE_MS).catch(() => 0);
}
