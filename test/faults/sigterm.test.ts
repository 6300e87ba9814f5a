// @backends: runs on the embedded default and on PostgreSQL with S3.
// SIGTERM while uploads are in flight: each upload either completes (200, and is listed) or is
// refused cleanly (a 503 or a refused connection); afterwards no partial blob, no temporary
// file and no row without its blob remains, and `pier serve` exits 0 within a bounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { openServices } from '../../src/services.js';
import { runPier, startPierProcess } from '../support/server.js';
import { backendEnv } from '../support/backend.js';
import { tempDir } from '../support/tmp.js';
import { multipart, slowUpload, uploadParts, type UploadOutcome } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { filesWithoutBlobs, indexSnapshot } from '../support/snapshot.js';

test('SIGTERM with uploads in flight: complete or refused, nothing partial, exit 0', async () => {
  const dataDir = tempDir('pier-sigterm-');
  const env: Record<string, string> = { PIER_DATA_DIR: dataDir, ...backendEnv() };
  const pier = await startPierProcess(env);
  assert.equal(
    (
      await runPier(
        ['user', 'add', 'term', '--may-create-projects', '--password-stdin'],
        env,
        'term-password-1',
      )
    ).code,
    0,
  );
  const token = (await runPier(['token', 'create', '--user', 'term'], env)).stdout.trim();

  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const inFlight: Promise<UploadOutcome>[] = [];
  for (let i = 0; i < 6; i++) {
    const version = `1.${i}`;
    const wheel = await makeWheel({
      name: 'term',
      version,
      extra: { 'term/data.bin': randomBytes(1024 * 1024) },
    });
    const { body, contentType } = multipart(
      await uploadParts({
        filename: wheel.filename,
        content: wheel.content,
        fields: { name: 'term', version },
      }),
    );
    inFlight.push(slowUpload(`${pier.url}/legacy/`, token, body, contentType, gate));
  }
  // Every upload has sent half of its body when the signal comes.
  await new Promise((r) => setTimeout(r, 300));
  const signalled = Date.now();
  const exited = pier.stop();
  await new Promise((r) => setTimeout(r, 100));
  open();
  // One more, started after the signal: refused, never half-taken.
  const late = await makeWheel({ name: 'term', version: '9.0' });
  const lateBody = multipart(
    await uploadParts({
      filename: late.filename,
      content: late.content,
      fields: { name: 'term', version: '9.0' },
    }),
  );
  const lateOutcome = await slowUpload(
    `${pier.url}/legacy/`,
    token,
    lateBody.body,
    lateBody.contentType,
    Promise.resolve(),
  );
  const outcomes = await Promise.all(inFlight);
  const code = await exited;
  const seconds = (Date.now() - signalled) / 1000;
  console.log(
    `# exit ${code} after ${seconds.toFixed(1)} s; outcomes ${JSON.stringify(outcomes)}, late ${JSON.stringify(lateOutcome)}`,
  );
  assert.equal(code, 0, pier.output());
  assert.ok(seconds < 30, `took ${seconds} s`);
  for (const o of [...outcomes, lateOutcome])
    assert.ok('error' in o || o.status === 200 || o.status === 503, JSON.stringify(o));
  assert.ok(
    !('status' in lateOutcome && lateOutcome.status === 200),
    'a request after SIGTERM was taken',
  );

  // What remains: exactly the uploads that were answered 200, each with its blob.
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      dataDir,
      databaseUrl: env.PIER_DATABASE_URL,
      storageUrl: env.PIER_STORAGE_URL,
    },
  });
  const services = await openServices(config);
  try {
    const snap = await indexSnapshot({ services, dataDir });
    const completed = outcomes.filter((o) => 'status' in o && o.status === 200).length;
    assert.equal(snap.files, completed);
    assert.equal(snap.blobs, completed);
    assert.equal(snap.partial, 0);
    assert.deepEqual(await filesWithoutBlobs(services), []);
  } finally {
    await services.close();
  }
});
