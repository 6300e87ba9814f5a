// Requests to the index with the client's policy: retried with backoff on network failures and
// 5xx answers; an untrusted certificate or an unreachable host turned into a PublishError that
// says what to change.
import { PublishError } from './errors.js';
import { request, TransportError, type HttpResponse, type RequestOptions } from './http.js';
import { withRetries, type RetryPolicy } from './retry.js';

export interface RetryNotice {
  what: string;
  attempt: number;
  of: number;
  reason: string;
  delayMs: number;
}

/** The PublishError for a request that got no answer. */
export function transportFailure(err: TransportError, url: URL): PublishError {
  if (err.kind === 'tls')
    return new PublishError('untrusted-certificate', err.message, {
      cause: err,
      hints: [
        err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || err.code === 'HOSTNAME_MISMATCH'
          ? `The certificate is not for ${url.hostname}: use the host name the certificate names.`
          : `If ${url.host} uses a private certificate authority, point NODE_EXTRA_CA_CERTS at its PEM file (pier never turns certificate verification off).`,
      ],
    });
  return new PublishError('unreachable', err.message, {
    cause: err,
    hints: [`Check the URL and that ${url.host} is reachable from here.`],
  });
}

/**
 * Sends a request, retrying network failures and 5xx answers under `policy`. Resolves with the
 * last response (a 5xx when attempts ran out); throws a PublishError when none came.
 */
export async function send(
  url: URL,
  options: RequestOptions | (() => RequestOptions),
  policy: RetryPolicy,
  onRetry: (notice: RetryNotice) => void,
  what: string,
): Promise<HttpResponse> {
  return withRetries<HttpResponse>(
    policy,
    async () => {
      try {
        const res = await request(url, typeof options === 'function' ? options() : options);
        if (res.status >= 500)
          return {
            retry: `${res.status} ${res.statusText}`.trim(),
            final: () => res,
          };
        return { done: res };
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        if (err.kind !== 'retryable') throw transportFailure(err, url);
        return {
          retry: err.message,
          final: () => {
            throw transportFailure(err, url);
          },
        };
      }
    },
    (info) => onRetry({ what, ...info }),
  );
}
