// @backends: runs on the embedded default and on PostgreSQL with S3.
// Staged releases end to end, with real clients: a CI job's token from `pier dev-oidc`,
// exchanged for a stage-only publisher of pier-sample; Debian's twine uploads the wheel and the
// sdist; pip cannot see them (Simple API, JSON API); the team's preview index installs them with
// pip; `pier staged approve` publishes both at once and pip installs from /simple/; the files'
// provenance and the audit log name the approver. Then a rejection: the files are gone and their
// names can never be uploaded again (rejected through the REST API).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { OPERATOR, runPier, startServer, type TestServer } from '../support/server.js';
import { sample } from '../support/fixtures.js';
import { createVenv, exec, pipInstall, twineUpload } from '../support/python.js';
import {
  RELEASE_JOB,
  RELEASE_JOB_FIELDS,
  startDevOidcProcess,
  type DevOidcProcess,
} from '../support/dev-oidc.js';
import { blake2 } from '../support/upload.js';
import { queryAudit } from '../../src/audit/log.js';

let server: TestServer;
let dev: DevOidcProcess;
let ownerToken: string;
let ownerAdmin: string;
let venv: { dir: string; python: string; pip: string };

before(async () => {
  [server, dev] = await Promise.all([startServer(), startDevOidcProcess(RELEASE_JOB)]);
  venv = await createVenv();
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: dev.url, insecure: true });
  ownerToken = await server.userWithToken('olga', { scope: 'read' });
  ownerAdmin = await server.userWithToken('olga', { scope: 'admin' });
  await server.services.projects.create(OPERATOR, 'pier-sample', 'olga');
  const view = await server.services.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'github',
    issuerUrl: dev.url,
    fields: { ...RELEASE_JOB_FIELDS, environment: 'release' },
    stageOnly: true,
  });
  assert.deepEqual(view.stageOnly, ['pier-sample']);
});

after(async () => {
  await dev?.stop();
  await server?.close();
});

/** What the CI job does: its OIDC token from dev-oidc, exchanged at pier for an upload token. */
async function mint(): Promise<string> {
  const audience = encodeURIComponent(new URL(server.url).host);
  const res = await fetch(`${dev.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${audience}`, {
    headers: { authorization: `bearer ${dev.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
  });
  const jwt = ((await res.json()) as { value: string }).value;
  const minted = await fetch(`${server.url}/_/oidc/mint-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: jwt }),
  });
  const body = (await minted.json()) as { token?: string };
  assert.equal(minted.status, 200, JSON.stringify(body));
  return body.token!;
}

function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.href;
}

async function staged(state?: string) {
  const res = await fetch(
    `${server.url}/api/projects/pier-sample/staged${state ? `?state=${state}` : ''}`,
    { headers: { authorization: `Bearer ${ownerToken}` } },
  );
  assert.equal(res.status, 200);
  return (
    (await res.json()) as {
      staged: {
        id: string;
        version: string;
        state: string;
        preview_url: string | null;
        files: { filename: string }[];
      }[];
    }
  ).staged;
}

test('twine to a stage-only publisher: pip sees nothing, the preview installs, approval publishes', async () => {
  const { wheel, sdist } = sample('sample');
  const token = await mint();
  const up = await twineUpload(server.url, [wheel, sdist], {
    username: '__token__',
    password: token,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);

  // Installers see nothing: no file on the Simple page, no release in the JSON API, no download.
  const page = await fetch(`${server.url}/simple/pier-sample/`, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
  });
  const pageBody = (await page.json()) as { files: unknown[]; versions: string[] };
  assert.deepEqual([pageBody.files, pageBody.versions], [[], []]);
  const json = await fetch(`${server.url}/pypi/pier-sample/json`);
  if (json.status === 200) {
    const doc = (await json.json()) as { releases: Record<string, unknown>; urls: unknown[] };
    assert.deepEqual([doc.releases, doc.urls], [{}, []]);
  } else assert.equal(json.status, 404);
  assert.equal((await fetch(`${server.url}/pypi/pier-sample/1.0.0/json`)).status, 404);
  const b2 = await blake2(readFileSync(wheel));
  const direct = `${server.url}/packages/${b2.slice(0, 2)}/${b2.slice(2, 4)}/${b2.slice(4)}/${basename(wheel)}`;
  assert.equal((await fetch(direct)).status, 404);
  const refused = await pipInstall(venv, `${server.url}/simple/`, ['pier-sample==1.0.0']);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stdout + refused.stderr,
    /No matching distribution found for pier-sample==1\.0\.0/,
  );

  const [session] = await staged();
  assert.equal(session!.state, 'open');
  assert.deepEqual(
    session!.files.map((f) => f.filename).sort(),
    [basename(sdist), basename(wheel)].sort(),
  );
  const preview = session!.preview_url!;
  assert.equal(preview, `${server.url}/_/staged/${session!.id}/simple/`);

  // Without credentials the preview asks for them.
  assert.equal((await fetch(`${preview}pier-sample/`)).status, 401);
  // The team installs from the preview with pip (credentials in the index URL).
  const fromPreview = await pipInstall(venv, withCredentials(preview, '__token__', ownerToken), [
    'pier-sample==1.0.0',
  ]);
  assert.equal(fromPreview.code, 0, fromPreview.stdout + fromPreview.stderr);
  const greeting = await exec(venv.python, [
    '-c',
    'import pier_sample; print(pier_sample.GREETING)',
  ]);
  assert.equal(greeting.stdout.trim(), 'hello from pier-sample');
  await exec(venv.pip, ['uninstall', '-y', 'pier-sample']);

  // A minted token cannot approve, even the one that staged it.
  const byJob = await fetch(`${server.url}/api/projects/pier-sample/staged/1.0.0/approve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(byJob.status, 403);

  const approved = await runPier(['staged', 'approve', 'pier-sample', '1.0.0'], server.env());
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stderr, /approved pier-sample 1\.0\.0: published/);

  const installed = await pipInstall(venv, `${server.url}/simple/`, ['pier-sample==1.0.0']);
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);
  const doc = (await (await fetch(`${server.url}/pypi/pier-sample/json`)).json()) as {
    urls: {
      filename: string;
      provenance: { approval: { by: string }; claims: Record<string, string> };
    }[];
  };
  assert.equal(doc.urls.length, 2);
  for (const f of doc.urls) {
    assert.match(f.provenance.approval.by, /^cli \(/);
    assert.equal(f.provenance.claims.repository, 'octo-org/octo-repo');
  }
  const project = await server.services.projects.find('pier-sample');
  const events = await queryAudit(server.services.db.kysely, {
    projectId: project!.id,
    limit: 20,
  });
  const approval = events.find((e) => e.action === 'staged-approve');
  assert.match(approval!.actor, /^cli \(/);
  assert.equal(events.filter((e) => e.action === 'stage-upload').length, 2);
  // The preview is gone with the decision.
  assert.equal(
    (await fetch(`${preview}pier-sample/`, { headers: { authorization: `Bearer ${ownerToken}` } }))
      .status,
    404,
  );
});

test('a rejection deletes the staged files, and their names are never reusable', async () => {
  const { wheel } = sample('later');
  const token = await mint();
  const up = await twineUpload(server.url, [wheel], { username: '__token__', password: token });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const blobsBefore = (await staged('open'))[0]!;
  assert.equal(blobsBefore.version, '1.1.0');

  // Through the REST API this time, with an owner's admin-scoped token.
  const rejected = await fetch(`${server.url}/api/projects/pier-sample/staged/1.1.0/reject`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerAdmin}` },
  });
  assert.equal(rejected.status, 200, await rejected.text());
  const [latest] = await staged();
  assert.equal(latest!.state, 'rejected');
  assert.equal(
    Number(
      (
        await server.services.db.kysely
          .selectFrom('staged_files')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
    0,
  );
  const page = (await (
    await fetch(`${server.url}/simple/pier-sample/`, {
      headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    })
  ).json()) as { versions: string[] };
  assert.deepEqual(page.versions, ['1.0.0']);

  // The same file again, with a fresh token: refused under the filename rule.
  const retry = await twineUpload(server.url, [wheel], {
    username: '__token__',
    password: await mint(),
  });
  assert.notEqual(retry.code, 0);
  assert.match(
    retry.stdout + retry.stderr,
    /This filename was previously used by a file that has since been deleted/,
  );
});
