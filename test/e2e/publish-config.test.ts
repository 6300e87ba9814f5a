// On the embedded default only: what this file tests is the publish client; the upload path it
// ends in is tested on PostgreSQL with S3 as well, by e2e/twine-pip and test/http.
// `pier publish` configured as twine is — the upload URL from --repository-url,
// PIER_REPOSITORY_URL, TWINE_REPOSITORY_URL or a .pypirc section, credentials from the
// environment or that section — with --json output, and a file too large to be held in memory,
// each run as its own process against a real pier.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IN_MEMORY_LIMIT } from '../../src/client/examine.js';
import { makeSdist, makeWheel } from '../support/dists.js';
import { startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { runPublish } from '../client/processes.js';

let server: TestServer;
let token: string;
let upload: string;
/** A URL nothing listens on: the run fails if the client picks it. */
const DEAD = 'http://127.0.0.1:1/legacy/';

before(async () => {
  server = await startServer();
  token = await server.userWithToken('maintainer', { mayCreateProjects: true });
  upload = `${server.url}/legacy/`;
});

after(async () => {
  await server?.close();
});

/** A home folder holding `pypirc` as its .pypirc (none when null). */
function home(pypirc: string | null): string {
  const dir = tempDir('pier-home-');
  if (pypirc !== null) writeFileSync(join(dir, '.pypirc'), pypirc);
  return dir;
}

async function wheelFile(name: string, version: string, extra?: Record<string, Buffer>) {
  const made = await makeWheel({ name, version, extra });
  const dir = tempDir('pier-dist-');
  const path = join(dir, made.filename);
  writeFileSync(path, made.content);
  return { path, filename: made.filename, sha256: sha256(made.content) };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function simpleFiles(
  project: string,
): Promise<{ filename: string; url: string; hashes: { sha256: string } }[]> {
  const res = await fetch(`${server.url}/simple/${project}/`, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
  });
  if (res.status === 404) return [];
  return ((await res.json()) as { files: any[] }).files;
}

test('a file over the in-memory limit: no listener warning, progress with speed and time left', async () => {
  const big = await wheelFile('big-pkg', '1.0.0', {
    'big_pkg/blob.bin': randomBytes(IN_MEMORY_LIMIT + 2 * 1024 * 1024),
  });
  assert.ok(readFileSync(big.path).length > IN_MEMORY_LIMIT);
  const r = await runPublish(['--repository-url', upload, '--json', big.path], {
    HOME: home(null),
    PIER_TOKEN: token,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /MaxListenersExceededWarning|Warning:/);
  assert.match(r.stderr, /Uploaded big_pkg-1\.0\.0-py3-none-any\.whl/);
  assert.match(
    r.stderr,
    /25% of big_pkg-1\.0\.0-py3-none-any\.whl sent \((…|\d[\d.]* [kMG]?B\/s, \d.* left)\)/,
  );
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.files[0].hashes.sha256, big.sha256);
  const [listed] = await simpleFiles('big-pkg');
  assert.equal(listed?.hashes.sha256, big.sha256);
});

test('the upload URL: --repository-url, then PIER_REPOSITORY_URL, then TWINE_REPOSITORY_URL, then .pypirc', async () => {
  const pypirc = `[distutils]\nindex-servers = internal\n\n[internal]\nrepository = ${DEAD}\n`;
  const cases: { args: string[]; env: Record<string, string>; source: string }[] = [
    {
      args: ['--repository-url', upload, '-r', 'internal'],
      env: { PIER_REPOSITORY_URL: DEAD, TWINE_REPOSITORY_URL: DEAD },
      source: '--repository-url',
    },
    {
      args: ['-r', 'internal'],
      env: { PIER_REPOSITORY_URL: upload, TWINE_REPOSITORY_URL: DEAD },
      source: 'PIER_REPOSITORY_URL',
    },
    // As twine: a URL from the environment wins over the repository named by -r.
    {
      args: ['-r', 'internal'],
      env: { TWINE_REPOSITORY_URL: upload },
      source: 'TWINE_REPOSITORY_URL',
    },
  ];
  for (const [i, c] of cases.entries()) {
    const wheel = await wheelFile('url-sources', `1.0.${i}`);
    const r = await runPublish([...c.args, '--json', wheel.path], {
      HOME: home(pypirc),
      PIER_TOKEN: token,
      ...c.env,
    });
    assert.equal(r.code, 0, `${c.source}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.repository_url, upload);
    assert.equal(doc.repository_source, c.source);
  }
  assert.deepEqual((await simpleFiles('url-sources')).map((f) => f.filename).sort(), [
    'url_sources-1.0.0-py3-none-any.whl',
    'url_sources-1.0.1-py3-none-any.whl',
    'url_sources-1.0.2-py3-none-any.whl',
  ]);
});

test('.pypirc: -r NAME (or TWINE_REPOSITORY) reads repository, username and password; flags and variables win', async () => {
  const rc = (password: string) =>
    [
      '[distutils]',
      'index-servers =',
      '    internal',
      '    other',
      '',
      '[internal]',
      `repository: ${upload}`,
      'username = __token__',
      `password = ${password}`,
      '',
      '; not listed in index-servers, so twine does not see it',
      '[unlisted]',
      `repository = ${upload}`,
      '',
    ].join('\n');
  const publishWith = async (
    version: string,
    args: string[],
    pypirc: string,
    env: Record<string, string> = {},
  ) => {
    const wheel = await wheelFile('from-pypirc', version);
    return runPublish([...args, '--json', wheel.path], { HOME: home(pypirc), ...env });
  };

  const fromFile = await publishWith('1.0.0', ['-r', 'internal'], rc(token));
  assert.equal(fromFile.code, 0, fromFile.stderr);
  const doc = JSON.parse(fromFile.stdout);
  assert.equal(doc.repository_source, '[internal] in ~/.pypirc');
  assert.deepEqual(doc.authentication, { method: 'token', source: '[internal] in ~/.pypirc' });

  const byEnvName = await publishWith('1.0.1', [], rc(token), { TWINE_REPOSITORY: 'internal' });
  assert.equal(byEnvName.code, 0, byEnvName.stderr);

  // The file's password is refused; a token from a variable or the flag comes first.
  const bad = 'pypi-pier_wrong';
  const envWins = await publishWith('1.0.2', ['-r', 'internal'], rc(bad), {
    TWINE_USERNAME: '__token__',
    TWINE_PASSWORD: token,
  });
  assert.equal(envWins.code, 0, envWins.stderr);
  assert.equal(JSON.parse(envWins.stdout).authentication.source, 'TWINE_PASSWORD');
  const flagWins = await publishWith('1.0.3', ['-r', 'internal', '--token', token], rc(bad), {
    TWINE_PASSWORD: bad,
  });
  assert.equal(flagWins.code, 0, flagWins.stderr);
  assert.equal(JSON.parse(flagWins.stdout).authentication.source, '--token');
  const refused = await publishWith('1.0.4', ['-r', 'internal'], rc(bad));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /hint: Check the token from \[internal\] in ~\/\.pypirc/);

  // --config-file names another file.
  const elsewhere = join(tempDir('pier-rc-'), 'pypirc');
  writeFileSync(elsewhere, rc(token));
  const wheel = await wheelFile('from-pypirc', '1.0.5');
  const other = await runPublish(['--config-file', elsewhere, '-r', 'internal', wheel.path], {
    HOME: home(null),
  });
  assert.equal(other.code, 0, other.stderr);

  const unlisted = await publishWith('1.0.6', ['-r', 'unlisted'], rc(token));
  assert.equal(unlisted.code, 1);
  assert.match(unlisted.stderr, /error: The repository 'unlisted' is not in ~\/\.pypirc\n/);
  assert.equal(JSON.parse(unlisted.stdout).error.code, 'usage');

  assert.deepEqual(
    (await simpleFiles('from-pypirc')).map((f) => f.filename).sort(),
    ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.5'].map((v) => `from_pypirc-${v}-py3-none-any.whl`),
  );
});

test('a malformed .pypirc: the file, the line and what is wrong, never the line itself; nothing is uploaded', async () => {
  const before = await simpleFiles('malformed-rc');
  // A mistyped password line: the message must not carry the password.
  const secret = 'pypi-pier_do-not-print-me';
  const cases: [string, RegExp][] = [
    [
      `[internal]\nrepository = ${upload}\npassword ${secret}\n`,
      /error: ~\/\.pypirc line 3: expected 'name = value' \(or 'name: value'\)\n/,
    ],
    [
      `password = ${secret}\n[internal]\n`,
      /~\/\.pypirc line 1: an option comes before any section header like \[pypi\]/,
    ],
    [
      `[internal\nrepository = ${upload}\n`,
      /~\/\.pypirc line 1: a section header must be a name in brackets, like \[pypi\]/,
    ],
    [
      `[distutils]\nindex-servers = internal\n[internal]\nrepository = ${upload}\nrepository = ${upload}\n`,
      /~\/\.pypirc line 5: the option 'repository' appears twice in its section/,
    ],
  ];
  for (const [text, message] of cases) {
    const wheel = await wheelFile('malformed-rc', '1.0.0');
    const r = await runPublish(['-r', 'internal', wheel.path], {
      HOME: home(text),
      PIER_TOKEN: token,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /hint: Fix the file/);
    assert.ok(!(r.stdout + r.stderr).includes(secret), r.stderr);
  }
  assert.deepEqual(await simpleFiles('malformed-rc'), before);
});

test('--json: one document on standard output that matches what was uploaded', async () => {
  const dir = join(tempDir('pier-json-'), 'dist');
  mkdirSync(dir);
  const made = [await makeWheel({ name: 'json-out' }), await makeSdist({ name: 'json-out' })];
  for (const m of made) writeFileSync(join(dir, m.filename), m.content);
  const r = await runPublish(['--repository-url', upload, '--json', dir], {
    HOME: home(null),
    PIER_TOKEN: token,
  });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const listed = await simpleFiles('json-out');
  assert.equal(doc.error, null);
  assert.equal(doc.repository_url, upload);
  assert.deepEqual(doc.authentication, { method: 'token', source: 'PIER_TOKEN' });
  assert.equal(doc.files.length, 2);
  for (const f of doc.files) {
    const local = made.find((m) => m.filename === f.filename)!;
    assert.equal(f.status, 'uploaded');
    assert.equal(f.project, 'json-out');
    assert.equal(f.version, '1.0.0');
    assert.equal(f.size, local.content.length);
    assert.equal(f.hashes.sha256, sha256(local.content));
    assert.equal(f.hashes.md5, createHash('md5').update(local.content).digest('hex'));
    assert.match(f.hashes.blake2_256, /^[0-9a-f]{64}$/);
    const onIndex = listed.find((l) => l.filename === f.filename)!;
    assert.equal(f.hashes.sha256, onIndex.hashes.sha256);
    assert.equal(
      f.url,
      new URL(onIndex.url, `${server.url}/simple/json-out/`).href.replace(/#.*/, ''),
    );
    const download = Buffer.from(await (await fetch(f.url)).arrayBuffer());
    assert.equal(sha256(download), f.hashes.sha256);
  }

  // In GitHub Actions the masks go to standard error (the runner reads commands there too):
  // standard output stays one document.
  const wheel = await wheelFile('json-out', '1.0.1');
  const masked = await runPublish(['--repository-url', upload, '--json', wheel.path], {
    HOME: home(null),
    PIER_TOKEN: token,
    GITHUB_ACTIONS: 'true',
  });
  assert.equal(masked.code, 0, masked.stderr);
  assert.equal(JSON.parse(masked.stdout).files[0].filename, wheel.filename);
  assert.ok(masked.stderr.includes(`::add-mask::${token}\n`));

  // A refusal is a document too, with the error and what was done before it.
  const changed = await makeWheel({ name: 'json-out', salt: 'other bytes' });
  const path = join(tempDir('pier-json-'), changed.filename);
  writeFileSync(path, changed.content);
  const refused = await runPublish(['--repository-url', upload, '--json', path], {
    HOME: home(null),
    PIER_TOKEN: token,
  });
  assert.equal(refused.code, 1);
  const err = JSON.parse(refused.stdout);
  assert.equal(err.error.code, 'upload-failed');
  assert.match(err.error.message, /refused the upload: 400/);
  assert.deepEqual(err.files, []);
});
