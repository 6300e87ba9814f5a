// @backends: runs on the embedded default and on PostgreSQL with S3.
// Operations: health, metrics, logs that never hold a secret, the client address behind trusted
// proxies only, TLS, and a graceful shutdown that lets an upload in flight finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get as httpsGet } from 'node:https';
import { request as httpRequest } from 'node:http';
import { OPERATOR, runPier, startPierProcess, startServer } from '../support/server.js';
import { backendEnv } from '../support/backend.js';
import { multipart, postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { testCertificates } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { createVenv, pipInstall } from '../support/python.js';
import { sample } from '../support/fixtures.js';
import { twineUpload } from '../support/python.js';

test('/healthz and /metrics', async () => {
  const server = await startServer();
  try {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    await fetch(`${server.url}/simple/`);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      metrics,
      /pier_http_request_duration_seconds_count\{method="GET",route="\/simple\/",status="200"\} 1/,
    );
    assert.match(metrics, /pier_process_cpu_seconds_total/);
  } finally {
    await server.close();
  }
});

test('logs never contain a token or a password, even of refused requests', async () => {
  const env = { PIER_DATA_DIR: tempDir('pier-logs-'), ...backendEnv() };
  const pier = await startPierProcess(env);
  try {
    await runPier(
      ['user', 'add', 'gina', '--may-create-projects', '--password-stdin'],
      env,
      'gina-very-secret',
    );
    const token = (await runPier(['token', 'create', '--user', 'gina'], env)).stdout.trim();
    const w = await makeWheel({ name: 'logged', version: '1.0' });
    assert.equal(
      (
        await postUpload(
          pier.url,
          token,
          await uploadParts({ ...w, fields: { name: 'logged', version: '1.0' } }),
        )
      ).status,
      200,
    );
    const basic = `Basic ${Buffer.from('gina:gina-very-secret').toString('base64')}`;
    await fetch(`${pier.url}/simple/logged/`, { headers: { authorization: basic } });
    await fetch(`${pier.url}/simple/logged/`, { headers: { authorization: `Bearer ${token}x` } });
    await fetch(`${pier.url}/api/whoami?token=${token}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const out = await pier.waitForOutput(/"url":"\/api\/whoami\?token=[^"]*","status":200/);
    assert.match(out, /"url":"\/simple\/logged\/","status":200/, 'requests are logged');
    assert.ok(!out.includes(token.slice(10)), `no token in the logs:\n${out}`);
    assert.ok(!out.includes('gina-very-secret'), 'no password in the logs');
    assert.ok(
      !out.includes(Buffer.from('gina:gina-very-secret').toString('base64')),
      'no Basic credentials in the logs',
    );
  } finally {
    await pier.stop();
  }
});

test('X-Forwarded-For is believed only from a trusted proxy', async () => {
  const direct = await startServer();
  const proxied = await startServer({ trustedProxies: '127.0.0.1' });
  try {
    for (const [server, expected] of [
      [direct, '127.0.0.1'],
      [proxied, '203.0.113.7'],
    ] as const) {
      const token = await server.userWithToken('hal', { mayCreateProjects: true });
      const w = await makeWheel({ name: 'forwarded', version: '1.0' });
      const res = await postUpload(
        server.url,
        token,
        await uploadParts({ ...w, fields: { name: 'forwarded', version: '1.0' } }),
        {
          'x-forwarded-for': '203.0.113.7',
        },
      );
      assert.equal(res.status, 200, res.body);
      const events = await server.services.db.kysely
        .selectFrom('audit_events')
        .select(['ip'])
        .where('action', '=', 'upload')
        .execute();
      assert.deepEqual(
        events.map((e) => e.ip),
        [expected],
      );
    }
  } finally {
    await direct.close();
    await proxied.close();
  }
});

test('absolute URLs come from the public URL, never from the Host header', async () => {
  const server = await startServer({ publicUrl: 'https://pypi.example.org/mirror' });
  try {
    const token = await server.userWithToken('ivy', { mayCreateProjects: true });
    const w = await makeWheel({ name: 'hosted', version: '1.0' });
    const up = await postUpload(
      server.listenUrl,
      token,
      await uploadParts({ ...w, fields: { name: 'hosted', version: '1.0' } }),
    );
    assert.equal(up.status, 200, up.body);
    const html = await (
      await fetch(`${server.listenUrl}/simple/hosted/`, { headers: { host: 'evil.example' } })
    ).text();
    assert.match(html, /href="https:\/\/pypi\.example\.org\/mirror\/packages\//);
    assert.doesNotMatch(html, /evil|127\.0\.0\.1/);
  } finally {
    await server.close();
  }
});

test('TLS: twine and pip over HTTPS with a private CA; a client that does not trust it is refused', async () => {
  const certs = testCertificates();
  const env = {
    PIER_DATA_DIR: tempDir('pier-tls-'),
    PIER_TLS_CERT: certs.cert,
    PIER_TLS_KEY: certs.key,
    ...backendEnv(),
  };
  const pier = await startPierProcess(env);
  try {
    assert.match(pier.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await runPier(
      ['user', 'add', 'jan', '--may-create-projects', '--password-stdin'],
      env,
      'jan-password-1',
    );
    const token = (await runPier(['token', 'create', '--user', 'jan'], env)).stdout.trim();
    const { wheel } = sample('other');
    const up = await twineUpload(pier.url, [wheel], { username: '__token__', password: token }, [
      '--cert',
      certs.caCert,
    ]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const untrusted = await twineUpload(pier.url, [wheel], {
      username: '__token__',
      password: token,
    });
    assert.notEqual(untrusted.code, 0);
    assert.match(
      untrusted.stdout + untrusted.stderr,
      /CERTIFICATE_VERIFY_FAILED|certificate verify failed/i,
    );
    const venv = await createVenv();
    const ok = await pipInstall(
      venv,
      `${pier.url}/simple/`,
      ['pier-other'],
      ['--cert', certs.caCert],
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const status = await new Promise<number>((resolve, reject) =>
      httpsGet(`${pier.url}/healthz`, { ca: undefined }, (res) => resolve(res.statusCode ?? 0)).on(
        'error',
        reject,
      ),
    ).catch((err: Error) => err.message);
    assert.match(String(status), /self-signed certificate in certificate chain|unable to verify/);
  } finally {
    await pier.stop();
  }
});

test('graceful shutdown: SIGTERM lets an upload in flight finish, then pier exits', async () => {
  const env = { PIER_DATA_DIR: tempDir('pier-stop-'), ...backendEnv() };
  const pier = await startPierProcess(env);
  await runPier(
    ['user', 'add', 'kim', '--may-create-projects', '--password-stdin'],
    env,
    'kim-password-1',
  );
  const token = (await runPier(['token', 'create', '--user', 'kim'], env)).stdout.trim();
  const w = await makeWheel({
    name: 'late',
    version: '1.0',
    extra: { 'pad.bin': Buffer.alloc(512 * 1024, 9) },
  });
  const { body, contentType } = multipart(
    await uploadParts({ ...w, fields: { name: 'late', version: '1.0' } }),
  );
  const url = new URL(`${pier.url}/legacy/`);
  const responded = new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': contentType,
          'content-length': body.length,
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, body.length - 1000));
    setTimeout(() => {
      pier.child.kill('SIGTERM');
      setTimeout(() => req.end(body.subarray(body.length - 1000)), 300);
    }, 200);
  });
  assert.equal(await responded, 200);
  const exitCode = await pier.stop();
  assert.equal(exitCode, 0);
  assert.match(pier.output(), /shutting down/);
  const audit = await runPier(['audit', '--json', '--action', 'upload'], env);
  assert.match(audit.stdout, /late-1\.0-py3-none-any\.whl/);
});

test('the first-start admin is created once', async () => {
  const server = await startServer();
  try {
    assert.equal(await server.services.auth.countUsers(), 0, 'an in-process server creates nobody');
    await server.services.auth.addUser(OPERATOR, {
      username: 'someone',
      password: 'long-enough-pw',
    });
    assert.equal(await server.services.auth.countUsers(), 1);
  } finally {
    await server.close();
  }
});
