// The web interface in Chromium without JavaScript and at phone width (375 px): nothing that
// needs the script shows, the navigation is a menu that opens without it, and the project,
// token and audit pages do not overflow horizontally.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { launchChromium } from './helpers.js';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  server = await startServer();
  await server.services.auth.addUser(OPERATOR, { username: 'pat', password: 'pat-password-1' });
  const token = await server.userWithToken('pat', { mayCreateProjects: true });
  await server.services.projects.create(OPERATOR, 'pocket-sized-project-with-a-long-name', 'pat');
  const w = await makeWheel({ name: 'pocket-sized-project-with-a-long-name', version: '1.0' });
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({
      ...w,
      fields: { name: 'pocket-sized-project-with-a-long-name', version: '1.0' },
    }),
  );
  assert.equal(res.status, 200, res.body);
  browser = await launchChromium();
  context = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 375, height: 740 },
  });
  page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.fill('#f-username', 'pat');
  await page.fill('#f-password', 'pat-password-1');
  await Promise.all([page.waitForLoadState('load'), page.click('form button[type=submit]')]);
  await page.goto(`${server.url}/account/tokens`);
  await page.fill('#f-name', 'a token with a rather long name for a phone');
  await Promise.all([page.waitForLoadState('load'), page.click('#token-form button[type=submit]')]);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

const PAGES = [
  '/project/pocket-sized-project-with-a-long-name/',
  '/account/tokens',
  '/manage/project/pocket-sized-project-with-a-long-name/audit/',
];

test('without JavaScript, no Copy button shows', async () => {
  for (const path of ['/project/pocket-sized-project-with-a-long-name/']) {
    await page.goto(`${server.url}${path}`);
    const buttons = page.locator('[data-copy-target]');
    assert.ok((await buttons.count()) > 0, path);
    for (let i = 0; i < (await buttons.count()); i++)
      assert.equal(await buttons.nth(i).isVisible(), false, `${path}: a Copy button shows`);
  }
});

test('at 375 px the navigation is a menu that opens without JavaScript', async () => {
  await page.goto(`${server.url}/`);
  assert.equal(await page.locator('nav.main-nav').isVisible(), false);
  const tokens = page.locator('.site-menu nav a', { hasText: 'API tokens' });
  assert.equal(await tokens.isVisible(), false);
  await page.click('.site-menu summary');
  assert.equal(await tokens.isVisible(), true);
});

test('at 375 px the project, token and audit pages do not overflow', async () => {
  for (const path of PAGES) {
    await page.goto(`${server.url}${path}`);
    assert.equal(page.url(), `${server.url}${path}`);
    const widths = (await page.evaluate(
      '[document.documentElement.scrollWidth, window.innerWidth]',
    )) as [number, number];
    const wide = await page.evaluate(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName + '.' + e.className).slice(0, 8).join(' ')`,
    );
    assert.ok(
      widths[0] <= widths[1],
      `${path}: ${widths[0]} px wide in a ${widths[1]} px window (${String(wide)})`,
    );
  }
});
