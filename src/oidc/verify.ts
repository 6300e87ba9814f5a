// Verifying a CI job's OIDC token (reference §2.1): the issuer is looked up from the unverified
// `iss` among registered issuers before any network request; then only asymmetric signatures
// (RS256, ES256) with a `kid` from the issuer's key set; `iss`, `iat`, `exp` and `aud` required
// with 30 s of leeway; `aud` exactly the configured audience, as one string (a list is refused,
// but for a platform that always writes one: then a list of that audience alone, see
// `Provider.audienceList`; a platform whose audience cannot be chosen has its own fixed one
// instead, see `Provider.fixedAudience`);
// every segment in canonical base64url; a lifetime (`exp` - `iat`) of at most six hours. And the
// single-use key of a verified token (its `jti`, or what the issuer signed).
import { createHash } from 'node:crypto';
import {
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
} from 'jose';
import type { Issuer, IssuerService } from './issuers.js';
import { KeyNotFoundError, KeysUnavailableError, type JwksCache } from './jwks.js';

export const LEEWAY_SECONDS = 30;
export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256'] as const;
/**
 * The longest lifetime (`exp` - `iat`) of a token pier accepts: six hours, GitHub Actions' longest
 * job. GitHub's tokens live 5 minutes, Google's one hour, GitLab's until the job's timeout (one
 * hour by default). A token valid for days was not made for one CI job, and its single-use record
 * would have to be kept as long.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 6 * 3600;

export type ErrorCode =
  | 'invalid-payload'
  | 'not-enabled'
  | 'invalid-token'
  | 'invalid-pending-publisher'
  | 'invalid-publisher'
  | 'invalid-reuse-token';

export class ExchangeError extends Error {
  /** Work to do once the failed exchange's transaction has ended. */
  afterwards?: () => Promise<void>;

  constructor(
    readonly code: ErrorCode,
    description: string,
  ) {
    super(description);
  }
}

export interface Unverified {
  issuerUrl: string;
  issuer: Issuer;
}

/** Step 1: what the token claims to be, and whether its issuer is one we know (no network). */
export async function identifyIssuer(raw: string, issuers: IssuerService): Promise<Unverified> {
  let payload: JWTPayload;
  try {
    decodeProtectedHeader(raw);
    payload = decodeJwt(raw);
  } catch {
    throw new ExchangeError('invalid-payload', 'malformed JWT');
  }
  if (typeof payload.iss !== 'string') throw new ExchangeError('invalid-payload', 'malformed JWT');
  const issuer = await issuers.find(payload.iss);
  if (!issuer) throw new ExchangeError('invalid-payload', 'unknown trusted publishing issuer');
  return { issuerUrl: payload.iss, issuer };
}

function invalid(reason: string): ExchangeError {
  return new ExchangeError('invalid-token', `malformed or invalid token: ${reason}`);
}

function describeAud(aud: unknown): string {
  return Array.isArray(aud) ? `a list ${JSON.stringify(aud)}` : JSON.stringify(aud);
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Whether a JWS segment is in the one canonical base64url form (RFC 7515 §2, RFC 4648 §3.5): the
 * URL-safe alphabet only, no padding, no whitespace, and zero in the bits the last character has
 * beyond the data. Decoders accept more (jose's ignores whitespace, padding and those bits), so
 * one signature could otherwise be written in many ways.
 */
export function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return false;
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

const SEGMENT_NAMES = ['header', 'payload', 'signature'] as const;

/** The compact JWS's three segments, each canonical; else why not. */
function canonicalSegmentsProblem(raw: string): string | null {
  const segments = raw.split('.');
  if (segments.length !== 3) return 'a JWT has three segments';
  for (let i = 0; i < 3; i++)
    if (!isCanonicalBase64url(segments[i]!))
      return `the ${SEGMENT_NAMES[i]} is not in canonical base64url (no padding, whitespace or stray bits)`;
  return null;
}

/**
 * The key of a verified token's single-use record: its `jti` when it has one; else (Google and
 * ActiveState tokens need none) the SHA-256 of what the issuer signed, the `header.payload`
 * signing input. Not of the whole token: a signature has several encodings, and an ES256
 * signature (r, s) has a twin (r, n - s) that verifies too, but the signed text is one.
 */
export function singleUseKey(raw: string, claims: Readonly<Record<string, unknown>>): string {
  if (typeof claims.jti === 'string' && claims.jti !== '') return claims.jti;
  const signingInput = raw.slice(0, raw.lastIndexOf('.'));
  return `sha256:${createHash('sha256').update(signingInput).digest('hex')}`;
}

/** How a platform writes `aud` (the provider of the issuer's kind says). */
export interface AudienceForm {
  /** `aud` may be a list holding the audience and nothing else (the platform never writes a string). */
  list?: boolean;
  /**
   * The audience the platform always writes, expected instead of the index's (Azure DevOps'
   * api://AzureADTokenExchange): a token that is not bound to this index.
   */
  fixed?: string;
}

/** Whether `aud` is the audience in the form the platform writes it. */
export function audienceMatches(aud: unknown, audience: string, form: AudienceForm = {}): boolean {
  if (aud === audience) return true;
  return form.list === true && Array.isArray(aud) && aud.length === 1 && aud[0] === audience;
}

/** Step 2: the signature and the registered claims. Returns the verified claims. */
export async function verifySignedToken(
  raw: string,
  issuer: Issuer,
  jwks: JwksCache,
  indexAudience: string,
  now: () => number = Date.now,
  form: AudienceForm = {},
): Promise<Record<string, unknown>> {
  const audience = form.fixed ?? indexAudience;
  const segmentsProblem = canonicalSegmentsProblem(raw);
  if (segmentsProblem !== null) throw invalid(segmentsProblem);
  const header = decodeProtectedHeader(raw);
  const alg = header.alg;
  if (typeof alg !== 'string' || !(ACCEPTED_ALGORITHMS as readonly string[]).includes(alg))
    throw invalid(
      `algorithm ${JSON.stringify(alg ?? null)} is not accepted (only ${ACCEPTED_ALGORITHMS.join(', ')})`,
    );
  if (typeof header.kid !== 'string' || header.kid === '')
    throw invalid('the token has no key id (kid)');
  const unverified = decodeJwt(raw);
  for (const claim of ['iss', 'iat', 'exp', 'aud'] as const)
    if (unverified[claim] === undefined) throw invalid(`missing required claim '${claim}'`);
  if (typeof unverified.aud !== 'string' && !audienceMatches(unverified.aud, audience, form))
    throw invalid(
      form.list
        ? `the audience must be '${audience}' (or a list of it alone), got ${describeAud(unverified.aud)}`
        : `the audience must be the single string '${audience}', got ${describeAud(unverified.aud)}`,
    );
  if (!audienceMatches(unverified.aud, audience, form))
    throw invalid(`the audience must be '${audience}', got ${describeAud(unverified.aud)}`);
  if (typeof unverified.exp === 'number' && typeof unverified.iat === 'number') {
    const lifetime = unverified.exp - unverified.iat;
    if (lifetime > MAX_TOKEN_LIFETIME_SECONDS)
      throw invalid(
        `the token is valid for ${Math.round(lifetime)} seconds (exp - iat), longer than the ${MAX_TOKEN_LIFETIME_SECONDS} seconds pier accepts`,
      );
  }

  let key;
  try {
    key = await jwks.key(issuer, header.kid, alg);
  } catch (err) {
    if (err instanceof KeyNotFoundError || err instanceof KeysUnavailableError)
      throw invalid(err.message);
    throw invalid(`the issuer's key '${header.kid}' is unusable`);
  }
  const currentDate = new Date(now());
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(raw, key, {
      algorithms: [alg],
      issuer: issuer.url,
      audience,
      clockTolerance: LEEWAY_SECONDS,
      requiredClaims: ['iss', 'iat', 'exp', 'aud'],
      currentDate,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalid('the token has expired');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed)
      throw invalid('the signature does not verify');
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      if (err.claim === 'nbf') throw invalid('the token is not valid yet (nbf)');
      throw invalid(`claim '${err.claim}' failed: ${err.reason}`);
    }
    // Anything else jose throws is about the token (its own input), except a TypeError: a key
    // that cannot verify, whose detail is the issuer's business and not the caller's.
    if (err instanceof joseErrors.JOSEError) throw invalid(err.message);
    throw invalid(`the issuer's key '${header.kid}' is unusable`);
  }
  if (
    typeof payload.iat !== 'number' ||
    payload.iat > currentDate.getTime() / 1000 + LEEWAY_SECONDS
  )
    throw invalid('the token was issued in the future (iat)');
  return payload as Record<string, unknown>;
}
