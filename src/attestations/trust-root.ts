// The Sigstore trust root attestations are verified against: the certificate authorities
// (Fulcio), transparency logs (Rekor), CT logs and timestamp authorities, with the time each
// key was valid. Either Sigstore's public-good root as shipped with @sigstore/tuf (its embedded
// `trusted_root.json`: usable offline, with no network request), or an operator's
// `trusted_root.json` (PIER_SIGSTORE_TRUSTED_ROOT) for a private Sigstore. Between the two, a
// root that `pier attestations refresh-trust-root` took through TUF into the data folder
// (tuf-refresh.ts) replaces the shipped one: the operator's file still wins.
//
// This module checks a root cheaply (readable, JSON, at least one CA and one log), which
// `pier serve` does at start; sigstore-js, which turns it into keys and certificates, is loaded
// only with the first upload that carries attestations (trust-material.ts), off the start path.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

const PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';

export interface TrustRoot {
  /** The trusted_root.json document (sigstore-js reads it: trust-material.ts). */
  json: Record<string, unknown>;
  /** Where it came from, for messages: "Sigstore's public-good root shipped with pier" or the path. */
  source: string;
  /**
   * The newest start of validity of any key in the root. A root is as fresh as its newest key:
   * attestations from a log shard or CA rotated in after a stale root was taken cannot verify.
   */
  newestKey: Date | null;
  /** The shipped root, one refreshed through TUF, or the operator's own (never refreshed by pier). */
  origin: 'shipped' | 'refreshed' | 'operator';
}

/** A trust root that cannot be used: a configuration error (`pier serve` stops on it). */
export class TrustRootError extends ConfigError {}

function newestKeyOf(json: Record<string, unknown>): Date | null {
  let newest: number | null = null;
  const starts = (list: unknown, pick: (item: Record<string, unknown>) => unknown) => {
    if (!Array.isArray(list)) return;
    for (const item of list as Record<string, unknown>[]) {
      const start = (pick(item) as { start?: unknown } | undefined)?.start;
      const at = typeof start === 'string' ? Date.parse(start) : NaN;
      if (!Number.isNaN(at) && (newest === null || at > newest)) newest = at;
    }
  };
  const keyValidity = (i: Record<string, unknown>) =>
    (i.publicKey as Record<string, unknown> | undefined)?.validFor;
  starts(json.tlogs, keyValidity);
  starts(json.ctlogs, keyValidity);
  starts(json.certificateAuthorities, (i) => i.validFor);
  starts(json.timestampAuthorities, (i) => i.validFor);
  return newest === null ? null : new Date(newest);
}

/**
 * A trust root from the JSON of a `trusted_root.json`, its shape checked. Throws TrustRootError.
 * (A key or certificate that does not parse is found when it is first used: trust-material.ts.)
 */
export function trustRootFromJson(
  json: unknown,
  source: string,
  origin: TrustRoot['origin'] = 'operator',
): TrustRoot {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new TrustRootError(`${source}: a trusted root must be a JSON object`);
  const record = json as Record<string, unknown>;
  const hasAuthority =
    Array.isArray(record.certificateAuthorities) && record.certificateAuthorities.length > 0;
  const hasLog = Array.isArray(record.tlogs) && record.tlogs.length > 0;
  if (!hasAuthority || !hasLog)
    throw new TrustRootError(
      `${source}: a trusted root needs at least one certificate authority and one transparency log`,
    );
  return { json: record, source, newestKey: newestKeyOf(record), origin };
}

/** Sigstore's public-good trust root as embedded in @sigstore/tuf (no network). */
export function publicGoodTrustRoot(): TrustRoot {
  const require = createRequire(import.meta.url);
  const seeds = require('@sigstore/tuf/seeds.json') as Record<
    string,
    { targets: Record<string, string> }
  >;
  const encoded = seeds[PUBLIC_GOOD_TUF]?.targets['trusted_root.json'];
  if (encoded === undefined) throw new TrustRootError('@sigstore/tuf has no embedded trusted root');
  const json = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as unknown;
  return trustRootFromJson(json, "Sigstore's public-good trust root shipped with pier", 'shipped');
}

/** Where `pier attestations refresh-trust-root` writes the root it verified through TUF. */
export function refreshedTrustRootPath(dataDir: string): string {
  return join(dataDir, 'sigstore-trusted-root.json');
}

/** The root refreshed through TUF into the data folder when there is one, else the shipped one. */
export function embeddedOrRefreshedTrustRoot(dataDir: string | null): TrustRoot {
  if (dataDir === null) return publicGoodTrustRoot();
  const refreshed = refreshedTrustRootPath(dataDir);
  if (!existsSync(refreshed)) return publicGoodTrustRoot();
  const root = readTrustRootFile(refreshed);
  return {
    ...root,
    source: `Sigstore's public-good trust root refreshed through TUF (${refreshed})`,
  };
}

/**
 * The operator's trust root (a trusted_root.json path); else the one refreshed through TUF into
 * `dataDir`; else the public-good one shipped with pier.
 */
export function loadTrustRoot(path: string | null, dataDir: string | null = null): TrustRoot {
  if (path === null) return embeddedOrRefreshedTrustRoot(dataDir);
  return readTrustRootFile(path);
}

function readTrustRootFile(path: string): TrustRoot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TrustRootError(`${path}: cannot read the trusted root: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TrustRootError(`${path}: the trusted root is not JSON: ${(err as Error).message}`);
  }
  return trustRootFromJson(json, path);
}

/**
 * What to add to a verification failure that a stale trust root explains: a signing key or CA
 * the root does not know. Null for failures a fresher root would not fix.
 */
export function staleRootHint(root: TrustRoot, failure: string): string | null {
  // sigstore-js's chain failure without a cause: no CA of the root was valid at the signing time.
  if (
    !/key not found|no trusted certificate path|no valid certificate path|Failed to verify certificate chain$/.test(
      failure,
    )
  )
    return null;
  const asOf = root.newestKey
    ? `, whose newest key dates from ${root.newestKey.toISOString().slice(0, 10)}`
    : '';
  return `the trust root (${root.source}${asOf}) does not know the log or certificate authority that signed this attestation: it may be stale (a new log shard or CA rotation), or the attestation comes from another Sigstore instance${
    root.origin === 'operator'
      ? ''
      : " ('pier attestations refresh-trust-root' takes the newest root through TUF)"
  }`;
}
