// On the embedded default only: what this file tests is the publish client; the upload path it
// ends in is tested on PostgreSQL with S3 as well, by e2e/twine-pip and test/http.
// The GitHub Action, run exactly as the Actions runner runs a JavaScript action: `node
// action/dist/index.cjs` (the committed bundle) from a copy of the repository's files without
// node_modules (what the runner downloads for `uses:`), in the workspace, with the inputs as INPUT_*
// variables (dashes kept: INPUT_REPOSITORY-URL), the GITHUB_* and RUNNER_* variables, a step
// summary file, and the ACTIONS_ID_TOKEN_REQUEST_* variables of `pier dev-oidc`. Against pier over
// HTTPS with a private CA (NODE_EXTRA_CA_CERTS); then pip installs what was published.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  RELEASE_JOB,
  releaseJobPublisher,
  startDevOidcProcess,
  type DevOidcProcess,
} from '../support/dev-oidc.js';
import { sample } from '../support/fixtures.js';
import { createVenv, exec, pipInstall } from '../support/python.js';
import { REPO_ROOT, runPier, startPierProcess, type PierProcess } from '../support/server.js';
import { testCertificates } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { backendEnv } from '../support/backend.js';
import { blake2, md5, sha256 } from '../support/upload.js';
import { ACTION_BUNDLE, cleanEnv, runNode } from '../client/processes.js';

const certs = testCertificates();
let pier: PierProcess;
let dev: DevOidcProcess;
let env: Record<string, string>;
let actionCheckout: string;

/**
 * The action as a runner has it: the repository's files at the ref, no node_modules, so the
 * bundle must carry every dependency (the SPDX lists once were read from node_modules at run
 * time, which worked here and failed on a runner).
 */
function checkoutAction(): string {
  const root = tempDir('pier-action-checkout-');
  mkdirSync(join(root, 'action', 'dist'), { recursive: true });
  for (const file of ['package.json', 'action.yml'])
    copyFileSync(join(REPO_ROOT, file), join(root, file));
  const bundle = join(root, 'action', 'dist', 'index.cjs');
  copyFileSync(ACTION_BUNDLE, bundle);
  return bundle;
}

async function pierOk(args: string[], input?: string): Promise<string> {
  const r = await runPier(args, env, input);
  assert.equal(r.code, 0, `pier ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

interface Job {
  workspace: string;
  summary: string;
  run(
    inputs: Record<string, string>,
    jobEnv?: Record<string, string | undefined>,
  ): ReturnType<typeof runNode>;
}

/** A fresh runner workspace whose dist/ holds `files`, nested as download-artifact may nest them. */
function job(files: string[], nested: string[] = []): Job {
  const root = tempDir('pier-action-');
  const workspace = join(root, 'work');
  const dist = join(workspace, 'dist');
  mkdirSync(dist, { recursive: true });
  for (const f of files) {
    if (nested.includes(f)) {
      mkdirSync(join(dist, basename(f)));
      copyFileSync(f, join(dist, basename(f), basename(f)));
    } else copyFileSync(f, join(dist, basename(f)));
  }
  const temp = join(root, 'runner-temp');
  mkdirSync(temp);
  const summary = join(temp, 'step_summary');
  writeFileSync(summary, '');
  const event = join(temp, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'octo-org/octo-repo' } }),
  );
  return {
    workspace,
    summary,
    run(inputs, jobEnv = dev.env) {
      const vars: Record<string, string | undefined> = {
        CI: 'true',
        GITHUB_WORKSPACE: workspace,
        GITHUB_REPOSITORY: 'octo-org/octo-repo',
        GITHUB_REPOSITORY_OWNER: 'octo-org',
        GITHUB_EVENT_NAME: 'push',
        GITHUB_EVENT_PATH: event,
        GITHUB_STEP_SUMMARY: summary,
        GITHUB_ACTION: '__pier_publish',
        RUNNER_TEMP: temp,
        RUNNER_OS: 'Linux',
        RUNNER_ARCH: 'X64',
        NODE_EXTRA_CA_CERTS: certs.caCert,
        ...jobEnv,
      };
      for (const [name, value] of Object.entries(inputs))
        vars[`INPUT_${name.toUpperCase()}`] = value;
      return runNode([actionCheckout], cleanEnv(vars), workspace);
    },
  };
}

/** The values the action masked, and its output with every `::add-mask::` line removed. */
function masks(output: string): { masked: string[]; rest: string } {
  const masked = [...output.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]!);
  return { masked, rest: output.replace(/^::add-mask::.*\n/gm, '') };
}

before(async () => {
  actionCheckout = checkoutAction();
  env = {
    PIER_DATA_DIR: tempDir('pier-action-data-'),
    PIER_TLS_CERT: certs.cert,
    PIER_TLS_KEY: certs.key,
    ...backendEnv(),
  };
  pier = await startPierProcess(env);
  dev = await startDevOidcProcess(RELEASE_JOB);
  await pierOk(['issuer', 'add', '--kind', 'github', '--url', dev.url, '--insecure']);
  await pierOk(
    ['user', 'add', 'maintainer', '--may-create-projects', '--password-stdin'],
    'pw-123456',
  );
  await pierOk(['project', 'create', 'pier-sample', '--owner', 'maintainer']);
  await pierOk(releaseJobPublisher('pier-sample', dev.url));
});

after(async () => {
  await dev?.stop();
  await pier?.stop();
});

test('trusted publishing from a GitHub job, then pip installs it', async () => {
  const { wheel, sdist } = sample('sample');
  const j = job([wheel, sdist], [wheel]);
  const r = await j.run({ 'repository-url': `${pier.url}/legacy/` });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(r.seconds < 10, `took ${r.seconds} s`);

  // Secrets: the OIDC token and the minted token are masked, and appear nowhere else.
  const { masked, rest } = masks(r.stdout);
  const minted = masked.find((m) => m.startsWith('pypi-pier_'));
  assert.ok(minted, r.stdout);
  assert.ok(
    masked.some((m) => m.split('.').length === 3 && m.startsWith('eyJ')),
    'the OIDC token is masked',
  );
  for (const secret of masked) assert.ok(!(rest + r.stderr).includes(secret));
  assert.match(rest, /Trusted publishing: exchanged the github OIDC token for an upload token/);
  assert.match(rest, /Uploaded pier_sample-1\.0\.0-py3-none-any\.whl/);
  assert.match(rest, /SHA256:\s+[0-9a-f]{64}/);

  // The step summary: each file with its three digests.
  const summary = readFileSync(j.summary, 'utf8');
  assert.match(summary, /<h2>Published to 127\.0\.0\.1:\d+<\/h2>/);
  assert.match(summary, /trusted publishing \(the github OIDC token/);
  for (const file of [wheel, sdist]) {
    const bytes = readFileSync(file);
    assert.ok(summary.includes(basename(file)), basename(file));
    assert.ok(summary.includes(sha256(bytes)), `sha256 of ${basename(file)}`);
    assert.ok(summary.includes(md5(bytes)), `md5 of ${basename(file)}`);
    assert.ok(summary.includes(await blake2(bytes)), `blake2 of ${basename(file)}`);
  }

  const venv = await createVenv();
  const install = await pipInstall(
    venv,
    `${pier.url}/simple/`,
    ['pier-sample'],
    ['--cert', certs.caCert],
  );
  assert.equal(install.code, 0, install.stdout + install.stderr);
  const imported = await exec(venv.python, [
    '-c',
    'import pier_sample; print(pier_sample.GREETING)',
  ]);
  assert.equal(imported.stdout.trim(), 'hello from pier-sample');
});

test('without id-token permission: an ::error annotation that says to add it', async () => {
  const j = job([sample('later').wheel]);
  const withoutToken = {
    ...dev.env,
    ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
  };
  const r = await j.run({ 'repository-url': `${pier.url}/legacy/` }, withoutToken);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /^::error title=No OIDC token for trusted publishing::GitHub Actions gave this job no OIDC token \(ACTIONS_ID_TOKEN_REQUEST_URL is unset\).*%0A%0Ahint: Add `permissions: id-token: write` to the publishing job/m,
  );
  const summary = readFileSync(j.summary, 'utf8');
  assert.match(summary, /No OIDC token for trusted publishing/);
  assert.match(summary, /<h3>What to change<\/h3>/);
  assert.match(summary, /permissions: id-token: write/);
});

test('a job no publisher trusts: the annotation has the claims and the command to register it', async () => {
  const fork = await startDevOidcProcess([
    '--repository',
    'someone/fork-repo',
    '--workflow',
    'publish.yml',
  ]);
  try {
    await pierOk(['issuer', 'add', '--kind', 'github', '--url', fork.url, '--insecure']);
    const j = job([sample('later').sdist]);
    const r = await j.run({ 'repository-url': `${pier.url}/legacy/` }, fork.env);
    assert.equal(r.code, 1);
    const annotation = /^::error title=Trusted publishing exchange failed::(.*)$/m.exec(
      r.stdout,
    )?.[1];
    assert.ok(annotation, r.stdout);
    const text = annotation.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
    assert.match(text, /`invalid-publisher`: valid token, but no corresponding publisher/);
    assert.match(text, /repository\s+someone\/fork-repo/);
    assert.match(
      text,
      /job_workflow_ref\s+someone\/fork-repo\/\.github\/workflows\/publish\.yml@refs\/heads\/main/,
    );
    assert.ok(
      text.includes(
        `pier publisher add pier-sample --provider github --repository someone/fork-repo --workflow publish.yml --owner-id 65 --issuer ${fork.url}`,
      ),
      text,
    );
    const { masked, rest } = masks(r.stdout);
    for (const secret of masked) assert.ok(!(rest + r.stderr).includes(secret));
  } finally {
    await fork.stop();
  }
});

test('a token as password, the old input spellings, and skip-existing', async () => {
  const token = await pierOk(['token', 'create', '--user', 'maintainer', '--scope', 'upload']);
  const { wheel, sdist } = sample('sample');
  const j = job([wheel, sdist]);
  const inputs = {
    repository_url: `${pier.url}/legacy/`,
    password: token,
    'skip-existing': 'true',
    'print-hash': 'false',
    verbose: 'false',
  };
  const r = await j.run(inputs, { GITHUB_ACTIONS: 'true' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const { masked, rest } = masks(r.stdout);
  assert.ok(masked.includes(token));
  assert.ok(!(rest + r.stderr).includes(token));
  assert.doesNotMatch(rest, /SHA256:/);
  assert.match(
    rest,
    /Skipped pier_sample-1\.0\.0-py3-none-any\.whl: the index has it already \(same SHA-256\)/,
  );
  const summary = readFileSync(j.summary, 'utf8');
  assert.match(summary, /an API token \(password\)/);
  assert.match(summary, /skipped: the index has it already/);
  const bad = await j.run({ ...inputs, 'skip-existing': 'maybe' }, { GITHUB_ACTIONS: 'true' });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stdout,
    /::error title=Invalid input::The input skip-existing must be true or false, not 'maybe'/,
  );
});
