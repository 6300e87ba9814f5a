import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError,
  effectivePublicUrl,
  loadConfig,
  parseDuration,
  parseSize,
} from '../src/config.js';
import { tempDir } from './support/tmp.js';

test('defaults: the embedded default under ./pier-data on 127.0.0.1:8080', () => {
  const cwd = tempDir();
  const c = loadConfig({ env: {}, cwd });
  assert.equal(c.dataDir, join(cwd, 'pier-data'));
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.databaseUrl, `sqlite://${join(cwd, 'pier-data', 'pier.sqlite3')}`);
  assert.equal(c.storageUrl, `file://${join(cwd, 'pier-data', 'files')}`);
  assert.equal(c.readAccess, 'public');
  assert.equal(c.maxUploadSize, 100 * 1024 * 1024);
  assert.equal(c.tokenTtl, 900);
  assert.equal(c.stagedTtl, 7 * 86400);
  assert.deepEqual(c.trustedProxies, []);
  assert.equal(effectivePublicUrl(c), 'http://127.0.0.1:8080');
});

test('flags win over environment variables, which win over pier.toml', () => {
  const cwd = tempDir();
  writeFileSync(
    join(cwd, 'pier.toml'),
    'port = 7000\nhost = "0.0.0.0"\nmax_upload_size = "1GiB"\ntrusted_proxies = ["10.0.0.1", "10.1.0.0/16"]\n',
  );
  const fromToml = loadConfig({ env: {}, cwd });
  assert.equal(fromToml.port, 7000);
  assert.equal(fromToml.maxUploadSize, 1024 ** 3);
  assert.deepEqual(fromToml.trustedProxies, ['10.0.0.1', '10.1.0.0/16']);
  assert.equal(effectivePublicUrl(fromToml), 'http://127.0.0.1:7000');
  const fromEnv = loadConfig({
    env: { PIER_PORT: '7001', PIER_TRUSTED_PROXIES: '192.168.0.1, 192.168.0.2' },
    cwd,
  });
  assert.equal(fromEnv.port, 7001);
  assert.equal(fromEnv.host, '0.0.0.0');
  assert.deepEqual(fromEnv.trustedProxies, ['192.168.0.1', '192.168.0.2']);
  const fromFlag = loadConfig({ env: { PIER_PORT: '7001' }, cwd, flags: { port: '7002' } });
  assert.equal(fromFlag.port, 7002);
  assert.equal(loadConfig({ env: { PIER_STAGED_TTL: '2d' }, cwd }).stagedTtl, 2 * 86400);
});

test('bad settings are clear errors', () => {
  const cwd = tempDir();
  const bad: [Record<string, string>, RegExp][] = [
    [{ PIER_PORT: 'eighty' }, /PIER_PORT: expected a port number/],
    [{ PIER_READ_ACCESS: 'everyone' }, /expected public or authenticated/],
    [{ PIER_OIDC_AUDIENCE: 'pypi' }, /cannot be 'pypi'/],
    [{ PIER_OIDC_AUDIENCE: 'testpypi' }, /cannot be 'testpypi'/],
    [{ PIER_MAX_UPLOAD_SIZE: 'lots' }, /expected a size/],
    [{ PIER_STAGED_TTL: '30' }, /PIER_STAGED_TTL: a staged release's lifetime must be between/],
    [{ PIER_STAGED_TTL: '400d' }, /must be between 1 minute and 366 days/],
    [{ PIER_STAGED_TTL: 'soon' }, /PIER_STAGED_TTL: expected a duration/],
    [{ PIER_PUBLIC_URL: 'ftp://x' }, /must be http or https/],
    [{ PIER_TLS_CERT: '/x.pem' }, /must be given together/],
  ];
  for (const [env, message] of bad)
    assert.throws(
      () => loadConfig({ env, cwd }),
      (err: Error) => err instanceof ConfigError && message.test(err.message),
    );
  writeFileSync(join(cwd, 'pier.toml'), 'prot = 1\n');
  assert.throws(() => loadConfig({ env: {}, cwd }), /unknown setting 'prot'/);
});

test('sizes and durations', () => {
  assert.equal(parseSize('100MiB'), 100 * 1024 * 1024);
  assert.equal(parseSize('1.5 GB'), 1.5e9);
  assert.equal(parseSize(4096), 4096);
  assert.throws(() => parseSize('0'));
  assert.equal(parseDuration('30d'), 30 * 86400);
  assert.equal(parseDuration('15m'), 900);
  assert.equal(parseDuration('900'), 900);
  assert.throws(() => parseDuration('-1'));
  assert.throws(() => parseDuration('1w'));
});

test('upstream: URL from flag, env or toml; userinfo moved out of the URL; bad values refused', () => {
  const cwd = tempDir();
  const c = loadConfig({
    env: {
      PIER_UPSTREAM_URL: 'https://bot:s%40cret@artifactory.example/api/pypi/simple',
      PIER_UPSTREAM_EXCLUDE: 'acme-*, internal_*',
      PIER_UPSTREAM_MIN_AGE: '3',
      PIER_UPSTREAM_OFFLINE: 'true',
    },
    cwd,
  });
  assert.equal(c.upstreamUrl, 'https://artifactory.example/api/pypi/simple/');
  assert.equal(c.upstreamUsername, 'bot');
  assert.equal(c.upstreamPassword, 's@cret');
  assert.ok(
    !JSON.stringify(c.upstreamUrl).includes('cret'),
    'the URL no longer holds the password',
  );
  assert.deepEqual(c.upstreamExclude, ['acme-*', 'internal_*']);
  assert.equal(c.upstreamMinAge, 3 * 86400);
  assert.equal(c.upstreamOffline, true);
  const off = loadConfig({ env: {}, cwd });
  assert.equal(off.upstreamUrl, null);
  assert.equal(off.upstreamTimeout, 10);
  const flag = loadConfig({
    env: { PIER_UPSTREAM_URL: 'https://a.example/simple/' },
    flags: { upstreamUrl: 'https://b.example/simple/' },
    cwd,
  });
  assert.equal(flag.upstreamUrl, 'https://b.example/simple/');
  writeFileSync(
    join(cwd, 'pier.toml'),
    'upstream_url = "https://pypi.org/simple/"\nupstream_ca = "/etc/ca.pem"\n',
  );
  const toml = loadConfig({ env: {}, cwd });
  assert.equal(toml.upstreamUrl, 'https://pypi.org/simple/');
  assert.equal(toml.upstreamCa, '/etc/ca.pem');
  for (const bad of ['ftp://x.example/', 'https://x.example/simple/?q=1', 'not a url'])
    assert.throws(
      () => loadConfig({ env: { PIER_UPSTREAM_URL: bad }, cwd: tempDir() }),
      ConfigError,
    );
  assert.throws(
    () => loadConfig({ env: { PIER_UPSTREAM_PASSWORD: 'x' }, cwd: tempDir() }),
    /needs PIER_UPSTREAM_USERNAME/,
  );
});

test('the Sigstore trust root: from env or toml, none by default', () => {
  const cwd = tempDir();
  assert.equal(loadConfig({ env: {}, cwd }).sigstoreTrustedRoot, null);
  const env = loadConfig({ env: { PIER_SIGSTORE_TRUSTED_ROOT: '/etc/pier/root.json' }, cwd });
  assert.equal(env.sigstoreTrustedRoot, '/etc/pier/root.json');
  writeFileSync(join(cwd, 'pier.toml'), 'sigstore_trusted_root = "/srv/root.json"\n');
  assert.equal(loadConfig({ env: {}, cwd }).sigstoreTrustedRoot, '/srv/root.json');
});
