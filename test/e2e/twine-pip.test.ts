// @backends: runs on the embedded default and on PostgreSQL with S3.
// The index with real clients: Debian's twine uploads with a token from `pier token create`,
// pip installs into a fresh venv, and the package imports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from '../support/fixtures.js';
import { runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { createVenv, exec, pipInstall, twineUpload } from '../support/python.js';
import { tempDir } from '../support/tmp.js';
import { backendEnv } from '../support/backend.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

let pier: PierProcess;
let env: Record<string, string>;
let token: string;

before(async () => {
  env = { PIER_DATA_DIR: tempDir('pier-e2e-'), ...backendEnv() };
  pier = await startPierProcess(env);
  const add = await runPier(
    ['user', 'add', 'alice', '--may-create-projects', '--password-stdin'],
    env,
    'alice-secret-pw',
  );
  assert.equal(add.code, 0, add.stderr);
  const created = await runPier(['token', 'create', '--user', 'alice', '--scope', 'upload'], env);
  assert.equal(created.code, 0, created.stderr);
  token = created.stdout.trim();
  assert.match(token, /^pypi-pier_[0-9A-Za-z]{49}$/);
});

after(async () => {
  await pier?.stop();
});

test('the first start writes the admin password to a file only the operator reads, and prints where', async () => {
  const file = join(env.PIER_DATA_DIR!, 'initial-admin-password');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const password = readFileSync(file, 'utf8').trim();
  assert.match(password, /^\S{20,}$/);
  assert.ok(pier.output().includes(`Its password is in ${file}`), pier.output());
  assert.ok(!pier.output().includes(password), 'the password is not in the output');
  const whoami = await fetch(`${pier.url}/api/whoami`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
  });
  assert.equal(whoami.status, 200);
  assert.equal(((await whoami.json()) as { user: { admin: boolean } }).user.admin, true);
  // Only the temporary file's rename made it: nothing else was left in the data directory.
  assert.deepEqual(
    readdirSync(env.PIER_DATA_DIR!).filter((f) => f.startsWith('initial-admin-password')),
    ['initial-admin-password'],
  );
});

test('twine uploads a wheel and an sdist with a token from `pier token create`', async () => {
  const { wheel, sdist } = sample('sample');
  const r = await twineUpload(pier.url, [wheel, sdist], { username: '__token__', password: token });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('pip installs it into a fresh venv, and it imports', async () => {
  const venv = await createVenv();
  const r = await pipInstall(venv, `${pier.url}/simple/`, ['pier-sample==1.0.0']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const imported = await exec(venv.python, [
    '-c',
    'import pier_sample; print(pier_sample.GREETING)',
  ]);
  assert.equal(imported.stdout.trim(), 'hello from pier-sample');
});

test('pip reads the PEP 658 .metadata file before downloading the wheel', async () => {
  // Debian's pip (23.0) reads metadata hashes from HTML pages only, so use the HTML-pinned root.
  const venv = await createVenv();
  const r = await pipInstall(venv, `${pier.url}/simple/v1+html/`, ['pier-sample==1.0.0']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const metadataFetch =
    /"url":"(\/packages\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{60}\/pier_sample-1\.0\.0-py3-none-any\.whl\.metadata)","status":200/;
  const output = await pier.waitForOutput(/-py3-none-any\.whl","status":200/);
  assert.match(output, metadataFetch);
  const lines = output.split('\n');
  const metadataLine = lines.findLastIndex((l) => l.includes('.whl.metadata"'));
  const wheelLine = lines.findLastIndex((l) => l.includes('-py3-none-any.whl"'));
  assert.ok(metadataLine < wheelLine, 'the metadata is read before the wheel is downloaded');
});

/** The metadata pip resolves `requirement` with (its `--report`), read from the PEP 658 file. */
let reportVenv: ReturnType<typeof createVenv> | undefined;
async function pipMetadata(requirement: string): Promise<Record<string, unknown>> {
  // --dry-run installs nothing, so one venv serves every report.
  const venv = await (reportVenv ??= createVenv());
  const report = join(tempDir('pier-report-'), 'report.json');
  // Debian's pip (23.0) reads metadata hashes from HTML pages only: the HTML-pinned root.
  const r = await pipInstall(
    venv,
    `${pier.url}/simple/v1+html/`,
    [requirement],
    ['--dry-run', '--ignore-installed', '--report', report],
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const { install } = JSON.parse(readFileSync(report, 'utf8')) as {
    install: { metadata: Record<string, unknown> }[];
  };
  assert.equal(install.length, 1);
  return install[0]!.metadata;
}

/** The JSON API's view of a release, in the terms of pip's report. */
async function jsonApiMetadata(project: string, version: string) {
  const res = await fetch(`${pier.url}/pypi/${project}/${version}/json`);
  assert.equal(res.status, 200);
  const { info, urls } = (await res.json()) as {
    info: Record<string, unknown>;
    urls: { packagetype: string; requires_python: string | null }[];
  };
  return {
    info: {
      version: info.version,
      summary: info.summary,
      license: info.license,
      requires_python: info.requires_python,
      requires_dist: info.requires_dist ?? undefined,
      classifier: info.classifiers,
      project_url: Object.entries((info.project_urls as Record<string, string> | null) ?? {}).map(
        ([label, url]) => `${label}, ${url}`,
      ),
      description_content_type: info.description_content_type,
    },
    wheelRequiresPython: urls.find((u) => u.packagetype === 'bdist_wheel')?.requires_python,
  };
}

function inPipTerms(m: Record<string, unknown>) {
  return {
    version: m.version,
    summary: m.summary,
    license: m.license,
    requires_python: m.requires_python,
    requires_dist: m.requires_dist,
    classifier: m.classifier,
    project_url: m.project_url,
    description_content_type: m.description_content_type,
  };
}

test('pip resolves with the metadata the JSON API shows: twine’s upload, and a raw upload whose form lies', async () => {
  const twine = await jsonApiMetadata('pier-sample', '1.0.0');
  const pip = await pipMetadata('pier-sample==1.0.0');
  assert.deepEqual(twine.info, inPipTerms(pip));
  assert.equal(twine.wheelRequiresPython, pip.requires_python);

  // The same setuptools wheel of another version, with a form that claims other metadata.
  const lying = await postUpload(
    pier.url,
    token,
    await uploadParts({
      path: sample('later').wheel,
      fields: {
        version: '1.1.0',
        summary: 'Not what the wheel says',
        requires_python: '>=3.6',
        requires_dist: ['evil-package>=1'],
        license: 'Proprietary',
      },
    }),
  );
  assert.equal(lying.status, 200, lying.body);
  const shown = await jsonApiMetadata('pier-sample', '1.1.0');
  const installed = await pipMetadata('pier-sample==1.1.0');
  await pier.waitForOutput(/pier_sample-1\.1\.0-py3-none-any\.whl\.metadata","status":200/);
  assert.deepEqual(shown.info, inPipTerms(installed));
  assert.equal(shown.wheelRequiresPython, installed.requires_python);
  assert.equal(installed.summary, "A sample project for pier's tests");
  assert.equal(installed.requires_dist, undefined);
});

test('a repeated identical upload succeeds and changes nothing', async () => {
  const before = await runPier(['audit', '--json', '--action', 'upload'], env);
  const { wheel } = sample('sample');
  const r = await twineUpload(pier.url, [wheel], { username: '__token__', password: token });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const afterAudit = await runPier(['audit', '--json', '--action', 'upload'], env);
  assert.equal(afterAudit.stdout, before.stdout);
});

test('a conflicting upload of the same filename fails with File already exists', async () => {
  const { wheel } = sample('conflicting');
  const r = await twineUpload(pier.url, [wheel], { username: '__token__', password: token });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /File already exists/);
});

test('twine --skip-existing skips the conflicting file', async () => {
  const { wheel } = sample('conflicting');
  const r = await twineUpload(pier.url, [wheel], { username: '__token__', password: token }, [
    '--skip-existing',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /Skipping .* because it appears to already exist/);
});

test('a wrong token is refused with a clear message', async () => {
  const { wheel } = sample('later');
  const r = await twineUpload(pier.url, [wheel], {
    username: '__token__',
    password: `${token.slice(0, -1)}x`,
  });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stdout + r.stderr,
    /HTTPError: 403 Forbidden[\s\S]*Invalid or non-existent authentication information/,
  );
});

test('an index that requires authentication: pip installs with credentials, and is refused without', async () => {
  const readEnv = {
    PIER_DATA_DIR: tempDir('pier-e2e-private-'),
    PIER_READ_ACCESS: 'authenticated',
    ...backendEnv(),
  };
  const privateIndex = await startPierProcess(readEnv);
  try {
    await runPier(
      ['user', 'add', 'bob', '--may-create-projects', '--password-stdin'],
      readEnv,
      'bob-secret-pw',
    );
    const upload = (await runPier(['token', 'create', '--user', 'bob'], readEnv)).stdout.trim();
    const { wheel } = sample('other');
    const up = await twineUpload(privateIndex.url, [wheel], {
      username: '__token__',
      password: upload,
    });
    assert.equal(up.code, 0, up.stdout + up.stderr);

    const venv = await createVenv();
    const denied = await pipInstall(
      venv,
      `${privateIndex.url}/simple/`,
      ['pier-other'],
      ['--no-input', '-vvv'],
    );
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stdout + denied.stderr,
      /401 Client Error: Authentication required to read this index/,
    );
    const raw = await fetch(`${privateIndex.url}/simple/pier-other/`);
    assert.equal(raw.status, 401);
    assert.equal(raw.headers.get('www-authenticate'), 'Basic realm="pier", charset="UTF-8"');

    const host = new URL(privateIndex.url).host;
    const withPassword = await pipInstall(
      venv,
      `http://bob:bob-secret-pw@${host}/simple/`,
      ['pier-other'],
      ['--no-input'],
    );
    assert.equal(withPassword.code, 0, withPassword.stdout + withPassword.stderr);

    const read = (
      await runPier(['token', 'create', '--user', 'bob', '--scope', 'read'], readEnv)
    ).stdout.trim();
    const venv2 = await createVenv();
    const withToken = await pipInstall(
      venv2,
      `http://__token__:${read}@${host}/simple/`,
      ['pier-other'],
      ['--no-input'],
    );
    assert.equal(withToken.code, 0, withToken.stdout + withToken.stderr);
    const imported = await exec(venv2.python, [
      '-c',
      'import pier_other; print(pier_other.GREETING)',
    ]);
    assert.equal(imported.stdout.trim(), 'hello from pier-other');
  } finally {
    await privateIndex.stop();
  }
});
