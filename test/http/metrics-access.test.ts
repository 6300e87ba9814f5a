// /metrics is read by whoever may read the index, or from the addresses PIER_METRICS_ALLOW
// names: an index that requires credentials for every read does not publish its metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, testConfig } from '../support/server.js';

async function metrics(url: string, token?: string) {
  const res = await fetch(`${url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.text() };
}

test('PIER_READ_ACCESS=authenticated: /metrics needs a credential', async () => {
  const server = await startServer({ readAccess: 'authenticated' });
  try {
    const anonymous = await metrics(server.url);
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.body, /pier_/);
    const reader = await server.userWithToken('reader', { scope: 'read' });
    const allowed = await metrics(server.url, reader);
    assert.equal(allowed.status, 200);
    assert.match(allowed.body, /pier_process_cpu_seconds_total/);
    assert.equal((await metrics(server.url, 'pypi-pier_not-a-token')).status, 401);
  } finally {
    await server.close();
  }
});

test('PIER_METRICS_ALLOW lets listed addresses in, and only them', async () => {
  const listed = await startServer({ readAccess: 'authenticated', metricsAllow: ['127.0.0.0/8'] });
  try {
    assert.equal((await metrics(listed.url)).status, 200);
  } finally {
    await listed.close();
  }
  // An allow-list also closes a public index's metrics to other addresses.
  const other = await startServer({ metricsAllow: ['10.0.0.0/8', '::1/128'] });
  try {
    assert.equal((await metrics(other.url)).status, 401);
    const reader = await other.userWithToken('reader', { scope: 'read' });
    assert.equal((await metrics(other.url, reader)).status, 200);
    assert.equal((await fetch(`${other.url}/simple/`)).status, 200, 'reads stay public');
  } finally {
    await other.close();
  }
  const open = await startServer();
  try {
    assert.equal((await metrics(open.url)).status, 200, 'public by default on a public index');
  } finally {
    await open.close();
  }
});

test('PIER_METRICS_ALLOW refuses what is not an address or a CIDR', () => {
  for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.1/x', '::1/129'])
    assert.throws(() => testConfig({ metricsAllow: bad }), /expected addresses or CIDRs/, bad);
  assert.deepEqual(testConfig({ metricsAllow: '10.0.0.0/8, ::1' }).metricsAllow, [
    '10.0.0.0/8',
    '::1',
  ]);
});
