// Where things are, from the compiled file's location (build/bench/lib/).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PIER_BIN = join(REPO_ROOT, 'bin', 'pier.cjs');
export const BARE_SERVER = fileURLToPath(new URL('../bare-server.js', import.meta.url));
export const LOAD_WORKER = fileURLToPath(new URL('../load-worker.js', import.meta.url));
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
export const EXCHANGE_LOAD_WORKER = fileURLToPath(
  new URL('../exchange-load-worker.js', import.meta.url),
);
export const EXCHANGE_BASELINE = fileURLToPath(new URL('../exchange-baseline.js', import.meta.url));
