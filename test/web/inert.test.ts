// @backends: runs on the embedded default and on PostgreSQL with S3.
// Hostile metadata renders inert, checked in Debian's Chromium with the Content-Security-Policy
// bypassed (so the check is of the markup itself, not of the second line of defence): no script
// runs (a global flag that every payload would set stays unset), no `javascript:` URL, no event
// handler attribute, no frame, object or SVG anywhere in the DOM — whichever field the payload
// sits in: every core metadata field, the description (Markdown, raw HTML, reStructuredText),
// project URLs, the yank reason, the upload comment, provenance claims, the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { OPERATOR, startServer, type TestServer } from '../support/server.js';
import { makeWheel, metadataFromFields } from '../support/dists.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { addUser, launchChromium } from './helpers.js';

const FLAG = 'window.__pwned=1';
const SCRIPT = `<script>${FLAG}</script>`;
const IMG = `<img src=x onerror="${FLAG}">`;
const SVG = `"><svg onload="${FLAG}">`;
const MARKDOWN = [
  '# Hostile',
  SCRIPT,
  IMG,
  SVG,
  `[markdown link](javascript:${FLAG})`,
  `<a href="javascript:${FLAG}">raw link</a>`,
  `<a href="  JaVaScRiPt:${FLAG}">spaced link</a>`,
  `<iframe src="javascript:${FLAG}"></iframe>`,
  `<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>`,
  `<object data="javascript:${FLAG}"></object>`,
  `<details open ontoggle="${FLAG}"><summary>x</summary></details>`,
  `<form action="javascript:${FLAG}"><button formaction="javascript:${FLAG}">go</button></form>`,
  `<math><mtext><table><mglyph><style><img src=x onerror="${FLAG}">`,
  `<base href="javascript:${FLAG}//">`,
  `<meta http-equiv="refresh" content="0;url=javascript:${FLAG}">`,
  '<p id="login-form">clobber</p>',
].join('\n\n');

let server: TestServer;
let browser: Browser;
let rootPassword: string;

before(async () => {
  server = await startServer();
  rootPassword = await addUser(server, 'root', { admin: true });
  const token = await server.userWithToken('root', { admin: true });
  const fields = {
    name: 'hostile',
    version: '1.0.0',
    metadata_version: '2.1',
    summary: `${SCRIPT} summary`,
    description: MARKDOWN,
    description_content_type: 'text/markdown',
    author: IMG,
    maintainer: SVG,
    keywords: `${SCRIPT}, kw`,
    license: `<iframe src="javascript:${FLAG}"></iframe>`,
    classifiers: [`<b onmouseover="${FLAG}">classifier</b>`, 'Programming Language :: Python :: 3'],
    platform: SVG,
    // Labels are at most 32 characters.
    project_urls: [
      '<script>__pwned=1</script>, https://example.com/a',
      '<img src=x onerror=__pwned=1>, https://example.com/b',
    ],
    home_page: 'https://example.com/"onmouseover="window.__pwned=1',
    comment: SCRIPT,
  };
  // pier shows the file's own metadata, so the payloads are in the wheel's METADATA.
  const wheel = await makeWheel({
    name: 'hostile',
    version: '1.0.0',
    metadata: metadataFromFields(fields),
  });
  const up = await postUpload(server.url, token, await uploadParts({ ...wheel, fields }));
  assert.equal(up.status, 200, up.body);
  const rstFields = {
    metadata_version: '2.1',
    name: 'hostile',
    version: '1.0.1',
    description: `.. raw:: html\n\n   ${SCRIPT}\n`,
    description_content_type: 'text/x-rst',
  };
  const rst = await makeWheel({
    name: 'hostile',
    version: '1.0.1',
    metadata: metadataFromFields(rstFields),
  });
  const up2 = await postUpload(server.url, token, await uploadParts({ ...rst, fields: rstFields }));
  assert.equal(up2.status, 200, up2.body);
  // Values the upload's own validation would refuse (a javascript: URL) may still be in a
  // database: put them there directly, with hostile provenance claims.
  const db = server.services.db.kysely;
  const release = await db
    .selectFrom('releases')
    .selectAll()
    .where('version', '=', '1.0.1')
    .executeTakeFirstOrThrow();
  const metadata = JSON.parse(release.metadata_json);
  Object.assign(metadata, {
    homePage: `javascript:${FLAG}`,
    downloadUrl: ` javascript:${FLAG}`,
    projectUrls: { [SCRIPT]: `javascript:${FLAG}`, Data: `data:text/html,${SCRIPT}` },
    summary: IMG,
    requiresDist: [SCRIPT],
    providesExtra: [IMG],
    authorEmail: `"${SCRIPT}" <a@example.com>`,
    licenseExpression: SVG,
    requiresPython: SCRIPT,
  });
  await db
    .updateTable('releases')
    .set({ metadata_json: JSON.stringify(metadata) })
    .where('id', '=', release.id)
    .execute();
  await db
    .updateTable('files')
    .set({
      provenance_json: JSON.stringify({
        publisher: {
          id: 1,
          kind: 'github',
          issuer: 'https://token.actions.githubusercontent.com',
          description: SCRIPT,
          url: `javascript:${FLAG}`,
        },
        claims: {
          repository: `x/y${SVG}`,
          job_workflow_ref: `a/b/.github/workflows/${IMG}@refs/heads/main`,
          ref: SCRIPT,
          sha: `javascript:${FLAG}`,
          run_id: `1" onclick="${FLAG}`,
          run_attempt: '1',
          environment: IMG,
        },
      }),
    })
    .where('release_id', '=', release.id)
    .execute();
  await server.services.manage.setYanked(OPERATOR, 'hostile', '1.0.1', true, `${SCRIPT} yanked`);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** What would show that something ran or could run. */
async function dangers(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const found = [];
    if (window.__pwned !== undefined) found.push('the flag was set');
    if (window.parent.__pwned !== undefined) found.push('the parent flag was set');
    for (const s of document.querySelectorAll('script'))
      if (s.getAttribute('src') !== '/static/pier.js') found.push('script: ' + s.outerHTML.slice(0, 80));
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
        if (name.startsWith('on')) found.push('handler ' + name + ' on <' + el.localName + '>');
        if (['href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'xlink:href'].includes(name) &&
            (value.startsWith('javascript:') || value.startsWith('data:') || value.startsWith('vbscript:') || name === 'srcdoc'))
          found.push(name + '=' + attr.value.slice(0, 60) + ' on <' + el.localName + '>');
        if (name === 'style' && !el.closest('header')) found.push('style attribute on <' + el.localName + '>');
      }
    }
    for (const el of document.querySelectorAll('iframe, frame, object, embed, svg, math, base, meta[http-equiv], style, link:not([rel=stylesheet])'))
      found.push('element <' + el.localName + '>');
    for (const el of document.querySelectorAll('form'))
      if (!(el.getAttribute('action') || '').startsWith('/')) found.push('form to ' + el.getAttribute('action'));
    if (document.getElementById('login-form') && !location.pathname.startsWith('/login')) found.push('clobbered id');
    return found;
  })()`);
}

const PAGES = [
  '/',
  '/?q=hostile',
  `/?q=${encodeURIComponent(SCRIPT)}`,
  '/project/hostile/',
  '/project/hostile/1.0.0/',
  '/project/hostile/1.0.1/',
  '/manage/project/hostile/audit/',
  '/manage/project/hostile/audit/?kind=uploads',
  '/admin/audit',
  `/login?next=${encodeURIComponent(`javascript:${FLAG}`)}`,
];

test('hostile metadata in every field renders inert in Chromium', async (t) => {
  const context = await browser.newContext({ bypassCSP: true, javaScriptEnabled: true });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${server.url}/login`);
  await page.fill('#f-username', 'root');
  await page.fill('#f-password', rootPassword);
  await Promise.all([
    page.waitForURL(`${server.url}/`),
    page.click('#login-form button[type=submit]'),
  ]);
  for (const path of PAGES) {
    const response = await page.goto(`${server.url}${path}`);
    assert.equal(response?.status(), 200, path);
    // Hover over everything, to fire any handler left (events without a default action).
    await page.evaluate(`(() => { for (const el of document.querySelectorAll('main *')) {
      el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
      el.dispatchEvent(new FocusEvent('focus'));
    } })()`);
    await page.waitForTimeout(50);
    assert.deepEqual(await dangers(page), [], path);
  }
  assert.deepEqual(errors, []);
  // The payloads are shown, as text.
  await page.goto(`${server.url}/project/hostile/1.0.0/`);
  assert.equal((await page.textContent('p.summary'))?.trim(), `${SCRIPT} summary`);
  assert.match((await page.textContent('aside')) ?? '', /<img src=x onerror="window\.__pwned=1">/);
  await page.goto(`${server.url}/project/hostile/1.0.1/`);
  assert.match(
    (await page.textContent('pre.description')) ?? '',
    /\.\. raw:: html\s+<script>window\.__pwned=1<\/script>/,
  );
  assert.match(
    (await page.textContent('.yanked-reason')) ?? '',
    /<script>window\.__pwned=1<\/script> yanked/,
  );
  const links = await page.evaluate(
    `[...document.querySelectorAll('aside a')].map((a) => a.getAttribute('href'))`,
  );
  for (const href of links as string[]) assert.match(href, /^(\/|https?:\/\/)/);
});

test('the Content-Security-Policy blocks inline scripts as a second line of defence', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const response = await page.goto(`${server.url}/project/hostile/`);
  assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  assert.equal(await page.evaluate('window.__pwned'), undefined);
});
