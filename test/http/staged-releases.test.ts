// @backends: runs on the embedded default and on PostgreSQL with S3.
// Staged releases' rules over HTTP: who stages, who previews and decides (as tables), the
// project policy through the REST API, uploads that meet a staged or a published version, the
// second factor, decisions made twice or by the wrong people, expiry by the service's clock (no
// sleeping), and readers during an approval seeing all of the release or none of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { makeSdist, makeWheel } from '../support/dists.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { indexSnapshot } from '../support/snapshot.js';
import { addStaticProject, startStaticIndex } from '../support/static-index.js';
import { tempDir } from '../support/tmp.js';
import { enableTotp } from '../support/two-factor.js';
import {
  decisionNeedsSecondFactor,
  mayDecideStaged,
  mayPreviewStaged,
  uploadIsStaged,
  type ProjectAccess,
  type Role,
} from '../../src/auth/permissions.js';
import type { Principal } from '../../src/auth/principal.js';
import { RELEASE_JOB_FIELDS } from '../support/dev-oidc.js';

let server: TestServer;
/** olga owns `staged-proj` (upload and admin tokens); mike maintains it; tom owns `other-proj`. */
let olgaUpload: string;
let olgaAdmin: string;
let mikeAdmin: string;
let tomAdmin: string;
let mikeSecret: string;

before(async () => {
  server = await startServer();
  olgaUpload = await server.userWithToken('olga', { scope: 'upload' });
  olgaAdmin = await server.userWithToken('olga', { scope: 'admin' });
  mikeAdmin = await server.userWithToken('mike', { scope: 'admin' });
  tomAdmin = await server.userWithToken('tom', { scope: 'admin' });
  await server.services.projects.create(OPERATOR, 'staged-proj', 'olga');
  await server.services.projects.setRole(OPERATOR, 'staged-proj', 'mike', 'maintainer');
  await server.services.projects.create(OPERATOR, 'other-proj', 'tom');
  mikeSecret = await enableTotp(server.services, 'mike');
});

after(async () => {
  await server?.close();
});

function api(method: string, path: string, token: string, body?: unknown) {
  return fetch(`${server.url}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const built = new Map<string, { filename: string; content: Buffer }>();

/** Uploads a synthetic wheel; the same arguments upload the very same bytes again. */
async function upload(version: string, salt: string, token = olgaUpload, tag = 'py3-none-any') {
  const key = `${version} ${salt} ${tag}`;
  const wheel = built.get(key) ?? (await makeWheel({ name: 'staged-proj', version, salt, tag }));
  built.set(key, wheel);
  const parts = await uploadParts({
    filename: wheel.filename,
    content: wheel.content,
    fields: { name: 'staged-proj', version, pyversion: tag.split('-')[0]! },
  });
  return { ...(await postUpload(server.url, token, parts)), filename: wheel.filename };
}

async function simpleFiles(): Promise<string[]> {
  const res = await fetch(`${server.url}/simple/staged-proj/`, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
  });
  return ((await res.json()) as { files: { filename: string }[] }).files.map((f) => f.filename);
}

async function setPolicy(on: boolean) {
  const res = await api('PATCH', '/projects/staged-proj', olgaAdmin, { stage_uploads: on });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { stage_uploads: boolean }).stage_uploads, on);
}

const approve = (version: string, token: string, body?: unknown) =>
  api('POST', `/projects/staged-proj/staged/${version}/approve`, token, body ?? {});

test('the rules as tables: who is staged, who previews, who decides, who needs a code', () => {
  const user = (over: Record<string, unknown> = {}) =>
    ({ id: 1, is_admin: 0, totp_enabled_at: null, totp_secret: null, ...over }) as never;
  const asUser = (over?: Record<string, unknown>): Principal => ({
    kind: 'user',
    user: user(over),
  });
  const token = (
    scope: string,
    publisher_id: number | null,
    projectIds: Set<number> | null = null,
  ) =>
    ({
      kind: 'token',
      user: publisher_id === null ? user() : null,
      token: { scope, publisher_id },
      projectIds,
    }) as unknown as Principal;
  const operator: Principal = { kind: 'operator', name: 'x' };
  const access = (role: Role | null): ProjectAccess => ({
    project: { id: 5, private: 0, status: 'active' },
    role,
  });

  const staging: [string, number, Principal, { stage_only: number } | null, boolean][] = [
    ['policy on: a user token is staged', 1, token('upload', null), null, true],
    ['policy on: a minted token is staged', 1, token('upload', 3, new Set([5])), null, true],
    ['policy on: the operator (pier import) is not', 1, operator, null, false],
    [
      'policy off: a stage-only publisher is staged',
      0,
      token('upload', 3),
      { stage_only: 1 },
      true,
    ],
    ['policy off: another publisher is not', 0, token('upload', 3), { stage_only: 0 }, false],
    ['policy off: a user token is not', 0, token('upload', null), null, false],
  ];
  for (const [name, policy, p, link, want] of staging)
    assert.equal(uploadIsStaged({ stage_uploads: policy }, p, link), want, name);

  const deciding: [string, Principal, Role | null, boolean, boolean][] = [
    ['an owner with an admin token', token('admin', null), 'owner', true, true],
    ['a maintainer with an admin token', token('admin', null), 'maintainer', true, true],
    ['a maintainer with a read token', token('read', null), 'maintainer', false, true],
    ['an owner with a password', asUser(), 'owner', true, true],
    ['a stranger with an admin token', token('admin', null), null, false, false],
    ['a minted upload token', token('upload', 3, new Set([5])), null, false, false],
    ['a minted admin-scoped token', token('admin', 3, new Set([5])), 'owner', false, false],
    [
      'an owner token limited to another project',
      token('admin', null, new Set([6])),
      'owner',
      false,
      false,
    ],
    ['an administrator', asUser({ is_admin: 1 }), null, true, true],
    ['the operator', operator, null, true, true],
  ];
  for (const [name, p, role, decides, previews] of deciding) {
    assert.equal(mayDecideStaged(p, access(role)), decides, `decide: ${name}`);
    assert.equal(mayPreviewStaged(p, access(role)), previews, `preview: ${name}`);
  }

  assert.equal(decisionNeedsSecondFactor(asUser()), false);
  assert.equal(decisionNeedsSecondFactor(asUser({ totp_enabled_at: 1, totp_secret: 'ABC' })), true);
  assert.equal(decisionNeedsSecondFactor(operator), false);
});

test('a pending publisher cannot be stage only', async () => {
  await assert.rejects(
    server.services.publishers.addPending(
      OPERATOR,
      'not-yet',
      { kind: 'github', fields: { ...RELEASE_JOB_FIELDS }, stageOnly: true },
      'olga',
    ),
    /A pending publisher cannot be stage only/,
  );
});

test('the project policy stages an owner’s own upload; the same file again is a duplicate', async () => {
  await setPolicy(true);
  const first = await upload('1.0', 'a');
  assert.equal(first.status, 200, first.body);
  assert.match(first.body, /staged in release 1\.0 of 'staged-proj'.*Preview: http/);
  assert.deepEqual(await simpleFiles(), []);
  // Same bytes, same name: answered as an existing file, nothing added.
  const before = await indexSnapshot(server);
  const again = await upload('1.0', 'a');
  assert.equal(again.status, 200, again.body);
  assert.deepEqual(await indexSnapshot(server), before);
  // Other bytes under the staged file's name: refused, as for any existing file.
  const clash = await upload('1.0', 'b');
  assert.equal(clash.status, 400);
  assert.match(clash.body, /File already exists/);
  // Two sdists in one staged release: refused, as in a release.
  const sdist = await makeSdist({ name: 'staged-proj', version: '1.0' });
  const sdistParts = async (content: Buffer) =>
    uploadParts({
      filename: sdist.filename,
      content,
      fields: { name: 'staged-proj', version: '1.0' },
    });
  assert.equal(
    (await postUpload(server.url, olgaUpload, await sdistParts(sdist.content))).status,
    200,
  );
  const list = (await (await api('GET', '/projects/staged-proj/staged', olgaAdmin)).json()) as {
    staged: { version: string; state: string; files: unknown[] }[];
  };
  assert.deepEqual(
    list.staged.map((s) => [s.version, s.state, s.files.length]),
    [['1.0', 'open', 2]],
  );
});

test('a direct upload to a staged version, and a staged upload to a published one, are refused', async () => {
  await setPolicy(false);
  const before = await indexSnapshot(server);
  const direct = await upload('1.0', 'c', olgaUpload, 'py2-none-any');
  assert.equal(direct.status, 409, direct.body);
  assert.match(
    direct.statusText + direct.body,
    /Release 1\.0 of 'staged-proj' is staged and awaiting approval/,
  );
  assert.deepEqual(await indexSnapshot(server), before);

  const published = await upload('0.9', 'd');
  assert.equal(published.status, 200);
  await setPolicy(true);
  const onto = await upload('0.9', 'e', olgaUpload, 'py2-none-any');
  assert.equal(onto.status, 409);
  assert.match(onto.body, /is already published/);
  // A staged release is not a release: it cannot be yanked.
  assert.equal(
    (await api('POST', '/projects/staged-proj/releases/1.0/yank', olgaAdmin, {})).status,
    404,
  );
});

test('bad decisions change nothing: wrong people, wrong versions, missing or wrong codes', async () => {
  const before = await indexSnapshot(server);
  const cases: [string, Promise<Response>, number, RegExp][] = [
    ['an upload-scoped token', approve('1.0', olgaUpload), 403, /Only owners and maintainers/],
    ['the owner of another project', approve('1.0', tomAdmin), 403, /Only owners and maintainers/],
    ['a version never staged', approve('7.0', olgaAdmin), 404, /no staged release 7\.0/],
    ['not a version', approve('not..a..version', olgaAdmin), 400, /is not a valid version/],
    [
      'a project that is not there',
      api('POST', '/projects/nope/staged/1.0/approve', olgaAdmin, {}),
      404,
      /./,
    ],
    ['a maintainer with 2FA, no code', approve('1.0', mikeAdmin), 403, /give the current code/],
    [
      'a maintainer with 2FA, a wrong code',
      approve('1.0', mikeAdmin, { totp: '000000' }),
      403,
      /wrong or was used/,
    ],
    [
      'a code of the wrong type',
      approve('1.0', mikeAdmin, { totp: 123456 }),
      400,
      /'totp' must be a string/,
    ],
  ];
  for (const [name, pending, status, message] of cases) {
    const res = await pending;
    const body = await res.text();
    assert.equal(res.status, status, `${name}: ${body}`);
    assert.match(body, message, name);
  }
  assert.deepEqual(await indexSnapshot(server), before);
  // The other project's owner cannot list or preview it either.
  assert.equal((await api('GET', '/projects/staged-proj/staged', tomAdmin)).status, 403);
});

test('readers during an approval see all of the release or none; a second approval is refused', async () => {
  for (const tag of ['py2-none-any', 'py310-none-any', 'py311-none-any']) {
    const res = await upload('1.0', `more-${tag}`, olgaUpload, tag);
    assert.equal(res.status, 200, res.body);
  }
  // The next step's code: enrolment used the current one (a code is accepted once).
  const code = new TOTP({ secret: Secret.fromBase32(mikeSecret) }).generate({
    timestamp: Date.now() + 30_000,
  });
  let done = false;
  const seen = new Set<number>();
  const readers = (async () => {
    while (!done) {
      const files = (await simpleFiles()).filter((f) => f.includes('-1.0'));
      seen.add(files.length);
    }
  })();
  const res = await approve('1.0', mikeAdmin, { totp: code });
  done = true;
  await readers;
  const body = (await res.json()) as { state: string; decided_by: string; files: string[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.state, 'approved');
  assert.equal(body.files.length, 5);
  assert.match(body.decided_by, /mike \(token \d+\)/);
  const after = (await simpleFiles()).filter((f) => f.includes('-1.0'));
  assert.equal(after.length, 5);
  assert.ok(seen.size > 0);
  for (const n of seen) assert.ok(n === 0 || n === 5, `a reader saw ${n} of 5 files`);

  const twice = await approve('1.0', olgaAdmin);
  assert.equal(twice.status, 409);
  assert.match(await twice.text(), /is approved already \(by mike \(token \d+\)\)/);
  const rejectAfter = await api('POST', '/projects/staged-proj/staged/1.0/reject', olgaAdmin, {});
  assert.equal(rejectAfter.status, 409);
});

test('a staged release expires by the clock: files gone, names kept, decisions refused', async () => {
  const staged = await upload('2.0', 'exp');
  assert.equal(staged.status, 200, staged.body);
  const blobs = async () => {
    let n = 0;
    for await (const _ of server.services.blobs.keys()) n++;
    return n;
  };
  const blobsBefore = await blobs();
  const realNow = server.services.staged.now;
  try {
    server.services.staged.now = () => Date.now() + server.services.config.stagedTtl * 1000 + 1;
    const res = await approve('2.0', olgaAdmin);
    assert.equal(res.status, 409);
    assert.match(await res.text(), /is expired already/);
  } finally {
    server.services.staged.now = realNow;
  }
  assert.equal(await blobs(), blobsBefore - 1);
  const list = (await (
    await api('GET', '/projects/staged-proj/staged?state=expired', olgaAdmin)
  ).json()) as { staged: { version: string; files: { filename: string }[] }[] };
  assert.deepEqual(
    list.staged.map((s) => [s.version, s.files.map((f) => f.filename)]),
    [['2.0', [staged.filename]]],
  );
  assert.equal(
    (await api('GET', '/projects/staged-proj/staged?state=bogus', olgaAdmin)).status,
    400,
  );
  // The expired file's name can never be uploaded again.
  const retry = await upload('2.0', 'exp');
  assert.equal(retry.status, 400);
  assert.match(retry.body, /previously used by a file that has since been deleted/);
});

test('with an upstream, a hosted project with only a staged release shows neither upstream files nor staged ones', async () => {
  const root = tempDir('pier-upstream-');
  await addStaticProject(root, 'shadowed', { versions: ['1.0', '2.0'] });
  const upstream = await startStaticIndex(root);
  const proxy = await startServer({ upstreamUrl: `${upstream.url}/simple/` });
  try {
    const token = await proxy.userWithToken('olga', { scope: 'upload' });
    await proxy.services.projects.create(OPERATOR, 'shadowed', 'olga', { shadowUpstream: true });
    await proxy.services.projects.update(OPERATOR, 'shadowed', { stageUploads: true });
    const wheel = await makeWheel({ name: 'shadowed', version: '3.0', salt: 'local' });
    const res = await postUpload(
      proxy.url,
      token,
      await uploadParts({ ...wheel, fields: { name: 'shadowed', version: '3.0' } }),
    );
    assert.equal(res.status, 200, res.body);
    const versions = async () =>
      (
        (await (
          await fetch(`${proxy.url}/simple/shadowed/`, {
            headers: { accept: 'application/vnd.pypi.simple.v1+json' },
          })
        ).json()) as { versions: string[] }
      ).versions;
    assert.deepEqual(await versions(), []);
    await proxy.services.staged.approve(OPERATOR, 'shadowed', '3.0');
    assert.deepEqual(await versions(), ['3.0']);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});
