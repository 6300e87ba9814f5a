// Retries with exponential backoff: for requests that failed on the network or got a 5xx,
// as twine retries an upload that met a server error.

export interface RetryPolicy {
  /** Attempts in all, the first included (default 5). */
  attempts: number;
  /** Wait before the second attempt, doubled for each further one (default 1 s). */
  baseDelayMs: number;
  /** Longest wait between two attempts (default 30 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** The wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

export type AttemptOutcome<T> = { done: T } | { retry: string; final: () => T };

/**
 * Runs `attempt` until it returns `{done}` or the attempts run out; `{retry: reason, final}`
 * asks for another attempt, and `final()` is what to return (or throw) when none is left.
 * Errors thrown by `attempt` end the loop at once.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<AttemptOutcome<T>>,
  onRetry: (info: { attempt: number; of: number; reason: string; delayMs: number }) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if ('done' in outcome) return outcome.done;
    if (n >= policy.attempts) return outcome.final();
    const delayMs = backoffDelay(policy, n);
    onRetry({ attempt: n, of: policy.attempts, reason: outcome.retry, delayMs });
    await sleep(delayMs);
  }
}
