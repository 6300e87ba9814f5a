#!/usr/bin/env node
// Screenshots of the web interface's main pages, for docs/ and the README:
//
//   npm run screenshots        (compiles, then runs this script)
//
// It starts pier over HTTPS (the test suite's private CA, pinned in Chromium by its key) with
// the public URL https://pypi.example.com, fills it with a few projects, runs a real trusted
// publish (an in-process `pier dev-oidc` issuer, the OIDC exchange, an upload with the minted
// token), and photographs the pages with Debian's Chromium into docs/screenshots/*.png.
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = (p) => join(root, 'build', p);
const { startServer, OPERATOR } = await import(build('test/support/server.js'));
const { testCertificates } = await import(build('test/support/tls.js'));
const { makeWheel, makeSdist } = await import(build('test/support/dists.js'));
const { multipart, uploadParts } = await import(build('test/support/upload.js'));
const { startDevOidc } = await import(build('src/dev-oidc/index.js'));
const { launchChromium } = await import(build('test/web/helpers.js'));

const OUT = join(root, 'docs', 'screenshots');
mkdirSync(OUT, { recursive: true });
const certs = testCertificates();
const ca = readFileSync(certs.caCert);

function post(url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function upload(server, token, file, fields) {
  const parts = await uploadParts({ ...file, fields });
  const { body, contentType } = multipart(parts);
  const r = await post(`${server.listenUrl.replace('http:', 'https:')}/legacy/`, body, {
    'content-type': contentType,
    authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
  });
  if (r.status !== 200) throw new Error(`upload of ${file.filename}: ${r.status} ${r.text}`);
}

const README = `# pier-sample

A small library that **greets** people, published to this index by
[trusted publishing](https://docs.pypi.org/trusted-publishers/) from GitHub Actions.

## Install

\`\`\`sh
pip install pier-sample
\`\`\`

## Use

\`\`\`python
from pier_sample import greet
print(greet("world"))
\`\`\`

| Python | Status    |
| ------ | --------- |
| 3.10+  | supported |
`;

function metadata(name, version, summary, extra = '') {
  return `Metadata-Version: 2.4\nName: ${name}\nVersion: ${version}\nSummary: ${summary}\nRequires-Python: >=3.9\n${extra}\n`;
}

const server = await startServer({
  tlsCert: certs.cert,
  tlsKey: certs.key,
  publicUrl: 'https://pypi.example.com',
});
const base = server.listenUrl.replace('http:', 'https:');
const dev = await startDevOidc({
  repository: 'octo-org/pier-sample',
  workflow: 'release.yml',
  environment: 'release',
  ref: 'refs/tags/v1.2.0',
});
const s = server.services;
let browser;
try {
  // People, an issuer and projects.
  await s.auth.addUser(OPERATOR, { username: 'alice', password: 'alice-password-1', admin: true });
  await s.auth.addUser(OPERATOR, {
    username: 'bob',
    password: 'bob-password-1',
    mayCreateProjects: true,
  });
  await s.issuers.add(OPERATOR, { kind: 'github', url: dev.url, insecure: true });
  await s.issuers.add(OPERATOR, { kind: 'gitlab', url: 'https://gitlab.example.com' });
  const alice = await s.auth.createToken(OPERATOR, {
    username: 'alice',
    name: 'seed',
    scope: 'upload',
  });
  const projects = [
    ['acme-utils', '2.3.1', 'Small utilities shared by the ACME services'],
    ['acme-utils', '2.4.0', 'Small utilities shared by the ACME services'],
    ['data-pipes', '0.9.0', 'Streaming ETL building blocks'],
    ['billing-client', '5.1.0', 'Client for the internal billing API'],
    ['pier-sample', '1.1.0', 'A sample library that greets people'],
  ];
  for (const [name, version, summary] of projects) {
    const wheel = await makeWheel({ name, version, metadata: metadata(name, version, summary) });
    await upload(server, alice.token, wheel, {
      name,
      version,
      summary,
      description: README.replaceAll('pier-sample', name).replaceAll(
        'pier_sample',
        name.replace('-', '_'),
      ),
      description_content_type: 'text/markdown',
      metadata_version: '2.4',
      requires_python: '>=3.9',
      license_expression: 'Apache-2.0',
      author: 'ACME Platform Team',
      author_email: 'platform@example.com',
      project_urls: [
        `Source, https://github.com/octo-org/${name}`,
        `Documentation, https://docs.example.com/${name}/`,
      ],
      classifiers: ['Programming Language :: Python :: 3', 'Operating System :: OS Independent'],
      keywords: 'greeting, sample',
    });
  }
  await s.projects.update(OPERATOR, 'billing-client', { private: true });
  await s.manage.setYanked(
    OPERATOR,
    'acme-utils',
    '2.4.0',
    true,
    'Breaks imports on Python 3.12; use 2.3.1',
  );
  await s.projects.setRole(OPERATOR, 'pier-sample', 'bob', 'maintainer');

  // A failed exchange (environment mismatch), then the real trusted publish.
  const audience = new URL(s.publicUrl()).host;
  const wrong = await s.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'github',
    fields: {
      owner: 'octo-org',
      ownerId: '65',
      repository: 'pier-sample',
      workflow: 'release.yml',
      environment: 'production',
    },
    issuerUrl: dev.url,
  });
  await post(
    `${base}/_/oidc/mint-token`,
    JSON.stringify({ token: await dev.mintToken(audience) }),
    { 'content-type': 'application/json' },
  );
  await s.publishers.remove(OPERATOR, wrong.id, 'pier-sample');
  const right = await s.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'github',
    fields: {
      owner: 'octo-org',
      ownerId: '65',
      repository: 'pier-sample',
      workflow: 'release.yml',
      environment: 'release',
    },
    issuerUrl: dev.url,
  });
  const minted = await post(
    `${base}/_/oidc/mint-token`,
    JSON.stringify({
      token: await dev.mintToken(audience, { run_id: '9876543210', run_attempt: '2' }),
    }),
    { 'content-type': 'application/json' },
  );
  const mintedToken = JSON.parse(minted.text).token;
  if (!mintedToken) throw new Error(`exchange failed: ${minted.text}`);
  const fields = {
    metadata_version: '2.4',
    name: 'pier-sample',
    version: '1.2.0',
    summary: 'A sample library that greets people',
    description: README,
    description_content_type: 'text/markdown',
    requires_python: '>=3.9',
    license_expression: 'Apache-2.0',
    author: 'ACME Platform Team',
    author_email: 'platform@example.com',
    project_urls: [
      'Source, https://github.com/octo-org/pier-sample',
      'Changelog, https://github.com/octo-org/pier-sample/releases',
    ],
    classifiers: ['Programming Language :: Python :: 3', 'Operating System :: OS Independent'],
  };
  const w = await makeWheel({
    name: 'pier-sample',
    version: '1.2.0',
    metadata: metadata('pier-sample', '1.2.0', fields.summary),
  });
  await upload(server, mintedToken, w, fields);
  const sd = await makeSdist({
    name: 'pier-sample',
    version: '1.2.0',
    pkgInfo: metadata('pier-sample', '1.2.0', fields.summary),
  });
  await upload(server, mintedToken, sd, fields);
  // The dev issuer's publisher did its job; show the one a real project would have.
  await s.publishers.remove(OPERATOR, right.id, 'pier-sample');
  await s.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'github',
    fields: {
      owner: 'octo-org',
      ownerId: '65',
      repository: 'pier-sample',
      workflow: 'release.yml',
      environment: 'release',
      ref: 'refs/tags/v*',
    },
  });
  await s.publishers.add(OPERATOR, 'pier-sample', {
    kind: 'gitlab',
    fields: {
      namespace: 'acme/platform',
      project: 'pier-sample',
      workflowPath: '.gitlab-ci.yml',
      environment: 'release',
    },
    issuerUrl: 'https://gitlab.example.com',
  });
  await s.auth.createToken(OPERATOR, {
    username: 'alice',
    name: 'laptop (read only)',
    scope: 'read',
    expiresInSeconds: 90 * 86400,
  });
  const old = await s.auth.createToken(OPERATOR, {
    username: 'alice',
    name: 'old CI token',
    scope: 'upload',
  });
  await s.auth.revokeToken(OPERATOR, old.id);

  // The browser, trusting pier's certificate by its key (as the browser tests do).
  browser = await launchChromium(certs.cert, ['--font-render-hinting=none']);
  const page = await browser.newPage({
    viewport: { width: 1280, height: 860 },
    deviceScaleFactor: 1,
  });
  const shot = async (name, opts = {}) => {
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: opts.fullPage ?? false });
    console.log(`docs/screenshots/${name}.png`);
  };
  await page.goto(`${base}/login`);
  await page.fill('#f-username', 'alice');
  await page.fill('#f-password', 'alice-password-1');
  await page.click('#login-form button[type=submit]');
  await page.goto(`${base}/`);
  await shot('home');
  await page.goto(`${base}/project/pier-sample/`);
  await shot('project', { fullPage: true });
  await page.goto(`${base}/manage/project/pier-sample/publishing/`);
  await shot('publishing', { fullPage: true });
  await page.goto(`${base}/account/tokens`);
  await page.fill('#f-name', 'release CI');
  await page.fill('#f-projects', 'pier-sample');
  await page.click('#token-form button[type=submit]');
  await shot('tokens', { fullPage: true });
  await page.goto(`${base}/manage/project/pier-sample/audit/`);
  await shot('audit', { fullPage: true });
  await page.goto(`${base}/admin/users`);
  await shot('admin-users');
} finally {
  await browser?.close();
  await dev.close();
  await server.close();
}
