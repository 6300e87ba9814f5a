// The kinds `pier dev-oidc` imitates, from the registry: every provider whose module declares a
// `dev` token shape (src/oidc/providers/<kind>.ts).
import { PROVIDERS, PROVIDER_KINDS } from '../oidc/providers/index.js';
import type { ProviderKind } from '../oidc/providers/types.js';
import type { DevClaimsIn } from './claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from './shape.js';

/** The kinds `pier dev-oidc` can imitate: the registry's providers that declare a `dev` shape. */
export function devKinds(): ProviderKind[] {
  return PROVIDER_KINDS.filter((kind) => PROVIDERS[kind].dev !== undefined);
}

/** The shape of a kind, or undefined when its provider declares none. */
export function devShape(kind: string): DevTokenShape | undefined {
  return Object.hasOwn(PROVIDERS, kind) ? PROVIDERS[kind as ProviderKind].dev : undefined;
}

/** The claims a token carries besides iss, aud, iat, nbf, exp and jti. */
export function jobClaims(
  kind: ProviderKind,
  job: JobSettings,
  file: DevClaimsIn,
  issuer: string,
): DevClaims {
  const shape = devShape(kind);
  if (!shape) throw new Error(`no development token shape for ${kind}`);
  return shape.claims(job, file, issuer);
}
