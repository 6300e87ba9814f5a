// "A pier proxying an upstream", as the real-client tests need it: an upstream `pier` hosting
// public packages, and a pier whose upstream it is, hosting a team's package that depends on
// them. Each client test (pip, poetry, pdm) installs through the second and then again with the
// upstream stopped.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, type TestServer } from './server.js';
import { postUpload, uploadParts } from './upload.js';
import { makeWheel, metadataText } from './dists.js';
import type { Config } from '../../src/config.js';

/**
 * Publishes `name` 1.0, a wheel whose module `name` (with '_') sets NAME to the project's name,
 * depending on `requires` when given.
 */
export async function publishModule(
  server: TestServer,
  token: string,
  name: string,
  requires = '',
): Promise<void> {
  const metadata = metadataText(name, '1.0', requires ? `Requires-Dist: ${requires}` : '');
  const module = name.replace(/-/g, '_');
  const init = `NAME = ${JSON.stringify(name)}\n`;
  const wheel =
    'Wheel-Version: 1.0\nGenerator: pier-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n';
  const distInfo = `${module}-1.0.dist-info`;
  // Installers other than pip (poetry's and pdm's) refuse a wheel whose RECORD misses a file.
  const recorded = {
    [`${module}/__init__.py`]: init,
    [`${distInfo}/METADATA`]: metadata,
    [`${distInfo}/WHEEL`]: wheel,
  };
  const w = await makeWheel({
    name,
    version: '1.0',
    metadata,
    extra: { [`${module}/__init__.py`]: init },
    distInfo: { WHEEL: wheel, RECORD: `${record(recorded)}${distInfo}/RECORD,,\n` },
  });
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({ ...w, fields: { name, version: '1.0' } }),
  );
  assert.equal(res.status, 200, res.body);
}

/** RECORD lines (PEP 376/427) for these files: path, urlsafe-base64 SHA-256, size. */
function record(files: Record<string, string>): string {
  return Object.entries(files)
    .map(([path, text]) => {
      const digest = createHash('sha256').update(text).digest('base64url');
      return `${path},sha256=${digest},${Buffer.byteLength(text)}\n`;
    })
    .join('');
}

export interface ProxyPair {
  /** The upstream index (another pier), hosting `upstreamProjects`. */
  upstream: TestServer;
  /** The pier proxying it, hosting `team-app`, which requires `public-dep`. */
  pier: TestServer;
  /** The upstream's Simple root, as pier is configured with it. */
  upstreamUrl: string;
  close(): Promise<void>;
}

export async function startProxyPair(
  opts: { upstreamProjects?: string[]; pier?: Partial<Record<keyof Config, unknown>> } = {},
): Promise<ProxyPair> {
  const upstream = await startServer();
  const upToken = await upstream.userWithToken('public', { mayCreateProjects: true });
  for (const name of opts.upstreamProjects ?? ['public-dep'])
    await publishModule(upstream, upToken, name);
  const upstreamUrl = `${upstream.url}/simple/`;
  const pier = await startServer({ upstreamUrl, ...opts.pier });
  const token = await pier.userWithToken('team', { mayCreateProjects: true });
  await publishModule(pier, token, 'team-app', 'public-dep');
  return {
    upstream,
    pier,
    upstreamUrl,
    async close() {
      await pier.close();
      await upstream.close();
    },
  };
}

/**
 * Stops the upstream and makes every cached page older than its freshness lifetime, so that the
 * next install asks the (gone) upstream and is answered from the cache, marked stale.
 */
export async function stopUpstream(pair: ProxyPair): Promise<void> {
  await pair.upstream.close();
  await pair.pier.services.proxy.drain();
  await pair.pier.services.db.kysely.updateTable('upstream_pages').set({ checked_at: 0 }).execute();
}
