// Trusted publishing's exchange, at the endpoints tp-discovery.ts found (PEP 807's, else PyPI's
// at the root of the upload host): the audience from the audience endpoint, the OIDC token traded
// for an upload token at the mint endpoint, and that token burned at pier's burn endpoint once the
// uploads are done. Errors are read in PyPI's shape and in RFC 9457's (PEP 807).
// A failure says what the index answered, what the token claims, and what to change.
import {
  decodeJwtPayload,
  isReusableWorkflow,
  issuerCommand,
  publisherCommand,
  renderClaims,
  tokenPlatform,
  type Claims,
} from './claims.js';
import { PublishError } from './errors.js';
import { describeResponse, request, type HttpResponse } from './http.js';
import { send, type RetryNotice } from './requests.js';
import type { RetryPolicy } from './retry.js';
import type { TrustedPublishingEndpoints } from './tp-discovery.js';

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' };

function parseJson(res: HttpResponse): Record<string, unknown> | null {
  try {
    const doc: unknown = JSON.parse(res.body.toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const TOKEN_HINT =
  'Or publish with an API token instead (--token or PIER_TOKEN; the action’s `password` input).';

/** GET the audience endpoint: the audience the index wants OIDC tokens minted for. */
export async function fetchAudience(
  endpoints: TrustedPublishingEndpoints,
  policy: RetryPolicy,
  onRetry: (n: RetryNotice) => void,
): Promise<string> {
  const url = endpoints.audience;
  const host = url.host;
  const res = await send(
    url,
    { headers: { accept: endpoints.accept } },
    policy,
    onRetry,
    'audience',
  );
  const doc = parseJson(res);
  if (res.status === 403) {
    const why = doc?.reason ?? doc?.detail;
    const reason = typeof why === 'string' ? ` (${why})` : '';
    throw new PublishError(
      'not-supported',
      `The index at ${host} has trusted publishing disabled${reason}`,
      {
        hints: [
          'Ask the index’s administrator to enable it: pier runs trusted publishing only when served over HTTPS.',
          TOKEN_HINT,
        ],
      },
    );
  }
  if (res.status === 404)
    throw new PublishError(
      'not-supported',
      `The index at ${host} does not support trusted publishing: GET ${url.href} answered 404`,
      {
        hints: [
          'Check that --repository-url is the index’s upload URL (for pier: https://HOST/legacy/).',
          TOKEN_HINT,
        ],
      },
    );
  if (res.status !== 200)
    throw new PublishError(
      'not-supported',
      `The index at ${host} answered GET ${url.pathname} with ${describeResponse(res)}`,
      {
        hints: [
          'Wait a few minutes and try again; if it persists, tell the index’s administrator.',
        ],
      },
    );
  const audience = doc?.audience;
  if (typeof audience !== 'string' || audience === '')
    throw new PublishError(
      'not-supported',
      `The index at ${host} gave no audience at ${url.pathname}`,
      { hints: [TOKEN_HINT] },
    );
  return audience;
}

export interface ExchangeFailure {
  code: string;
  description: string;
}

export interface HintContext {
  claims: Claims | null;
  /** The projects being published (for the suggested publisher command). */
  projects: readonly string[];
  host: string;
}

/** What to change for one error of a refused exchange. */
export function hintsFor(error: ExchangeFailure, ctx: HintContext): string[] {
  const claims = ctx.claims ?? {};
  const hints: string[] = [];
  switch (error.code) {
    case 'invalid-publisher': {
      const commands = ctx.projects
        .map((p) => publisherCommand(claims, p))
        .filter((c): c is string => c !== null);
      if (commands.length > 0)
        hints.push(
          `Register a trusted publisher for this job on ${ctx.host} (an owner of the project runs it): ${commands.map((c) => `\`${c}\``).join(' and ')}`,
        );
      hints.push(
        'If a publisher is registered already, compare its repository, workflow file, environment (and owner id) with the claims above: one of them differs.',
      );
      if (isReusableWorkflow(claims))
        hints.push(
          'This job runs a reusable workflow (job_workflow_ref differs from workflow_ref): the publisher must name the reusable workflow’s file, and it must live in the same repository.',
        );
      break;
    }
    case 'invalid-payload': {
      if (/issuer/i.test(error.description)) {
        const command = issuerCommand(claims);
        const issuer = typeof claims.iss === 'string' ? claims.iss : 'this token’s issuer';
        hints.push(
          `The index does not trust ${issuer}: ask its administrator to trust that issuer${command ? ` (\`${command}\`)` : ''}.`,
        );
      } else
        hints.push(
          'The index could not read the token this client sent; if it persists, report it with the output above.',
        );
      break;
    }
    case 'not-enabled':
      hints.push(
        'Ask the index’s administrator to enable trusted publishing (pier: serve it over HTTPS).',
      );
      hints.push(TOKEN_HINT);
      break;
    case 'invalid-token':
      if (/\bexpired\b|\bexp\b|not valid yet|\bnbf\b|\biat\b|future/i.test(error.description))
        hints.push(
          'The token’s validity period did not cover the exchange: run the publish step right after the token is issued, and check the clocks of the runner and the index.',
        );
      else if (/\baud(ience)?\b/i.test(error.description))
        hints.push(
          'The token was minted for another audience: request it for the audience the index names at /_/oidc/audience.',
        );
      else
        hints.push(
          'The index could not verify the token; if the issuer rotated its keys or is unreachable from the index, ask the index’s administrator.',
        );
      break;
    case 'invalid-pending-publisher':
      hints.push(
        'The pending publisher can no longer create the project (it exists already, or the pending publisher expired): ask an owner of the project to add this publisher to it.',
      );
      break;
    case 'invalid-reuse-token':
      hints.push(
        'This OIDC token was exchanged already; every run gets fresh tokens: re-run the job.',
      );
      break;
  }
  return hints;
}

function failureMessage(host: string, errors: ExchangeFailure[], claims: Claims | null): string {
  const lines = [`Trusted publishing exchange failed: ${host} refused the OIDC token:`];
  for (const e of errors) lines.push(`  * \`${e.code}\`: ${e.description}`);
  if (claims) {
    lines.push('');
    lines.push(
      `The token’s claims (${tokenPlatform(claims)}), for debugging — a publisher must match them (MISSING: not in the token):`,
    );
    for (const line of renderClaims(claims)) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}

export interface MintedToken {
  token: string;
  /** Unix time, when the index says. */
  expires: number | null;
}

/** POST the mint endpoint: trades the OIDC token for an upload token. */
export async function mintToken(
  endpoints: TrustedPublishingEndpoints,
  oidcToken: string,
  ctx: { projects: readonly string[]; policy: RetryPolicy; onRetry: (n: RetryNotice) => void },
): Promise<MintedToken> {
  const url = endpoints.mint;
  const body = Buffer.from(JSON.stringify({ token: oidcToken }));
  const res = await send(
    url,
    {
      method: 'POST',
      headers: { accept: endpoints.accept, 'content-type': 'application/json' },
      body,
    },
    ctx.policy,
    ctx.onRetry,
    'token exchange',
  );
  const doc = parseJson(res);
  if (doc === null)
    throw new PublishError(
      'exchange-failed',
      `Trusted publishing exchange failed: the index answered ${describeResponse(res)}, not JSON`,
      {
        hints: [
          'This suggests a server configuration problem or downtime: wait a few minutes and try again, or tell the index’s administrator.',
        ],
      },
    );
  if (res.status >= 200 && res.status < 300 && typeof doc.token === 'string' && doc.token !== '')
    return { token: doc.token, expires: typeof doc.expires === 'number' ? doc.expires : null };
  const claims = decodeJwtPayload(oidcToken);
  const errors: ExchangeFailure[] = Array.isArray(doc.errors)
    ? doc.errors.map((e: unknown) => {
        const o = (e ?? {}) as Record<string, unknown>;
        return {
          code: typeof o.code === 'string' ? o.code : 'unknown',
          description: typeof o.description === 'string' ? o.description : JSON.stringify(e),
        };
      })
    : [
        {
          code: `http-${res.status}`,
          description:
            typeof doc.detail === 'string'
              ? doc.detail
              : typeof doc.message === 'string'
                ? doc.message
                : describeResponse(res),
        },
      ];
  const hostCtx = { claims, projects: ctx.projects, host: url.host };
  throw new PublishError('exchange-failed', failureMessage(url.host, errors, claims), {
    hints: [...new Set(errors.flatMap((e) => hintsFor(e, hostCtx)))],
  });
}

/** POST pier's burn endpoint: revokes the minted token. Never throws (an index may not have it). */
export async function burnToken(url: URL | null, token: string): Promise<boolean> {
  if (url === null) return false;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: Buffer.from(JSON.stringify({ token })),
      idleTimeoutMs: 10_000,
    });
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}
