// The one error the publish client throws: what went wrong, in a sentence or a few lines, and
// what to change (`hints`), so that the command line and the GitHub Action can both show it.

export type PublishErrorCode =
  /** A path given is missing, is no distribution, or a distribution is malformed. */
  | 'invalid-distribution'
  /** A setting cannot work (a plain-HTTP URL, a missing file, a bad flag value). */
  | 'usage'
  /** No credential at all: neither a token nor a CI environment with OIDC. */
  | 'no-credential'
  /** The CI platform was detected but gave no OIDC token. */
  | 'no-id-token'
  /** The index does not do trusted publishing (403 or 404 from /_/oidc/audience). */
  | 'not-supported'
  /** The index refused the OIDC token (422 from /_/oidc/mint-token). */
  | 'exchange-failed'
  /** Signing a PEP 740 attestation (Fulcio, Rekor) failed: nothing was uploaded. */
  | 'attestation-failed'
  /** The index refused a file. */
  | 'upload-failed'
  /** The index's TLS certificate could not be verified. */
  | 'untrusted-certificate'
  /** The index could not be reached, or kept failing. */
  | 'unreachable';

export interface PublishErrorOptions {
  hints?: string[];
  cause?: unknown;
  /** Files uploaded (or skipped) before the failure. */
  done?: readonly { filename: string; status: string }[];
}

export class PublishError extends Error {
  override name = 'PublishError';
  readonly code: PublishErrorCode;
  /** What to change, one sentence each, most likely first. */
  readonly hints: string[];
  readonly done: readonly { filename: string; status: string }[];

  constructor(code: PublishErrorCode, message: string, options: PublishErrorOptions = {}) {
    super(message);
    this.code = code;
    this.hints = options.hints ?? [];
    this.done = options.done ?? [];
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /** A copy that also records the files handled before it was thrown. */
  withDone(done: readonly { filename: string; status: string }[]): PublishError {
    return new PublishError(this.code, this.message, {
      hints: this.hints,
      cause: this.cause,
      done,
    });
  }
}

/** The message and its hints as text: the message, then `hint: …` lines. */
export function formatPublishError(err: PublishError): string {
  const lines = [err.message];
  if (err.hints.length > 0) {
    lines.push('');
    for (const hint of err.hints) lines.push(`hint: ${hint}`);
  }
  if (err.done.length > 0) {
    lines.push('');
    lines.push(
      `Before this failure: ${err.done.map((d) => `${d.filename} (${d.status})`).join(', ')}.`,
    );
  }
  return lines.join('\n');
}
