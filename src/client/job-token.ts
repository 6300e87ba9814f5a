// The CI job's OIDC token for an index's audience: from --oidc-token-file, else from the CI
// platform this runs in (ambient.ts). Shared by `pier publish` (an upload token) and
// `pier token from-oidc` (a read token): masked as a secret, its audience checked.
import { detectAmbientToken, defaultAmbientContext, type AmbientContext } from './ambient.js';
import { checkAudience, platformAudienceOf, readOidcTokenFile } from './credentials.js';
import { PublishError } from './errors.js';

/** The CI platforms whose token Sigstore takes (audience `sigstore`), for hints. */
export const CI_JOBS_WITH_SIGSTORE_TOKENS =
  'GitHub Actions (with `permissions: id-token: write`), GitLab CI (with `id_tokens:`), Buildkite, CircleCI or Google Cloud';

/** The CI platforms whose OIDC token is found, for hints. */
export const CI_JOBS_WITH_TOKENS = `${CI_JOBS_WITH_SIGSTORE_TOKENS}, Bitbucket Pipelines (with \`oidc: { audiences: [AUD] }\`) or Azure Pipelines (with SYSTEM_ACCESSTOKEN mapped); or give --oidc-token-file`;

export interface JobToken {
  token: string;
  /** Where it came from, for messages. */
  source: string;
  /** The CI platform, or `file`. */
  platform: string;
}

export async function jobOidcToken(
  audience: string,
  host: string,
  options: {
    oidcTokenFile?: string;
    ambient?: AmbientContext;
    env: Readonly<Record<string, string | undefined>>;
    onSecret?: (secret: string) => void;
    /** The token is for Sigstore (attestations), not for an index's exchange. */
    sigstore?: boolean;
    /** When no CI job is detected: what was missing, and the hint. */
    otherwise: string;
    hint: string;
  },
): Promise<JobToken> {
  let oidc: JobToken & { audience?: string };
  if (options.oidcTokenFile) {
    oidc = {
      token: await readOidcTokenFile(options.oidcTokenFile),
      source: options.oidcTokenFile,
      platform: 'file',
    };
  } else {
    const found = await detectAmbientToken(
      audience,
      options.ambient ?? defaultAmbientContext(options.env),
    );
    if (!found)
      throw new PublishError(
        'no-credential',
        `No credentials: ${options.otherwise}, and this is not a CI job whose OIDC token could be used for trusted publishing`,
        {
          hints: [options.hint],
        },
      );
    oidc = found;
  }
  options.onSecret?.(oidc.token);
  // A platform's fixed audience (Azure DevOps) is one an index expects; Sigstore never does.
  const fixed = options.sigstore ? undefined : (oidc.audience ?? platformAudienceOf(oidc.token));
  checkAudience(oidc.token, audience, oidc.source, host, fixed);
  return oidc;
}
