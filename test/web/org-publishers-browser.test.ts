// A browser test: it runs once, on the embedded default (the page's rows and refusals on
// PostgreSQL are tested by org-publishers.test.ts, which runs on both backends).
// Organisation-wide publishers in Debian's Chromium: an owner of the organisation who is not an
// administrator finds no way to them; an administrator follows the organisation page's link,
// finds each provider's registration fields from the registry on its tab, sees a bad field's
// error next to it and a bad pattern's reason, adds a publisher trusting `pier dev-oidc`'s job for
// the organisation's projects matching a glob, sees which projects it covers; that job's token
// is exchanged (the pypa action's way) for a token of exactly those projects and twine uploads
// with it; once the publisher is removed in the browser, the same job's exchange is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { RELEASE_JOB, startDevOidcProcess, type DevOidcProcess } from '../support/dev-oidc.js';
import { twineUpload } from '../support/python.js';
import { sample } from '../support/fixtures.js';
import { PROVIDER_KINDS, PROVIDERS } from '../../src/oidc/providers/index.js';
import { addUser, launchChromium } from './helpers.js';

let server: TestServer;
let dev: DevOidcProcess;
let browser: Browser;
let page: Page;
const passwords: Record<string, string> = {};

async function go(path: string): Promise<number> {
  const response = await page.goto(`${server.url}${path}`);
  return response?.status() ?? 0;
}

async function submit(form: string): Promise<void> {
  await Promise.all([page.waitForLoadState('load'), page.click(`${form} button[type=submit]`)]);
  await page.waitForLoadState('load');
}

async function signIn(username: string): Promise<void> {
  await go('/login');
  await page.fill('#f-username', username);
  await page.fill('#f-password', passwords[username]!);
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

/** The job's OIDC token, asked for as a GitHub Actions job does. */
async function jobToken(): Promise<string> {
  const audience = new URL(server.url).host;
  const res = await fetch(
    `${dev.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`,
    { headers: { authorization: `bearer ${dev.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } },
  );
  assert.equal(res.status, 200);
  return ((await res.json()) as { value: string }).value;
}

async function mint(): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/_/oidc/mint-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: await jobToken() }),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  [server, dev] = await Promise.all([startServer(), startDevOidcProcess(RELEASE_JOB)]);
  const s = server.services;
  await s.issuers.add(OPERATOR, { kind: 'github', url: dev.url, insecure: true });
  passwords.root = await addUser(server, 'root', { admin: true });
  passwords.carol = await addUser(server, 'carol');
  await s.orgs.create(OPERATOR, 'acme', 'carol');
  for (const name of ['pier-sample', 'pier-docs', 'notpier']) {
    await s.projects.create(OPERATOR, name, 'carol');
    await s.orgs.transferProject(OPERATOR, name, 'acme');
  }
  // Matches the pattern, but is not the organisation's: never covered.
  await s.projects.create(OPERATOR, 'pier-other', 'carol');
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  await server?.close();
});

test('an owner of the organisation who is not an administrator finds no way in', async () => {
  await signIn('carol');
  assert.equal(await go('/orgs/acme'), 200);
  assert.equal(await page.locator('#org-wide-publishers').count(), 0);
  assert.equal(await page.locator('a[href="/orgs/acme/publishers"]').count(), 0);
  assert.equal(await go('/orgs/acme/publishers'), 403);
  assert.match(
    (await page.textContent('main')) ?? '',
    /Only administrators may manage organisation-wide trusted publishers/,
  );
  await signOut();
});

test('an administrator adds a publisher; its job uploads to the matching projects only; removed, it is refused', async () => {
  await signIn('root');
  assert.equal(await go('/orgs/acme'), 200);
  await Promise.all([
    page.waitForURL(`${server.url}/orgs/acme/publishers`),
    page.click('#org-wide-publishers a'),
  ]);
  assert.equal(await page.locator('#no-publishers').count(), 1);

  // Each provider's tab shows that provider's fields from the registry, and the pattern.
  for (const kind of PROVIDER_KINDS) {
    await Promise.all([
      page.waitForURL(`${server.url}/orgs/acme/publishers?provider=${kind}`),
      page.click(`nav.tabs a[href$="provider=${kind}"]`),
    ]);
    const names = await page.$$eval('#publisher-form [name]', (els) =>
      els.map((e) => e.getAttribute('name')),
    );
    assert.deepEqual(
      names.filter((n) => n !== '_csrf' && n !== 'provider'),
      ['projects', ...PROVIDERS[kind].fields.map((f) => f.name), 'issuer'],
      kind,
    );
  }
  await page.click('nav.tabs a[href$="provider=github"]');
  await page.waitForURL(`${server.url}/orgs/acme/publishers?provider=github`);

  await page.fill('#f-owner', 'octo-org');
  await page.fill('#f-ownerId', 'sixty-five');
  await page.fill('#f-repository', 'octo-repo');
  await page.fill('#f-workflow', 'release.yml');
  await page.selectOption('#f-issuer', dev.url);
  await page.fill('#f-projects', 'Pier_*');
  await submit('#publisher-form');
  assert.match(
    (await page.textContent('.error[data-field="ownerId"]')) ?? '',
    /must be GitHub's numeric account id, got 'sixty-five'/,
  );
  // What was typed is kept.
  assert.equal(await page.inputValue('#f-projects'), 'Pier_*');
  await page.fill('#f-ownerId', '65');
  await page.fill('#f-projects', 'pier/*');
  await submit('#publisher-form');
  assert.match(
    (await page.textContent('.form-error')) ?? '',
    /The project pattern 'pier\/\*' may only hold the characters of project names/,
  );
  assert.equal(
    (await server.services.db.kysely.selectFrom('publishers').select('id').execute()).length,
    0,
  );
  await page.fill('#f-projects', 'Pier_*');
  await submit('#publisher-form');
  assert.equal(
    ((await page.textContent('.flash')) ?? '').trim(),
    "Added GitHub octo-org/octo-repo, workflow release.yml as an organisation-wide publisher of acme for projects matching 'pier-*'.",
  );
  const card = page.locator('article.publisher');
  assert.equal(await card.count(), 1);
  assert.equal((await card.locator('.covers').textContent())?.trim(), 'pier-docs, pier-sample');
  const id = Number(await card.getAttribute('data-publisher-id'));

  // The job's token: the organisation's matching projects, nothing else.
  const minted = await mint();
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  const { hashToken } = await import('../../src/auth/tokens.js');
  const granted = await server.services.db.kysely
    .selectFrom('tokens')
    .innerJoin('token_projects', 'token_projects.token_id', 'tokens.id')
    .innerJoin('projects', 'projects.id', 'token_projects.project_id')
    .select(['projects.normalized_name', 'token_projects.publisher_id'])
    .where('tokens.token_hash', '=', hashToken(minted.body.token))
    .orderBy('projects.normalized_name')
    .execute();
  assert.deepEqual(
    granted.map((g) => [g.normalized_name, Number(g.publisher_id)]),
    [
      ['pier-docs', id],
      ['pier-sample', id],
    ],
  );
  const up = await twineUpload(server.url, [sample('sample').wheel], {
    username: '__token__',
    password: minted.body.token,
  });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.equal(await go('/project/pier-sample/'), 200);
  assert.match((await page.textContent('main')) ?? '', /1\.0\.0/);

  await go('/orgs/acme/publishers');
  await Promise.all([
    page.waitForURL(`${server.url}/orgs/acme/publishers`),
    page.click(`#publisher-${id} form[action$="/remove"] button`),
  ]);
  assert.match(((await page.textContent('.flash')) ?? '').trim(), /^Removed GitHub octo-org/);
  assert.equal(await page.locator('#no-publishers').count(), 1);
  const refused = await mint();
  assert.notEqual(refused.status, 200);
  assert.equal(refused.body.errors?.[0]?.code, 'invalid-publisher', JSON.stringify(refused.body));
  // The token minted before is of no use any more either.
  const again = await twineUpload(server.url, [sample('sample').sdist], {
    username: '__token__',
    password: minted.body.token,
  });
  assert.notEqual(again.code, 0);
});
