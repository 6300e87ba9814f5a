// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier dev-oidc --kind buildkite` and `--kind generic` against a real pier: the start-up text's
// own `pier issuer add` and `pier publisher add` lines, run through a shell as a user pastes them,
// register a pending publisher; the job's token (fetched as a job fetches it) is exchanged, and
// the minted token uploads the project's first release, which creates it for its owner. A token
// of another job (another pipeline id, another subject, another environment) is refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startDevOidc, startupText, type DevOidcServer } from '../../src/dev-oidc/index.js';
import { OPERATOR, PIER_BIN, startServer, type TestServer } from '../support/server.js';
import { postMintToken } from '../support/mint.js';
import { uploadWheelWith } from '../support/upload.js';
import { tempDir } from '../support/tmp.js';

let server: TestServer;
let audience: string;

before(async () => {
  server = await startServer();
  audience = new URL(server.url).host;
  await server.services.auth.addUser(OPERATOR, {
    username: 'owner',
    password: 'owner-password',
    mayCreateProjects: true,
  });
});

after(() => server?.close());

/** Runs a printed `#   pier …` line through sh, on the server's data, as a user pastes it. */
function runPrinted(text: string, command: 'issuer add' | 'publisher add') {
  const line = text.split('\n').find((l) => l.startsWith(`#   pier ${command} `));
  assert.ok(line, `the start-up text has a pier ${command} line:\n${text}`);
  const args = line.slice('#   pier '.length);
  return new Promise<string>((resolve, reject) => {
    execFile(
      'sh',
      ['-c', `"$NODE" "$PIER_BIN" ${args}`],
      { env: { ...process.env, ...server.env(), NODE: process.execPath, PIER_BIN } },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${line}\n${stderr}`)) : resolve(stdout + stderr),
    );
  });
}

/** The job's token, as it asks for it: ACTIONS_ID_TOKEN_REQUEST_URL with the audience, bearer. */
async function jobToken(dev: DevOidcServer): Promise<string> {
  const env = dev.env();
  const res = await fetch(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${audience}`, {
    headers: { Authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { value: string }).value;
}

async function ownerOf(project: string): Promise<string[]> {
  const rows = await server.services.db.kysely
    .selectFrom('project_roles')
    .innerJoin('projects', 'projects.id', 'project_roles.project_id')
    .innerJoin('users', 'users.id', 'project_roles.user_id')
    .select('users.username')
    .where('projects.normalized_name', '=', project)
    .where('project_roles.role', '=', 'owner')
    .execute();
  return rows.map((r) => r.username);
}

test('--kind buildkite: the printed publisher trusts its tokens, which upload; another pipeline’s do not', async () => {
  const dev = await startDevOidc({
    kind: 'buildkite',
    repository: 'acme-inc/release-app',
    workflow: 'publish',
    ref: 'refs/tags/v1.0',
  });
  try {
    const text = startupText(dev, { project: 'bk-app', owner: 'owner' });
    assert.match(
      text,
      /--provider buildkite --organization acme-inc --pipeline release-app --organization-id [0-9a-f-]{36} --pipeline-id [0-9a-f-]{36} --step-key publish/,
    );
    await runPrinted(text, 'issuer add');
    await runPrinted(text, 'publisher add');
    const jwt = await jobToken(dev);
    const payload = decodeJwt(jwt);
    assert.equal(payload.build_branch, 'v1.0');
    assert.equal(payload.build_tag, 'v1.0');
    assert.match(
      String(payload.sub),
      /^organization:acme-inc:pipeline:release-app:ref:refs\/tags\/v1\.0:commit:[0-9a-f]{40}:step:publish$/,
    );
    const r = await postMintToken(server.url, jwt);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await uploadWheelWith(server.url, r.body.token, 'bk-app', '1.0');
    assert.deepEqual(await ownerOf('bk-app'), ['owner']);
    // A pipeline that took over the slug has another pipeline_id; a step without the ids has none.
    for (const [over, message] of [
      [{ pipeline_id: '0184990a-0000-4000-8000-000000000000' }, /claim 'pipeline_id'/],
      [{ organization_id: null }, /Missing claim 'organization_id'/],
      [{ step_key: 'test' }, /claim 'step_key': expected 'publish', got 'test'/],
    ] as const) {
      const other = await postMintToken(server.url, await dev.mintToken(audience, over));
      assert.equal(other.status, 422, JSON.stringify(other.body));
      assert.match(JSON.stringify(other.body), message);
    }
  } finally {
    await dev.close();
  }
});

test('--kind generic: the --claims file drives the tokens and the printed publisher pins its sub', async () => {
  const dir = tempDir('pier-generic-claims-');
  const claimsFile = join(dir, 'claims.json');
  writeFileSync(
    claimsFile,
    JSON.stringify({
      sub: 'job:acme/release',
      build_url: 'https://ci.example.com/job/acme/release/7/',
      owner_id: null,
    }),
  );
  const dev = await startDevOidc({ kind: 'generic', environment: 'release', claimsFile });
  try {
    const text = startupText(dev, { project: 'generic-app', owner: 'owner' });
    assert.match(
      text,
      /--provider generic --claim sub=job:acme\/release --immutable sub --claim environment=release --issuer /,
    );
    await runPrinted(text, 'issuer add');
    await runPrinted(text, 'publisher add');
    const jwt = await jobToken(dev);
    const payload = decodeJwt(jwt);
    assert.equal(payload.build_url, 'https://ci.example.com/job/acme/release/7/');
    assert.equal(payload.owner_id, undefined, 'null in the --claims file removes the claim');
    const r = await postMintToken(server.url, jwt);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await uploadWheelWith(server.url, r.body.token, 'generic-app', '1.0');
    assert.deepEqual(await ownerOf('generic-app'), ['owner']);
    for (const over of [{ sub: 'job:acme/other' }, { environment: 'staging' }, { sub: 7 }]) {
      const other = await postMintToken(server.url, await dev.mintToken(audience, over));
      assert.equal(other.status, 422, `${JSON.stringify(over)}: ${JSON.stringify(other.body)}`);
    }
  } finally {
    await dev.close();
  }
});
