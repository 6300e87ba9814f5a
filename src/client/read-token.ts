// `pier token from-oidc --scope read`: trusted access for installs. In a CI job, the job's OIDC
// token is traded at the index's /_/oidc/mint-read-token for a short-lived read token of the
// private projects whose publishers trust the job, and an index URL carrying it is printed for
// pip (`pip install --index-url "$(pier token from-oidc --index-url …)" …`). No stored secret.
import type { AmbientContext } from './ambient.js';
import { fetchAudience, mintToken } from './exchange.js';
import { CI_JOBS_WITH_TOKENS, jobOidcToken } from './job-token.js';
import type { RetryNotice } from './requests.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { pypiEndpoints } from './tp-discovery.js';
import { oidcBaseUrl, secureUrl } from './urls.js';

export interface ReadTokenOptions {
  /** The index's Simple URL (`https://pypi.example.com/simple/`). */
  indexUrl: string;
  oidcTokenFile?: string;
  env: Readonly<Record<string, string | undefined>>;
  ambient?: AmbientContext;
  onSecret?: (secret: string) => void;
  policy?: RetryPolicy;
  onRetry?: (line: string) => void;
}

export interface ReadToken {
  token: string;
  /** Unix time, when the index says. */
  expires: number | null;
  /** The index URL with `__token__` and the token as its credentials. */
  indexUrl: string;
  /** Where the job's OIDC token came from. */
  source: string;
}

/** pier's read exchange, beside PyPI's endpoints at the root of the index's host. */
export function readMintUrl(indexUrl: URL): URL {
  return new URL('/_/oidc/mint-read-token', oidcBaseUrl(indexUrl));
}

export async function readTokenFromOidc(options: ReadTokenOptions): Promise<ReadToken> {
  const index = secureUrl(options.indexUrl, '--index-url');
  const policy = options.policy ?? DEFAULT_RETRY;
  const onRetry = (n: RetryNotice) =>
    options.onRetry?.(`${n.what}: ${n.reason}; retrying (${n.attempt}/${n.of})`);
  const endpoints = { ...pypiEndpoints(index), mint: readMintUrl(index) };
  const audience = await fetchAudience(endpoints, policy, onRetry);
  const oidc = await jobOidcToken(audience, index.host, {
    oidcTokenFile: options.oidcTokenFile,
    ambient: options.ambient,
    env: options.env,
    onSecret: options.onSecret,
    otherwise: 'a read token comes from a CI job’s OIDC token',
    hint: `Run it in a CI job: ${CI_JOBS_WITH_TOKENS}.`,
  });
  const minted = await mintToken(endpoints, oidc.token, { projects: [], policy, onRetry });
  options.onSecret?.(minted.token);
  const withToken = new URL(index);
  withToken.username = '__token__';
  withToken.password = minted.token;
  return {
    token: minted.token,
    expires: minted.expires,
    indexUrl: withToken.href,
    source: oidc.source,
  };
}
