// Which credential to upload with. Explicit ones first — a flag, then the environment
// (PIER_TOKEN, then twine's TWINE_USERNAME/TWINE_PASSWORD), then the password of the .pypirc
// repository the URL came from — and otherwise trusted publishing, with the OIDC token from
// --oidc-token-file or from the CI job the client runs in.
import { readFile } from 'node:fs/promises';
import { decodeJwtPayload } from './claims.js';
import { bitbucketAudienceHint } from './ambient.js';
import { PublishError } from './errors.js';
import { AZURE_DEVOPS_AUDIENCE, AZURE_DEVOPS_ISSUER_BASE } from './ambient.js';

export interface BasicCredentials {
  username: string;
  password: string;
  /** Where they came from, for messages: `--token`, `PIER_TOKEN`, `TWINE_PASSWORD`, … */
  source: string;
}

export interface ExplicitInputs {
  token?: string;
  username?: string;
  password?: string;
  /** From configuration (a .pypirc section): below every flag and variable. */
  configured?: { username?: string; password: string; source: string };
}

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** The explicit credentials, or null when trusted publishing should be used. */
export function explicitCredentials(
  inputs: ExplicitInputs,
  env: Readonly<Record<string, string | undefined>>,
): BasicCredentials | null {
  if (given(inputs.token))
    return { username: '__token__', password: inputs.token.trim(), source: '--token' };
  if (given(inputs.password))
    return {
      username: given(inputs.username) ? inputs.username : '__token__',
      password: inputs.password,
      source: 'password',
    };
  if (given(env.PIER_TOKEN))
    return { username: '__token__', password: env.PIER_TOKEN.trim(), source: 'PIER_TOKEN' };
  if (given(env.TWINE_PASSWORD))
    return {
      username: given(env.TWINE_USERNAME) ? env.TWINE_USERNAME : '__token__',
      password: env.TWINE_PASSWORD,
      source: 'TWINE_PASSWORD',
    };
  const configured = inputs.configured;
  if (configured && given(configured.password))
    return {
      // As twine: TWINE_USERNAME wins over the file's username.
      username: given(env.TWINE_USERNAME)
        ? env.TWINE_USERNAME
        : given(configured.username)
          ? configured.username
          : '__token__',
      password: configured.password,
      source: configured.source,
    };
  return null;
}

export function basicAuthorization(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** The OIDC token in a file (for a CI platform the client does not detect by itself). */
export async function readOidcTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PublishError('usage', `--oidc-token-file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const token = text.trim();
  if (decodeJwtPayload(token) === null)
    throw new PublishError('usage', `--oidc-token-file ${path} does not hold a JWT`, {
      hints: ['Write the OIDC token (header.payload.signature) and nothing else into the file.'],
    });
  return token;
}

/**
 * The audience a token's platform always writes, which an index expects instead of its own:
 * Azure DevOps' (ambient.ts), for a token of its issuers; else undefined.
 */
export function platformAudienceOf(token: string): string | undefined {
  const iss = decodeJwtPayload(token)?.iss;
  return typeof iss === 'string' && iss.startsWith(AZURE_DEVOPS_ISSUER_BASE)
    ? AZURE_DEVOPS_AUDIENCE
    : undefined;
}

/**
 * Checks that a token was minted for `audience` (as `id` 1.6.1 does), so that a wrong `aud` is
 * reported here rather than as an opaque refusal by the index.
 */
export function checkAudience(
  token: string,
  expected: string,
  source: string,
  host: string,
  /** The audience the platform always writes, which the index expects instead (Azure DevOps). */
  platformAudience?: string,
): void {
  const claims = decodeJwtPayload(token);
  if (claims === null)
    throw new PublishError('no-id-token', `The OIDC token from ${source} is not a JWT`);
  const audience = platformAudience ?? expected;
  const aud = claims.aud;
  const ok = aud === audience || (Array.isArray(aud) && aud.includes(audience));
  if (!ok)
    throw new PublishError(
      'no-id-token',
      `The OIDC token from ${source} is for the audience ${JSON.stringify(aud ?? null)}, but ${host} expects '${audience}'`,
      {
        hints: [
          source === 'BITBUCKET_STEP_OIDC_TOKEN'
            ? bitbucketAudienceHint(audience)
            : source.endsWith('_ID_TOKEN')
              ? `Set \`aud: ${audience}\` for ${source} under \`id_tokens:\` in .gitlab-ci.yml.`
              : `Request the token for the audience '${audience}' (GET https://${host}/_/oidc/audience).`,
        ],
      },
    );
}
