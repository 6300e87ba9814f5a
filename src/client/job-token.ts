// The CI job's OIDC token for an index's audience: from --oidc-token-file, else from the CI
// platform this runs in (ambient.ts). Shared by `pier publish` (an upload token) and
// `pier token from-oidc` (a read token): masked as a secret, its audience checked.
import { detectAmbientToken, defaultAmbientContext, type AmbientContext } from './ambient.js';
import { checkAudience, readOidcTokenFile } from './credentials.js';
import { PublishError } from './errors.js';

/** The CI platforms whose OIDC token is found for any audience (Sigstore's too), for hints. */
export const CI_JOBS_WITH_ANY_AUDIENCE =
  'GitHub Actions (with `permissions: id-token: write`), GitLab CI (with `id_tokens:`), Buildkite, CircleCI or Google Cloud';

/** The CI platforms whose OIDC token is found, for hints. */
export const CI_JOBS_WITH_TOKENS = `${CI_JOBS_WITH_ANY_AUDIENCE}, or Bitbucket Pipelines (with \`oidc: { audiences: [AUD] }\`); or give --oidc-token-file`;

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
    /** When no CI job is detected: what was missing, and the hint. */
    otherwise: string;
    hint: string;
  },
): Promise<JobToken> {
  let oidc: JobToken;
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
  checkAudience(oidc.token, audience, oidc.source, host);
  return oidc;
}
