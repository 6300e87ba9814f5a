// `pier attestations refresh-trust-root`: a real TUF repository (metadata and targets built and
// signed by @tufjs/repo-mock) served over loopback HTTP; the verified trusted_root.json lands in
// the data folder and the server then verifies against it. A tampered target, an expired
// timestamp, a target that is no trust root and an unreachable mirror are refused and leave the
// root in use as it was.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tufHandlers } from '@tufjs/repo-mock';
import { KeyPair } from '@tufjs/repo-mock/dist/key.js';
import {
  createRootMeta,
  createSnapshotMeta,
  createTargetsMeta,
  createTimestampMeta,
} from '@tufjs/repo-mock/dist/metadata.js';
import { collectTargets } from '@tufjs/repo-mock/dist/target.js';
import {
  publicGoodTrustRoot,
  refreshedTrustRootPath,
  staleRootHint,
  trustRootFromJson,
} from '../../src/attestations/trust-root.js';
import { runPier, startPierProcess, startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

interface Mirror {
  url: string;
  rootFile: string;
  close(): Promise<void>;
}

const mirrors: Mirror[] = [];

/**
 * A TUF repository whose targets metadata lists `content` as trusted_root.json; it serves
 * `served` in its place when given (a tampered target), and a timestamp expired yesterday when
 * asked.
 */
async function tufMirror(
  content: Buffer,
  opts: {
    served?: Buffer;
    expiredTimestamp?: boolean;
    rotatedRoot?: 'signed' | 'unsigned by the old key';
  } = {},
): Promise<Mirror> {
  const firstKey = new KeyPair();
  // A rotated root: version 2 hands every role to a new key, signed by the old root key and the
  // new one; the client starts from version 1 and must take the rotation to verify the rest.
  const keyPair = opts.rotatedRoot ? new KeyPair() : firstKey;
  const targetsMeta = createTargetsMeta(
    collectTargets([{ name: 'trusted_root.json', content }]),
    keyPair,
  );
  const snapshotMeta = createSnapshotMeta(targetsMeta, keyPair);
  const timestampMeta = createTimestampMeta(snapshotMeta, keyPair);
  if (opts.expiredTimestamp) {
    (timestampMeta.signed as { expires: string }).expires = new Date(
      Date.now() - 86_400_000,
    ).toISOString();
    timestampMeta.sign((data) => keyPair.sign(data), false);
  }
  const rootMeta = createRootMeta(firstKey);
  const rotated = createRootMeta(keyPair);
  (rotated.signed as { version: number }).version = 2;
  if (opts.rotatedRoot === 'signed') rotated.sign((data) => firstKey.sign(data), false);
  rotated.sign((data) => keyPair.sign(data), opts.rotatedRoot === 'signed');
  const handlers = tufHandlers(
    {
      rootMeta,
      snapshotMeta,
      timestampMeta,
      targetsMeta,
      targets: [{ name: 'trusted_root.json', content: opts.served ?? content }],
    },
    { metadataPathPrefix: '', targetPathPrefix: '/targets' },
  );
  if (opts.rotatedRoot)
    handlers.unshift({
      path: '/2.root.json',
      fn: () => ({ statusCode: 200, response: JSON.stringify(rotated.toJSON()) }),
    });
  const server: Server = createServer((req, res) => {
    const handler = handlers.find((h) => h.path === req.url);
    if (!handler) return void res.writeHead(404).end();
    const r = handler.fn();
    res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'application/octet-stream' });
    res.end(r.response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  const rootFile = join(tempDir('pier-tuf-'), 'root.json');
  writeFileSync(rootFile, JSON.stringify(rootMeta.toJSON()));
  const mirror = {
    url: `http://127.0.0.1:${address.port}`,
    rootFile,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  mirrors.push(mirror);
  return mirror;
}

/** The shipped root with one more transparency log, as after a new Rekor shard. */
function rootWithNewShard(baseUrl: string): Buffer {
  const json = structuredClone(publicGoodTrustRoot().json) as {
    tlogs: Record<string, unknown>[];
  };
  const last = structuredClone(json.tlogs[json.tlogs.length - 1]) as {
    baseUrl: string;
    logId: { keyId: string };
    publicKey: { validFor: { start: string; end?: string } };
  };
  last.baseUrl = baseUrl;
  last.logId.keyId = Buffer.from(baseUrl).toString('base64');
  last.publicKey.validFor = { start: '2026-11-01T00:00:00Z' };
  json.tlogs.push(last);
  return Buffer.from(JSON.stringify(json, null, 2));
}

let index: TestServer;
let refreshed: Buffer;
let refreshedFile: string;

const refresh = (mirror: Mirror, ...extra: string[]) =>
  runPier(
    [
      'attestations',
      'refresh-trust-root',
      '--mirror-url',
      mirror.url,
      '--tuf-root',
      mirror.rootFile,
      ...extra,
    ],
    index.env(),
  );

before(async () => {
  index = await startServer();
  refreshedFile = refreshedTrustRootPath(index.dataDir);
  refreshed = rootWithNewShard('https://rekor-shard-9.example');
});

after(async () => {
  await index?.close();
  for (const m of mirrors) await m.close();
});

test('a refresh writes the verified trusted root and names the key it adds', async () => {
  const mirror = await tufMirror(refreshed);
  const r = await refresh(mirror);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(refreshedFile), refreshed);
  assert.match(r.stdout, new RegExp(`from ${mirror.url} into ${refreshedFile}`));
  assert.match(r.stdout, /compared with Sigstore's public-good trust root shipped with pier/);
  assert.match(
    r.stdout,
    /\+ transparency log https:\/\/rekor-shard-9\.example \(\S+\) valid 2026-11-01 to now/,
  );
  assert.match(r.stdout, /newest key valid from 2026-11-01/);

  // Again from the same repository: nothing changed, said in JSON.
  const again = await refresh(mirror, '--json');
  assert.equal(again.code, 0, again.stderr);
  const json = JSON.parse(again.stdout) as Record<string, unknown>;
  assert.equal(json.changed, false);
  assert.deepEqual(json.added, []);
  assert.equal(json.newest_key, '2026-11-01T00:00:00.000Z');
  assert.match(String(json.previous), /refreshed through TUF/);
});

test('the server verifies against the refreshed root; an operator’s root still wins', async () => {
  const next = await startServer(index.sameData());
  try {
    const root = next.services.trustRoot();
    assert.match(root.source, /refreshed through TUF/);
    assert.equal(root.newestKey?.toISOString(), '2026-11-01T00:00:00.000Z');
    assert.ok(JSON.stringify(root.json).includes('rekor-shard-9.example'));
  } finally {
    await next.close();
  }
  // `pier serve` says at start which root it verifies against, and how fresh it is.
  const serve = await startPierProcess(index.env());
  try {
    const out = await serve.waitForOutput(/"sigstore_trust_root_newest_key"/);
    assert.match(
      out,
      /"sigstore_trust_root":"Sigstore's public-good trust root refreshed through TUF \([^"]*sigstore-trusted-root\.json\)"/,
    );
    assert.match(out, /"sigstore_trust_root_newest_key":"2026-11-01T00:00:00\.000Z"/);
  } finally {
    await serve.stop();
  }
  const own = join(tempDir(), 'trusted_root.json');
  writeFileSync(own, JSON.stringify(publicGoodTrustRoot().json));
  const operator = await startServer({ ...index.sameData(), sigstoreTrustedRoot: own });
  try {
    assert.equal(operator.services.trustRoot().source, own);
  } finally {
    await operator.close();
  }
});

test('a target that does not match its signed hash is refused and nothing is written', async () => {
  // Same length: only the hash tells them apart.
  const mirror = await tufMirror(rootWithNewShard('https://rekor-shard-10.example'), {
    served: rootWithNewShard('https://rekor-evil-010.example'),
  });
  const r = await refresh(mirror);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: cannot refresh the Sigstore trust root from http:\/\/127\.0\.0\.1/,
  );
  assert.match(r.stderr, /the trust root in use is unchanged \(.*refreshed through TUF/);
  assert.match(r.stderr, /hash/i);
  assert.doesNotMatch(r.stderr, /undefined/);
  assert.deepEqual(readFileSync(refreshedFile), refreshed);
});

test('an expired timestamp is refused and nothing is written', async () => {
  const mirror = await tufMirror(rootWithNewShard('https://rekor-shard-11.example'), {
    expiredTimestamp: true,
  });
  const r = await refresh(mirror);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot refresh .*expired/i);
  assert.deepEqual(readFileSync(refreshedFile), refreshed);
});

test('a signed target that is no trust root is refused and nothing is written', async () => {
  const mirror = await tufMirror(Buffer.from(JSON.stringify({ mediaType: 'x', tlogs: [] })));
  const r = await refresh(mirror);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /cannot refresh the Sigstore trust root: trusted_root\.json from .*needs at least one certificate authority and one transparency log/,
  );
  assert.match(r.stderr, /the trust root in use is unchanged/);
  assert.deepEqual(readFileSync(refreshedFile), refreshed);
});

test('a root rotation the old root key did not sign is refused and nothing is written', async () => {
  const mirror = await tufMirror(rootWithNewShard('https://rekor-shard-13.example'), {
    rotatedRoot: 'unsigned by the old key',
  });
  const r = await refresh(mirror);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot refresh .*root was signed by 0\/1 keys/);
  assert.match(r.stderr, /the trust root in use is unchanged/);
  assert.deepEqual(readFileSync(refreshedFile), refreshed);
});

test('an unreachable mirror leaves the root in use and says so', async () => {
  const mirror = await tufMirror(refreshed);
  await mirror.close();
  mirrors.splice(mirrors.indexOf(mirror), 1);
  const r = await refresh(mirror);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`cannot refresh the Sigstore trust root from ${mirror.url}`));
  assert.match(r.stderr, /ECONNREFUSED/);
  assert.match(r.stderr, /the trust root in use is unchanged/);
  assert.deepEqual(readFileSync(refreshedFile), refreshed);
});

test('a refresh needs an existing index', async () => {
  const mirror = await tufMirror(refreshed);
  const empty = tempDir();
  const r = await runPier(
    [
      'attestations',
      'refresh-trust-root',
      '--mirror-url',
      mirror.url,
      '--tuf-root',
      mirror.rootFile,
    ],
    { PIER_DATA_DIR: empty, PIER_DATABASE_URL: '', PIER_STORAGE_URL: '' },
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no index at/);
});

test('a failure a stale root explains points to the refresh, except for an operator’s root', () => {
  const shipped = staleRootHint(publicGoodTrustRoot(), 'key not found');
  assert.match(shipped ?? '', /may be stale .*'pier attestations refresh-trust-root'/);
  const own = trustRootFromJson(publicGoodTrustRoot().json, '/etc/pier/trusted_root.json');
  assert.doesNotMatch(staleRootHint(own, 'key not found') ?? '', /refresh-trust-root/);
});

test('a refresh follows a rotation of the TUF root and keeps the rotated root for the next', async () => {
  const next = rootWithNewShard('https://rekor-shard-12.example');
  const mirror = await tufMirror(next, { rotatedRoot: 'signed' });
  const r = await refresh(mirror);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(refreshedFile), next);
  assert.match(r.stdout, /\+ transparency log https:\/\/rekor-shard-12\.example/);
  const kept = readFileSync(
    join(index.dataDir, 'sigstore-tuf', encodeURIComponent(new URL(mirror.url).host), 'root.json'),
    'utf8',
  );
  assert.equal((JSON.parse(kept) as { signed: { version: number } }).signed.version, 2);
});
