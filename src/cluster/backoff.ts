// When a crashed worker is replaced. A worker that ran a while is replaced at once; one that
// died soon after it was started (a fault that will recur at every start: a bad certificate, a
// database that refuses connections) is replaced after a delay that doubles with each such exit
// in a row, so that a failing start never spins through the CPU and the log.

/** A worker that exits sooner than this after it was started died "at start". */
export const EARLY_EXIT_MS = 10_000;
const FIRST_DELAY_MS = 500;
export const MAX_DELAY_MS = 30_000;

/** The delay before replacing a worker, given how many workers in a row died at start. */
export function restartDelayMs(earlyExitsInARow: number): number {
  if (earlyExitsInARow <= 0) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (earlyExitsInARow - 1));
}
