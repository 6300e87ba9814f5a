// Browser tests run once, on the embedded default (the services beneath are tested on both backends).
// The web interface in Debian's Chromium, against pier over HTTPS (the tests' private CA; the
// browser trusts pier's certificate by its key): an administrator adds a user and a trusted
// issuer; the user signs in, creates a project, sees each validation error of the publisher
// forms next to its field, adds a publisher and copies its workflow; a trusted publish with
// `pier dev-oidc` (the exchange as the pypa action does it, twine with the minted token) puts a
// file on the project page with its provenance; the audit log shows the exchanges, the failed
// one with its reason; a token made in the browser uploads, and once revoked its uploads fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OPERATOR, REPO_ROOT, startServer, type TestServer } from '../support/server.js';
import { testCertificates } from '../support/tls.js';
import { RELEASE_JOB, startDevOidcProcess, type DevOidcProcess } from '../support/dev-oidc.js';
import { exec, SYSTEM_PYTHON, twineUpload } from '../support/python.js';
import { sample } from '../support/fixtures.js';
import { launchChromium } from './helpers.js';

const EXCHANGE = join(REPO_ROOT, 'test', 'fixtures', 'oidc_exchange.py');
const certs = testCertificates();
let server: TestServer;
let dev: DevOidcProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let maintainerPassword = '';
let publisherId = '';

function exchange() {
  return exec(SYSTEM_PYTHON, [EXCHANGE], {
    ...dev.env,
    INPUT_REPOSITORY_URL: `${server.url}/legacy/`,
    REQUESTS_CA_BUNDLE: certs.caCert,
    CURL_CA_BUNDLE: '',
    SSL_CERT_FILE: '',
  });
}

async function go(path: string): Promise<void> {
  const response = await page.goto(`${server.url}${path}`);
  assert.ok(response && response.status() < 400, `${path}: ${response?.status()}`);
}

/** Submits a form and waits for the page it leads to. */
async function submit(form: string): Promise<void> {
  await Promise.all([page.waitForLoadState('load'), page.click(`${form} button[type=submit]`)]);
  await page.waitForLoadState('load');
}

async function signIn(username: string, password: string): Promise<void> {
  await go('/login');
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await Promise.all([
    page.waitForURL(`${server.url}/`),
    page.click('#login-form button[type=submit]'),
  ]);
}

async function signOut(): Promise<void> {
  await Promise.all([
    page.waitForURL(`${server.url}/`),
    page.click('header form[action="/logout"] button'),
  ]);
}

/** The error shown in the same field block as the input, or null. */
async function errorNextTo(name: string): Promise<string | null> {
  const field = page.locator(`.field:has(#f-${name})`);
  const error = field.locator(`.error[data-field="${name}"]`);
  return (await error.count()) > 0 ? ((await error.textContent()) ?? '').trim() : null;
}

async function flash(): Promise<string> {
  return ((await page.textContent('.flash')) ?? '').trim();
}

before(async () => {
  server = await startServer({ tlsCert: certs.cert, tlsKey: certs.key });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  await server.services.auth.addUser(OPERATOR, {
    username: 'root',
    password: 'root-password-1',
    admin: true,
  });
  await server.services.auth.addUser(OPERATOR, { username: 'carol', password: 'carol-password-1' });
  dev = await startDevOidcProcess(RELEASE_JOB);
  browser = await launchChromium(certs.cert);
  context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  page = await context.newPage();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await dev?.stop();
  await server?.close();
});

test('an administrator adds a user and trusts an OIDC issuer', async () => {
  await signIn('root', 'root-password-1');
  await go('/admin/users');
  await page.fill('#f-username', 'maintainer');
  await page.check('input[name=may_create_projects]');
  await submit('#add-user-form');
  maintainerPassword = ((await page.textContent('#new-user-password')) ?? '').trim();
  assert.match(maintainerPassword, /\S{12,}/, 'the generated password is shown once');
  assert.match((await page.textContent('tr[data-user="maintainer"]')) ?? '', /creates projects/);

  await go('/admin/issuers');
  await page.selectOption('#f-kind', 'github');
  await page.fill('#f-url', dev.url);
  await page.check('input[name=insecure]');
  await submit('#add-issuer-form');
  assert.equal(await flash(), `Added the issuer ${dev.url}.`);
  assert.equal(await page.locator(`tr[data-issuer="${dev.url}"]`).count(), 1);
  await signOut();
});

test('a maintainer creates a project and sees each publisher field’s error next to it', async () => {
  await signIn('maintainer', maintainerPassword);
  await go('/projects/new');
  await page.fill('#f-name', 'pier-sample');
  await submit('#new-project-form');
  assert.equal(new URL(page.url()).pathname, '/manage/project/pier-sample/publishing/');
  assert.match(await flash(), /Created pier-sample/);
  assert.equal(await page.locator('#no-publishers').count(), 1);

  // GitHub: every field wrong at once (an owner id is given, so nothing is looked up).
  await page.fill('#f-owner', 'bad owner!');
  await page.fill('#f-repository', 'bad/repo');
  await page.fill('#f-workflow', 'release.txt');
  await page.fill('#f-environment', ' release');
  await page.fill('#f-ownerId', 'abc');
  await page.fill('#f-ref', 'tags/v*');
  await submit('#publisher-form');
  assert.equal(await errorNextTo('owner'), 'Invalid GitHub user or organization name.');
  assert.equal(await errorNextTo('repository'), 'Invalid repository name');
  assert.equal(await errorNextTo('workflow'), 'Workflow name must end with .yml or .yaml');
  assert.equal(await errorNextTo('environment'), 'Environment name may not start with whitespace');
  assert.equal(
    await errorNextTo('ownerId'),
    "The owner's id must be GitHub's numeric account id, got 'abc'",
  );
  assert.equal(
    await errorNextTo('ref'),
    'Ref pattern must start with refs/ (for example refs/tags/v*)',
  );
  assert.equal(await page.inputValue('#f-owner'), 'bad owner!', 'what was typed is kept');
  assert.equal(await page.locator('#f-owner[aria-invalid=true]').count(), 1);

  // Nothing typed: what is required says so.
  await go('/manage/project/pier-sample/publishing/');
  await submit('#publisher-form');
  assert.equal(
    await errorNextTo('owner'),
    'Specify GitHub repository owner (username or organization)',
  );
  assert.equal(await errorNextTo('repository'), 'Specify repository name');
  assert.equal(await errorNextTo('workflow'), 'Specify workflow filename');

  // The owner's id cannot be looked up at this issuer: the id field says to enter it.
  await go('/manage/project/pier-sample/publishing/');
  await page.fill('#f-owner', 'octo-org');
  await page.fill('#f-repository', 'octo-repo');
  await page.fill('#f-workflow', 'release.yml');
  await page.selectOption('#f-issuer', dev.url);
  await submit('#publisher-form');
  assert.equal(
    await errorNextTo('ownerId'),
    `pier does not know the API of ${dev.url}; give the owner's numeric id`,
  );
  assert.equal(await errorNextTo('owner'), null);

  // The other providers' forms.
  await go('/manage/project/pier-sample/publishing/?provider=gitlab');
  await page.fill('#f-namespace', 'group..name');
  await page.fill('#f-project', 'project.git');
  await page.fill('#f-workflowPath', '/.gitlab-ci.yml');
  await page.fill('#f-environment', 'bad"env');
  await submit('#publisher-form');
  assert.equal(await errorNextTo('namespace'), 'Invalid GitLab username or group/subgroup name.');
  assert.equal(await errorNextTo('project'), 'Name ends with .git or .atom');
  assert.equal(
    await errorNextTo('workflowPath'),
    'Top-level pipeline file path cannot start or end with /',
  );
  assert.equal(await errorNextTo('environment'), 'Invalid environment name');
  await go('/manage/project/pier-sample/publishing/?provider=google');
  await page.fill('#f-email', 'not-an-email');
  await page.fill('#f-sub', 'has space');
  await submit('#publisher-form');
  assert.equal(await errorNextTo('email'), 'Invalid email address.');
  assert.equal(await errorNextTo('sub'), 'Invalid subject: it cannot contain whitespace');
  await go('/manage/project/pier-sample/publishing/?provider=activestate');
  await page.fill('#f-project', 'ab');
  await submit('#publisher-form');
  assert.equal(await errorNextTo('organization'), 'Specify ActiveState organization name');
  assert.equal(await errorNextTo('project'), 'Invalid ActiveState project name');
  assert.equal(await errorNextTo('actor'), 'Specify the ActiveState actor username');
  assert.equal(await errorNextTo('actorId'), "Specify the actor's id (it could not be looked up)");
  assert.equal(
    await server.services.db.kysely.selectFrom('publishers').select('id').executeTakeFirst(),
    undefined,
  );
});

async function addGithubPublisher(environment: string): Promise<string> {
  await go('/manage/project/pier-sample/publishing/');
  await page.fill('#f-owner', 'octo-org');
  await page.fill('#f-repository', 'octo-repo');
  await page.fill('#f-workflow', 'release.yml');
  await page.fill('#f-environment', environment);
  await page.fill('#f-ownerId', '65');
  await page.selectOption('#f-issuer', dev.url);
  await submit('#publisher-form');
  assert.equal(
    await flash(),
    `Added GitHub octo-org/octo-repo, workflow release.yml, environment ${environment} as a trusted publisher of pier-sample.`,
  );
  return (await page.getAttribute('article.publisher', 'data-publisher-id'))!;
}

test('a publisher is added, removed, added again; its workflow is copied', async () => {
  // A publisher for another environment: the job's exchange fails, with the reason in the log.
  const wrong = await addGithubPublisher('production');
  const failed = await exchange();
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /invalid-publisher/);
  await Promise.all([page.waitForLoadState('load'), page.click(`#publisher-${wrong} form button`)]);
  assert.match(
    await flash(),
    /^Removed GitHub octo-org\/octo-repo, workflow release\.yml, environment production from pier-sample\.$/,
  );
  assert.equal(await page.locator('article.publisher').count(), 0);

  publisherId = await addGithubPublisher('release');
  const card = page.locator(`#publisher-${publisherId}`);
  assert.match((await card.textContent()) ?? '', /issuer\s*http:\/\/127\.0\.0\.1:\d+/);
  const button = card.locator(`button[data-copy-target="workflow-${publisherId}"]`);
  assert.equal(await button.isVisible(), true, 'the script shows the copy button');
  await button.click();
  await page.waitForSelector(
    `button[data-copy-target="workflow-${publisherId}"][data-copied=true]`,
  );
  const copied = (await page.evaluate('navigator.clipboard.readText()')) as string;
  assert.equal(copied, await page.textContent(`#workflow-${publisherId}`));
  assert.match(copied, /^# \.github\/workflows\/release\.yml in octo-org\/octo-repo\n/);
  for (const lines of [
    ['  build:', '    runs-on: ubuntu-latest'],
    ['      - uses: actions/upload-artifact@v4'],
    ['  publish:', '    needs: build'],
    ['    environment: release '],
    ['    permissions:', '      id-token: write '],
  ])
    assert.ok(copied.includes(`\n${lines.join('\n')}`), `${lines.join('\n')} in\n${copied}`);
  // The test server listens on a loopback address, which no runner could reach.
  assert.ok(
    copied.includes('\n          repository-url: ${{ vars.PIER_REPOSITORY_URL }}\n'),
    copied,
  );
  assert.match((await card.textContent()) ?? '', /must be reachable by the runner/);
});

test('a trusted publish with pier dev-oidc: the files and their provenance on the project page', async () => {
  const minted = await exchange();
  assert.equal(minted.code, 0, minted.stderr);
  const { wheel, sdist } = sample('sample');
  const up = await twineUpload(
    server.url,
    [wheel, sdist],
    { username: '__token__', password: minted.stdout.trim() },
    ['--cert', certs.caCert],
  );
  assert.equal(up.code, 0, up.stdout + up.stderr);

  await go('/project/pier-sample/');
  assert.equal(((await page.textContent('h1 .release-version')) ?? '').trim(), '1.0.0');
  for (const path of [wheel, sdist]) {
    const filename = basename(path);
    const row = page.locator(`tr[id="file-${filename}"]`);
    assert.equal(await row.count(), 1, filename);
    const bytes = readFileSync(path);
    assert.equal(
      await row.locator('.sha256').textContent(),
      createHash('sha256').update(bytes).digest('hex'),
    );
    assert.match(
      (await row.textContent()) ?? '',
      new RegExp(`${bytes.length.toLocaleString('en')} bytes`),
    );
    assert.match((await row.locator('time').getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
    const provenance = row.locator('.provenance');
    const text = ((await provenance.textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(text, /repository octo-org\/octo-repo/);
    assert.match(text, /workflow release\.yml/);
    assert.match(text, /environment release/);
    assert.match(text, /ref refs\/heads\/main/);
    const sha =
      dev.output().match(/sha[^0-9a-f]*([0-9a-f]{40})/)?.[1] ??
      '1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4';
    assert.equal(
      await provenance.locator('a:has(code)').getAttribute('href'),
      `${dev.url}/octo-org/octo-repo/commit/${sha}`,
    );
    const run = provenance.locator('a', { hasText: /^run \d+, attempt \d+$/ });
    assert.match(
      (await run.getAttribute('href')) ?? '',
      new RegExp(
        `^${dev.url.replace(/\./g, '\\.')}/octo-org/octo-repo/actions/runs/\\d+/attempts/\\d+$`,
      ),
    );
  }

  // The audit log, by kind: the failed exchange with its reason, the exchanges, the uploads.
  await go('/manage/project/pier-sample/audit/?kind=failed-exchanges');
  const failedRow = ((await page.textContent('table.audit tbody')) ?? '').replace(/\s+/g, ' ');
  assert.match(failedRow, /oidc-exchange-failed/);
  assert.match(
    failedRow,
    /invalid-publisher: .*Check failed for claim 'environment': expected 'production' \(in any case\), got 'release'/,
  );
  await go('/manage/project/pier-sample/audit/?kind=exchanges');
  assert.equal(await page.locator('tr[data-action="oidc-exchange"]').count(), 1);
  assert.equal(await page.locator('tr[data-action="upload"]').count(), 0);
  await go('/manage/project/pier-sample/audit/?kind=uploads');
  assert.equal(await page.locator('tr[data-action="upload"]').count(), 2);
  await go('/manage/project/pier-sample/audit/?kind=publishers');
  assert.equal(await page.locator('tr[data-action="publisher-add"]').count(), 2);
  assert.equal(await page.locator('tr[data-action="publisher-remove"]').count(), 1);
});

test('a token made in the browser uploads; once revoked, its uploads fail', async () => {
  await go('/account/tokens');
  await page.fill('#f-name', 'release from laptop');
  await page.selectOption('#f-scope', 'upload');
  await page.fill('#f-projects', 'pier-sample');
  await page.selectOption('#f-expires', '7d');
  await submit('#token-form');
  const token = ((await page.textContent('#new-token-value')) ?? '').trim();
  assert.match(token, /^pypi-pier_/);
  await page.click('button[data-copy-target="new-token-value"]');
  await page.waitForSelector('button[data-copy-target="new-token-value"][data-copied=true]');
  assert.equal(await page.evaluate('navigator.clipboard.readText()'), token);
  await go('/account/tokens');
  assert.equal(await page.locator('#new-token-value').count(), 0, 'shown once only');
  const row = page.locator('table.tokens tr', { hasText: 'release from laptop' });
  assert.match((await row.textContent()) ?? '', /pier-sample/);

  const later = sample('later');
  const ok = await twineUpload(
    server.url,
    [later.wheel],
    { username: '__token__', password: token },
    ['--cert', certs.caCert],
  );
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);

  await Promise.all([
    page.waitForLoadState('load'),
    row.locator('a', { hasText: 'Revoke' }).click(),
  ]);
  await Promise.all([
    page.waitForLoadState('load'),
    page.locator('#confirm-revoke form button', { hasText: 'Revoke' }).click(),
  ]);
  assert.match(await flash(), /^Token \d+ was revoked\.$/);
  assert.match(
    (await page.locator('table.tokens tr', { hasText: 'release from laptop' }).textContent()) ?? '',
    /revoked/,
  );
  const refused = await twineUpload(
    server.url,
    [later.sdist],
    { username: '__token__', password: token },
    ['--cert', certs.caCert],
  );
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stdout + refused.stderr,
    /403 Forbidden[\s\S]*Invalid API Token: token has been revoked/,
  );
});

test('collaborators are invited and removed; pending publishers are added and removed', async () => {
  await go('/manage/project/pier-sample/collaborators/');
  await page.fill('#f-username', 'nobody');
  await submit('#collaborator-form');
  assert.match((await page.textContent('.form-error')) ?? '', /No user named 'nobody'/);
  await page.fill('#f-username', 'carol');
  await page.selectOption('#f-role', 'maintainer');
  await submit('#collaborator-form');
  assert.equal(await flash(), 'carol is now maintainer of pier-sample.');
  assert.match((await page.textContent('tr[data-user="carol"]')) ?? '', /maintainer/);
  await Promise.all([
    page.waitForLoadState('load'),
    page.locator('tr[data-user="carol"] form button', { hasText: 'Remove' }).click(),
  ]);
  assert.equal(await flash(), 'carol was removed from pier-sample.');
  assert.equal(await page.locator('tr[data-user="carol"]').count(), 0);
  assert.deepEqual(
    await server.services.projects.roles(
      (await server.services.projects.require('pier-sample', { kind: 'operator', name: 'test' }))
        .id,
    ),
    [{ user: 'maintainer', role: 'owner' }],
  );

  await go('/account/publishers');
  await page.fill('#f-project_name', 'pier-sample');
  await page.fill('#f-owner', 'octo-org');
  await page.fill('#f-repository', 'octo-repo');
  await page.fill('#f-workflow', 'other.yml');
  await page.fill('#f-ownerId', '65');
  await page.selectOption('#f-issuer', dev.url);
  await submit('#publisher-form');
  assert.match(
    (await page.textContent('.form-error')) ?? '',
    /The project 'pier-sample' exists already/,
  );
  await page.fill('#f-project_name', 'pier-next');
  await submit('#publisher-form');
  assert.match(
    await flash(),
    /^Added GitHub octo-org\/octo-repo, workflow other\.yml as a pending publisher of pier-next\.$/,
  );
  const card = page.locator('article.publisher');
  assert.match((await card.textContent()) ?? '', /creates\s*pier-next/);
  assert.match(
    (await card.locator('pre').textContent()) ?? '',
    /# \.github\/workflows\/other\.yml in octo-org\/octo-repo/,
  );
  await Promise.all([page.waitForLoadState('load'), card.locator('form button').click()]);
  assert.equal(await flash(), 'The pending publisher was removed.');
  assert.equal(await page.locator('article.publisher').count(), 0);
});
