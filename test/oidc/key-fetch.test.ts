// @backends: runs on the embedded default and on PostgreSQL with S3.
// Fetching an issuer's keys (src/oidc/key-fetch.ts, jwks.ts) against issuers the test writes, over
// HTTPS with the tests' own CA and over loopback HTTP: no redirect to another origin or to plain
// HTTP, at most 1 MiB, JSON only; and what went wrong reaches the operator's log, never the caller
// of /_/oidc/mint-token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { JwksCache, type KeyProblem } from '../../src/oidc/jwks.js';
import {
  MAX_KEY_DOCUMENT_BYTES,
  keyUrlProblem,
  redirectProblem,
} from '../../src/oidc/key-fetch.js';
import type { Issuer } from '../../src/oidc/issuers.js';
import { openServices, type Services } from '../../src/services.js';
import { buildApp } from '../../src/http/app.js';
import type { FastifyInstance } from 'fastify';
import { OPERATOR, testConfig } from '../support/server.js';
import { githubClaims, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { testCertificates } from '../support/tls.js';
import { RELEASE_JOB_FIELDS } from '../support/dev-oidc.js';

const GENERIC =
  "malformed or invalid token: the issuer's signing keys could not be fetched (the index's log says why)";

let services: Services;
let app: FastifyInstance;
let url: string;
let audience: string;
const logLines: { msg: string; issuer?: string; problem?: string }[] = [];
const issuers: TestIssuer[] = [];

before(async () => {
  services = await openServices(testConfig());
  app = await buildApp(services, {
    logger: {
      level: 'warn',
      stream: { write: (line: string) => void logLines.push(JSON.parse(line)) },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  services.setListening({ host: '127.0.0.1', port });
  url = services.publicUrl();
  audience = new URL(url).host;
  await services.projects.create(OPERATOR, 'octo-lib');
});

after(async () => {
  await app.close();
  await services.close();
  for (const i of issuers) await i.close();
});

/** A fresh issuer (the key cache refreshes each issuer at most once a minute), trusted by a publisher. */
async function trustedIssuer(): Promise<TestIssuer> {
  const issuer = await startTestIssuer();
  issuers.push(issuer);
  await services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  await services.publishers.add(OPERATOR, 'octo-lib', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: RELEASE_JOB_FIELDS,
  });
  return issuer;
}

async function mint(issuer: TestIssuer) {
  const token = await issuer.sign(githubClaims(issuer.url, audience));
  const res = await fetch(`${url}/_/oidc/mint-token`, {
    method: 'POST',
    body: JSON.stringify({ token }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

function json(res: ServerResponse, body: unknown, status = 200) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The caller gets the generic description; the log gets `problem`, naming the issuer. */
function expectHidden(
  r: { status: number; body: any },
  issuer: TestIssuer,
  problem: RegExp,
  secret?: string,
) {
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.errors[0].code, 'invalid-token');
  assert.equal(r.body.errors[0].description, GENERIC);
  if (secret) assert.ok(!JSON.stringify(r.body).includes(secret), 'nothing fetched is echoed');
  const logged = logLines.filter((l) => l.issuer === issuer.url);
  assert.ok(
    logged.some((l) => problem.test(l.problem ?? '')),
    `log: ${JSON.stringify(logged)}`,
  );
  assert.ok(logged.every((l) => l.msg === 'trusted publishing: the issuer keys are unavailable'));
}

test('the rules as tables: which URLs may serve keys, which redirects are followed', () => {
  const urls: [string, boolean, string | null][] = [
    ['https://token.actions.githubusercontent.com/.well-known/jwks', false, null],
    ['https://www.googleapis.com/oauth2/v3/certs', true, null],
    ['http://127.0.0.1:8080/keys', true, null],
    ['http://127.0.0.1:8080/keys', false, 'http://127.0.0.1:8080 is not HTTPS'],
    ['http://10.0.0.7/keys', true, 'http://10.0.0.7 is not HTTPS'],
    ['http://localhost/keys', true, 'http://localhost is not HTTPS'],
    ['ftp://127.0.0.1/keys', true, 'ftp://127.0.0.1 is not HTTPS'],
    ['https://user:pw@issuer.example/keys', false, 'https://issuer.example carries credentials'],
  ];
  for (const [u, insecure, problem] of urls)
    assert.equal(keyUrlProblem(new URL(u), insecure), problem, u);
  const from = new URL('https://issuer.example/.well-known/openid-configuration');
  assert.equal(redirectProblem(from, '/oidc/.well-known/openid-configuration'), null);
  assert.equal(redirectProblem(from, 'https://issuer.example/other'), null);
  for (const to of [
    'http://issuer.example/other',
    'https://issuer.example:8443/other',
    'https://evil.example/other',
    'https://issuer.example.evil.example/',
  ])
    assert.match(redirectProblem(from, to)!, /redirected to another origin/, to);
  assert.match(redirectProblem(from, undefined)!, /without a Location/);
});

test('a redirect to another host is not followed, even to a document that would verify', async () => {
  const issuer = await trustedIssuer();
  const elsewhere = await startTestIssuer();
  issuers.push(elsewhere);
  // `elsewhere` serves a discovery document naming `issuer`, and `issuer`'s own keys.
  elsewhere.discoveryIssuer = issuer.url;
  elsewhere.keys = issuer.keys;
  const other = elsewhere.url.replace('127.0.0.1', 'localhost');
  issuer.override = (path, _req, res) => {
    if (path !== '/.well-known/openid-configuration') return false;
    res.writeHead(302, { location: `${other}/.well-known/openid-configuration` });
    res.end();
    return true;
  };
  expectHidden(await mint(issuer), issuer, /redirected to another origin \(http:\/\/localhost:/);
  assert.deepEqual(elsewhere.requests, [], 'nothing was fetched from the other host');
});

test('a redirect within the issuer’s origin is followed', async () => {
  const issuer = await trustedIssuer();
  issuer.override = (path, _req, res) => {
    if (path === '/.well-known/openid-configuration') {
      res.writeHead(301, { location: '/moved/.well-known/openid-configuration' });
      res.end();
      return true;
    }
    if (path === '/moved/.well-known/openid-configuration') {
      json(res, { issuer: issuer.url, jwks_uri: `${issuer.url}/keys` });
      return true;
    }
    return false;
  };
  const r = await mint(issuer);
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('a jwks_uri over plain HTTP on another host is refused without a request', async () => {
  const issuer = await trustedIssuer();
  issuer.override = (path, _req, res) => {
    if (path !== '/.well-known/openid-configuration') return false;
    json(res, { issuer: issuer.url, jwks_uri: 'http://10.255.255.1/keys' });
    return true;
  };
  expectHidden(
    await mint(issuer),
    issuer,
    /jwks_uri is refused: http:\/\/10\.255\.255\.1 is not HTTPS/,
  );
});

test('a huge answer is cut off at 1 MiB, with or without Content-Length', async () => {
  // Valid JSON that would otherwise be accepted: a discovery document padded past the bound.
  for (const chunked of [false, true]) {
    const issuer = await trustedIssuer();
    const padding = 'x'.repeat(MAX_KEY_DOCUMENT_BYTES);
    issuer.override = (path, _req, res) => {
      if (path !== '/.well-known/openid-configuration') return false;
      const body = JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}/keys`, padding });
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
      });
      if (chunked) for (let i = 0; i < body.length; i += 65536) res.write(body.slice(i, i + 65536));
      res.end(chunked ? undefined : body);
      return true;
    };
    expectHidden(
      await mint(issuer),
      issuer,
      chunked ? /sent more than 1048576 bytes/ : /sent \d+ bytes, more than 1048576/,
    );
  }
});

test('garbage is not echoed: not JSON, a lying issuer, a broken key', async () => {
  const secret = 'internal-admin-panel-0xC0FFEE';
  const notJson = await trustedIssuer();
  notJson.override = (path, _req, res) => {
    if (path !== '/.well-known/openid-configuration') return false;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><title>${secret}</title></html>`);
    return true;
  };
  expectHidden(await mint(notJson), notJson, /did not answer JSON$/, secret);

  const liar = await trustedIssuer();
  liar.discoveryIssuer = secret;
  expectHidden(await mint(liar), liar, /discovery document names issuer/, secret);

  const failing = await trustedIssuer();
  failing.override = (path, _req, res) => {
    if (path !== '/.well-known/openid-configuration') return false;
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(secret);
    return true;
  };
  expectHidden(await mint(failing), failing, /answered 500$/, secret);

  const broken = await trustedIssuer();
  broken.keys[0]!.publicJwk = { ...broken.keys[0]!.publicJwk, n: secret };
  const r = await mint(broken);
  assert.equal(r.status, 422);
  assert.equal(
    r.body.errors[0].description,
    `malformed or invalid token: the issuer's key '${broken.keys[0]!.kid}' is unusable`,
  );
  assert.ok(!JSON.stringify(r.body).includes(secret));
  assert.ok(
    logLines.some(
      (l) => l.issuer === broken.url && /cannot be used for RS256/.test(l.problem ?? ''),
    ),
  );
});

test('over HTTPS: certificates verified, no redirect to plain HTTP', async () => {
  const certs = testCertificates();
  const ca = readFileSync(certs.caCert);
  const https = await startTestIssuer({ tls: certs });
  const plain = await startTestIssuer();
  issuers.push(https, plain);
  const asIssuer = (i: TestIssuer): Issuer => ({
    url: i.url,
    kind: 'github',
    builtin: false,
    insecure: false,
    apiUrl: null,
  });
  const problems: KeyProblem[] = [];
  const kid = https.keys[0]!.kid;

  // Trusting the tests' CA, the keys are fetched over HTTPS.
  const trusting = new JwksCache({ ca, log: (p) => problems.push(p) });
  assert.ok(await trusting.key(asIssuer(https), kid, 'RS256'));
  assert.equal(problems.length, 0);

  // Without it, the certificate is not trusted: nothing switches verification off.
  const untrusting = new JwksCache({ log: (p) => problems.push(p) });
  await assert.rejects(untrusting.key(asIssuer(https), kid, 'RS256'), /could not be fetched/);
  assert.match(problems.pop()!.problem, /could not be fetched: (SELF_SIGNED|UNABLE_TO_VERIFY)/);

  // A redirect from HTTPS to plain HTTP (at the same address) is refused; the plain issuer
  // serves a document that would otherwise verify.
  plain.discoveryIssuer = https.url;
  plain.keys = https.keys;
  https.override = (path, _req, res) => {
    if (path !== '/.well-known/openid-configuration') return false;
    res.writeHead(307, { location: `${plain.url}/.well-known/openid-configuration` });
    res.end();
    return true;
  };
  const downgraded = new JwksCache({ ca, log: (p) => problems.push(p) });
  await assert.rejects(downgraded.key(asIssuer(https), kid, 'RS256'), /could not be fetched/);
  assert.match(problems.pop()!.problem, /redirected to another origin \(http:\/\/127\.0\.0\.1:/);
  assert.deepEqual(plain.requests, []);
});
