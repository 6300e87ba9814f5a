// `pier attestations refresh-trust-root`: takes Sigstore's newest `trusted_root.json` through a
// TUF update (@sigstore/tuf over tuf-js: root rotation, then timestamp, snapshot and targets
// metadata, each signature, version, expiry, length and hash checked) and writes it, atomically,
// into the data folder, where `pier serve` prefers it to the root shipped with pier
// (trust-root.ts). Nothing is written unless the whole update verifies.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MIRROR_URL, initTUF } from '@sigstore/tuf';
import { PierError } from '../errors.js';
import {
  embeddedOrRefreshedTrustRoot,
  refreshedTrustRootPath,
  trustRootFromJson,
  TrustRootError,
  type TrustRoot,
} from './trust-root.js';

export { DEFAULT_MIRROR_URL };

/** A refresh that did not happen: the mirror unreachable or its metadata refused. */
export class TrustRootRefreshError extends PierError {
  constructor(message: string) {
    super(502, message);
  }
}

export interface TrustKey {
  kind: 'certificate authority' | 'transparency log' | 'CT log' | 'timestamp authority';
  /** The log's key id, or the authority's URI and subject. */
  id: string;
  url: string | null;
  validFrom: string | null;
  validUntil: string | null;
}

export interface RefreshResult {
  path: string;
  mirrorUrl: string;
  previous: string;
  added: TrustKey[];
  removed: TrustKey[];
  newestKey: Date | null;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null ? (v as Rec) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Every key and authority of a root, in a comparable form. */
export function trustKeysOf(root: TrustRoot): TrustKey[] {
  const keys: TrustKey[] = [];
  const logs = (list: unknown, kind: TrustKey['kind']) => {
    for (const item of Array.isArray(list) ? list : []) {
      const r = rec(item);
      const validity = rec(rec(r.publicKey).validFor);
      keys.push({
        kind,
        id: str(rec(r.logId).keyId) ?? '?',
        url: str(r.baseUrl),
        validFrom: str(validity.start),
        validUntil: str(validity.end),
      });
    }
  };
  const authorities = (list: unknown, kind: TrustKey['kind']) => {
    for (const item of Array.isArray(list) ? list : []) {
      const r = rec(item);
      const subject = rec(r.subject);
      const validity = rec(r.validFor);
      keys.push({
        kind,
        id: [str(subject.organization), str(subject.commonName)].filter(Boolean).join('/') || '?',
        url: str(r.uri),
        validFrom: str(validity.start),
        validUntil: str(validity.end),
      });
    }
  };
  authorities(root.json.certificateAuthorities, 'certificate authority');
  logs(root.json.tlogs, 'transparency log');
  logs(root.json.ctlogs, 'CT log');
  authorities(root.json.timestampAuthorities, 'timestamp authority');
  return keys;
}

const keyOf = (k: TrustKey) => JSON.stringify([k.kind, k.id, k.url, k.validFrom, k.validUntil]);

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

function causeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    // @sigstore/tuf's wrappers name no more than their cause does.
    if (/^error (downloading target|refreshing TUF metadata)/.test(e.message) && e.cause) continue;
    if (!parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(': ') || String(err);
}

export interface RefreshOptions {
  dataDir: string;
  mirrorUrl?: string;
  /** The TUF root.json to start from for a mirror other than Sigstore's public-good one. */
  tufRootPath?: string;
}

/** Runs the TUF update and writes the verified trusted root; throws TrustRootRefreshError. */
export async function refreshTrustRoot(options: RefreshOptions): Promise<RefreshResult> {
  const mirrorUrl = (options.mirrorUrl ?? DEFAULT_MIRROR_URL).replace(/\/+$/, '');
  const previous = embeddedOrRefreshedTrustRoot(options.dataDir);
  let text: string;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    const tuf = await initTUF({
      mirrorURL: mirrorUrl,
      // TUF metadata, root rotations included, persists here between refreshes.
      cachePath: join(options.dataDir, 'sigstore-tuf'),
      rootPath: options.tufRootPath,
      retry: { retries: 1, minTimeout: 200, maxTimeout: 1000 },
      timeout: 10_000,
    });
    text = await tuf.getTarget('trusted_root.json');
  } catch (err) {
    throw new TrustRootRefreshError(
      `cannot refresh the Sigstore trust root from ${mirrorUrl}: ${causeChain(err)}; ` +
        `the trust root in use is unchanged (${previous.source})`,
    );
  }
  let next: TrustRoot;
  const path = refreshedTrustRootPath(options.dataDir);
  try {
    next = trustRootFromJson(JSON.parse(text) as unknown, `trusted_root.json from ${mirrorUrl}`);
  } catch (err) {
    const why = err instanceof TrustRootError ? err.message : causeChain(err);
    throw new TrustRootRefreshError(
      `cannot refresh the Sigstore trust root: ${why}; ` +
        `the trust root in use is unchanged (${previous.source})`,
    );
  }
  writeAtomically(path, text);
  const before = new Set(trustKeysOf(previous).map(keyOf));
  const after = new Set(trustKeysOf(next).map(keyOf));
  return {
    path,
    mirrorUrl,
    previous: previous.source,
    added: trustKeysOf(next).filter((k) => !before.has(keyOf(k))),
    removed: trustKeysOf(previous).filter((k) => !after.has(keyOf(k))),
    newestKey: next.newestKey,
  };
}

function keyLine(sign: string, k: TrustKey): string {
  const validity = `valid ${k.validFrom?.slice(0, 10) ?? '?'} to ${k.validUntil?.slice(0, 10) ?? 'now'}`;
  return `  ${sign} ${k.kind} ${k.url ?? ''} (${k.id}) ${validity}`.replace(/ {2,}\(/, ' (');
}

export function formatRefresh(r: RefreshResult): string {
  const lines = [`refreshed the Sigstore trust root from ${r.mirrorUrl} into ${r.path}`];
  if (r.added.length === 0 && r.removed.length === 0) lines.push(`  unchanged from ${r.previous}`);
  else lines.push(`  compared with ${r.previous}:`);
  for (const k of r.added) lines.push(keyLine('+', k));
  for (const k of r.removed) lines.push(keyLine('-', k));
  lines.push(`  newest key valid from ${r.newestKey?.toISOString().slice(0, 10) ?? 'unknown'}`);
  return lines.join('\n');
}

export function refreshJson(r: RefreshResult): Record<string, unknown> {
  const key = (k: TrustKey) => ({
    kind: k.kind,
    id: k.id,
    url: k.url,
    valid_from: k.validFrom,
    valid_until: k.validUntil,
  });
  return {
    path: r.path,
    mirror_url: r.mirrorUrl,
    previous: r.previous,
    changed: r.added.length > 0 || r.removed.length > 0,
    added: r.added.map(key),
    removed: r.removed.map(key),
    newest_key: r.newestKey?.toISOString() ?? null,
  };
}
