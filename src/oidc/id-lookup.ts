// The immutable ids a registration may leave to pier, per provider: looked up from the
// platform's API before the provider validates the fields (its rules stay free of I/O). GitHub's
// owner id (./owner-lookup.ts) and Forgejo's repository and owner ids (./forgejo-lookup.ts); every
// other provider's ids are given by hand. A failed lookup is a message for the field it fills.
import { completeForgejoIds } from './forgejo-lookup.js';
import type { Issuer } from './issuers.js';
import { lookupOwner } from './owner-lookup.js';
import type { ProviderKind } from './providers/types.js';

export type IdLookupResult = { ok: true } | { ok: false; errors: Record<string, string> };

/** Fills in the looked-up fields of `fields` (in place), or says why not. */
type IdLookup = (
  issuer: Issuer,
  fields: Record<string, string | undefined>,
  fetchImpl?: typeof fetch,
) => Promise<IdLookupResult>;

async function completeGitHubOwnerId(
  issuer: Issuer,
  fields: Record<string, string | undefined>,
  fetchImpl?: typeof fetch,
): Promise<IdLookupResult> {
  if (fields.ownerId || !fields.owner) return { ok: true };
  const found = await lookupOwner(issuer, fields.owner.trim(), fetchImpl);
  if (!found.ok) return { ok: false, errors: { ownerId: found.message } };
  fields.owner = found.login;
  fields.ownerId = found.id;
  return { ok: true };
}

export const ID_LOOKUPS: Readonly<Partial<Record<ProviderKind, IdLookup>>> = {
  github: completeGitHubOwnerId,
  forgejo: completeForgejoIds,
};

export async function completeIds(
  kind: ProviderKind,
  issuer: Issuer,
  fields: Record<string, string | undefined>,
  fetchImpl?: typeof fetch,
): Promise<IdLookupResult> {
  const lookup = ID_LOOKUPS[kind];
  return lookup ? lookup(issuer, fields, fetchImpl) : { ok: true };
}
