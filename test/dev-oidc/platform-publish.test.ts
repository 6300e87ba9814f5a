// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier dev-oidc --kind google`, `--kind azure` and `--kind activestate` against a real pier, as a
// user follows the start-up text: its `pier issuer add` and `pier publisher add` lines run
// through a shell, then its `export` lines are sourced and its `pier publish` line run in a
// project folder, so that `pier publish` asks for the token as the platform's jobs do (Google's
// metadata server at GCE_METADATA_HOST; Azure DevOps' POST to SYSTEM_OIDCREQUESTURI with
// SYSTEM_ACCESSTOKEN, audience api://AzureADTokenExchange), exchanges it and uploads the
// project's first release, which creates it. Tokens of another account, pipeline or actor, and
// requests a real platform would refuse, are refused; flags a platform cannot have are refused
// before anything listens.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import {
  DevOidcError,
  startDevOidc,
  startupText,
  type DevOidcOptions,
  type DevOidcServer,
} from '../../src/dev-oidc/index.js';
import { cleanEnv } from '../client/processes.js';
import { sample, type SampleName } from '../support/fixtures.js';
import { postMintToken } from '../support/mint.js';
import { OPERATOR, PIER_BIN, startServer, type TestServer } from '../support/server.js';
import { uploadWheelWith } from '../support/upload.js';
import { tempDir } from '../support/tmp.js';
import { testCertificates } from '../support/tls.js';

let server: TestServer;
let audience: string;
let bin: string;

before(async () => {
  server = await startServer();
  audience = new URL(server.url).host;
  await server.services.auth.addUser(OPERATOR, {
    username: 'owner',
    password: 'owner-password',
    mayCreateProjects: true,
  });
  // `pier` on PATH, as `npm install -g` puts it.
  bin = tempDir('pier-platform-bin-');
  writeFileSync(join(bin, 'pier'), `#!/bin/sh\nexec '${process.execPath}' '${PIER_BIN}' "$@"\n`);
  chmodSync(join(bin, 'pier'), 0o755);
});

after(() => server?.close());

function sh(script: string, cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-e', '-c', script], { cwd, env }, (err, stdout, stderr) =>
      err ? reject(new Error(`${script}\n${stdout}${stderr}`)) : resolve(stdout + stderr),
    );
  });
}

/**
 * The start-up text followed as printed: the issuer and publisher lines on the server's data,
 * then, in a folder whose dist/ holds the sample, the exports sourced and the publish line run
 * in an environment of no CI at all.
 */
async function followStartupText(text: string, dist: SampleName): Promise<string> {
  const commands = text
    .split('\n')
    .filter((l) => l.startsWith('#   pier '))
    .map((l) => l.slice('#   '.length));
  const publish = commands.find((c) => c.startsWith('pier publish '));
  assert.ok(publish, text);
  const setupEnv = { ...process.env, ...server.env(), PATH: `${bin}:${process.env.PATH}` };
  for (const c of commands.filter((c) => c !== publish))
    await sh(c, process.cwd(), setupEnv as Record<string, string>);
  const project = tempDir('pier-platform-project-');
  mkdirSync(join(project, 'dist'));
  const wheel = sample(dist).wheel;
  copyFileSync(wheel, join(project, 'dist', basename(wheel)));
  writeFileSync(join(project, 'job.env'), text);
  return sh(`. ./job.env\n${publish}`, project, cleanEnv({ PATH: `${bin}:${process.env.PATH}` }));
}

async function withDev(options: DevOidcOptions, run: (dev: DevOidcServer) => Promise<void>) {
  const dev = await startDevOidc(options);
  try {
    await run(dev);
  } finally {
    await dev.close();
  }
}

async function refusals(dev: DevOidcServer, cases: [Record<string, unknown>, RegExp][]) {
  for (const [over, reason] of cases) {
    const aud = typeof over.aud === 'string' ? over.aud : (dev.defaultAudience ?? audience);
    const r = await postMintToken(server.url, await dev.mintToken(aud, over));
    assert.equal(r.status, 422, `${JSON.stringify(over)}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.errors[0].description, reason, JSON.stringify(over));
  }
}

const indexUrl = () => server.url;

test('--kind google: pier publish takes the token from the metadata server and uploads', async () => {
  const log: string[] = [];
  await withDev({ kind: 'google', log: (l) => log.push(l) }, async (dev) => {
    const env = dev.env();
    assert.equal(env.GCE_METADATA_HOST, new URL(dev.baseUrl).host);
    assert.equal(env.GITHUB_ACTIONS, undefined, 'a Google job is no GitHub job');
    const text = startupText(dev, { project: 'pier-sample', owner: 'owner', indexUrl: indexUrl() });
    assert.match(
      text,
      /--provider google --email publisher@octo-project\.iam\.gserviceaccount\.com --sub 104892763512096341265 --issuer /,
    );
    const out = await followStartupText(text, 'sample');
    assert.match(out, /Trusted publishing: exchanged the google OIDC token/);
    assert.match(out, /Uploaded pier_sample-1\.0\.0-py3-none-any\.whl/);
    assert.ok(
      log.some((l) => /issued a google identity token/.test(l)),
      log.join('\n'),
    );
    const doc = (await (await fetch(`${server.url}/pypi/pier-sample/json`)).json()) as any;
    assert.equal(doc.info.version, '1.0.0');

    // Another account, an unverified address, the account re-created under the same email.
    await refusals(dev, [
      [{ email: 'other@octo-project.iam.gserviceaccount.com' }, /matching claims was not found/],
      [{ email_verified: false }, /claim 'email_verified'/],
      [{ sub: '104892763512096341266' }, /claim 'sub'/],
    ]);

    // The metadata server's own refusals: the header, the audience, the method.
    const identity = `http://${env.GCE_METADATA_HOST}/computeMetadata/v1/instance/service-accounts/default/identity`;
    const bare = await fetch(`${identity}?audience=${audience}`);
    assert.equal(bare.status, 403);
    const noAudience = await fetch(identity, { headers: { 'metadata-flavor': 'Google' } });
    assert.equal(noAudience.status, 400);
    assert.match(await noAudience.text(), /audience/);
    const post = await fetch(`${identity}?audience=${audience}`, {
      method: 'POST',
      headers: { 'metadata-flavor': 'Google' },
    });
    assert.equal(post.status, 405);
    const standard = await fetch(`${identity}?audience=${audience}`, {
      headers: { 'metadata-flavor': 'Google' },
    });
    assert.equal(decodeJwt(await standard.text()).google, undefined, 'format=full only');
  });
});

test('--kind google: a --claims file names the account; azp follows sub', async () => {
  const email = 'release@my-project.iam.gserviceaccount.com';
  await withDev(
    { kind: 'google', claims: { email, sub: '117843524623590187360' } },
    async (dev) => {
      assert.equal(dev.claims.azp, '117843524623590187360');
      assert.match(
        startupText(dev),
        /--provider google --email release@my-project\.iam\.gserviceaccount\.com --sub 117843524623590187360 /,
      );
    },
  );
});

test('--kind google refuses job flags, a non-loopback host and TLS, naming each', async () => {
  const certs = testCertificates();
  const cases: [DevOidcOptions, RegExp][] = [
    [{ repository: 'octo-org/octo-repo' }, /^--repository is not for --kind google: .*email/],
    [{ workflow: 'release.yml' }, /^--workflow is not for --kind google/],
    [{ environment: 'release' }, /^--environment is not for --kind google/],
    [{ host: '0.0.0.0' }, /^--host must be a loopback address for --kind google: .*no secret/],
    [{ tlsCert: certs.cert, tlsKey: certs.key }, /^--tls-cert is not for --kind google/],
  ];
  for (const [options, message] of cases)
    await assert.rejects(startDevOidc({ kind: 'google', ...options }), (err: Error) => {
      assert.ok(err instanceof DevOidcError, String(err));
      assert.match(err.message, message);
      return true;
    });
});

test('--kind azure: pier publish POSTs to SYSTEM_OIDCREQUESTURI and uploads with the fixed audience', async () => {
  const log: string[] = [];
  const options: DevOidcOptions = {
    kind: 'azure',
    repository: 'contoso/libraries',
    workflow: 'release',
    ref: 'refs/tags/v1.0',
    log: (l) => log.push(l),
  };
  await withDev(options, async (dev) => {
    assert.match(dev.url, /^http:\/\/127\.0\.0\.1:\d+\/0ca3ddd9-f0b0-4635-a98c-5866526961b6$/);
    const env = dev.env();
    assert.ok(env.SYSTEM_OIDCREQUESTURI?.startsWith(`${dev.baseUrl}/_apis/`));
    assert.equal(env.SYSTEM_ACCESSTOKEN, dev.requestToken);
    assert.equal(env.GITHUB_ACTIONS, undefined, 'an Azure job is no GitHub job');
    const text = startupText(dev, { project: 'pier-other', owner: 'owner', indexUrl: indexUrl() });
    assert.match(
      text,
      /--provider azure --organization contoso --organization-id 0ca3ddd9-f0b0-4635-a98c-5866526961b6 --azure-project libraries --pipeline release --project-id [0-9a-f-]{36} --pipeline-id 12 --issuer /,
    );
    assert.match(text, /pier issuer add --kind azure --url http:\/\/127\.0\.0\.1:\d+\/0ca3ddd9-/);
    const out = await followStartupText(text, 'other');
    assert.match(out, /Trusted publishing: exchanged the azure OIDC token/);
    assert.match(out, /Uploaded pier_other-0\.1\.0-py3-none-any\.whl/);
    assert.ok(
      log.some((l) => l.includes('for audience "api://AzureADTokenExchange"')),
      log.join('\n'),
    );

    // Another pipeline given the name, another project, another organization's id, a token for
    // the index's own audience (Azure DevOps never writes one): refused.
    await refusals(dev, [
      [{ def_id: '13' }, /claim 'def_id'/],
      [{ prj_id: '271ef6f7-5998-4b0f-86fb-4b54d9129990' }, /claim 'prj_id'/],
      [{ org_id: '11111111-2222-4333-8444-555555555555' }, /claim 'org_id'/],
      [{ sub: 'p://contoso/libraries/nightly' }, /no corresponding publisher|not found/],
      [{ aud: audience }, /audience/],
    ]);

    // The request Azure DevOps answers, and only that.
    const url = `${env.SYSTEM_OIDCREQUESTURI}?api-version=7.1`;
    const bearer = { authorization: `Bearer ${env.SYSTEM_ACCESSTOKEN}` };
    assert.equal((await fetch(url, { method: 'POST' })).status, 401);
    const wrong = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal((await fetch(url, { headers: bearer })).status, 405);
    const noVersion = await fetch(env.SYSTEM_OIDCREQUESTURI!, { method: 'POST', headers: bearer });
    assert.equal(noVersion.status, 400);
    const connection = await fetch(`${url}&serviceConnectionId=${dev.claims.prj_id}`, {
      method: 'POST',
      headers: bearer,
    });
    assert.equal(connection.status, 400);
    assert.match(((await connection.json()) as any).message, /service connection/);
    const ok = await fetch(url, { method: 'POST', headers: bearer });
    const payload = decodeJwt(((await ok.json()) as any).oidcToken);
    assert.equal(payload.aud, 'api://AzureADTokenExchange');
    assert.equal(payload.rpo_ref, 'refs/tags/v1.0');
    assert.equal(payload.iss, dev.url);
    assert.equal(typeof payload.jti, 'string');
  });
});

test('--kind azure: the organization id makes the issuer; what pier would refuse is refused first', async () => {
  const orgId = '6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c';
  await withDev({ kind: 'azure', ownerId: orgId }, async (dev) => {
    assert.ok(dev.url.endsWith(`/${orgId}`));
    assert.equal(dev.claims.org_id, orgId);
  });
  const certs = testCertificates();
  const cases: [DevOidcOptions, RegExp][] = [
    [{ environment: 'release' }, /^--environment is not for --kind azure: /],
    [{ event: 'push' }, /^--event is not for --kind azure/],
    [{ ownerId: 'contoso' }, /^--owner-id must be the organization's id/],
    [{ repository: 'contoso' }, /^--repository must be ORGANIZATION\/PROJECT/],
    [{ workflow: 'a/b' }, /^--workflow is the pipeline's name/],
    [{ tlsCert: certs.cert, tlsKey: certs.key }, /^--tls-cert is not for --kind azure: /],
    [{ issuer: 'http://127.0.0.1:1/tenant' }, /^--issuer: Azure DevOps issuers are /],
    [{ issuer: `https://proxy.example.com/${orgId}` }, /^--issuer: Azure DevOps issuers are /],
    [
      { issuer: `http://127.0.0.1:1/${orgId}`, ownerId: '0ca3ddd9-f0b0-4635-a98c-5866526961b6' },
      /^--owner-id .* is not the organization id of --issuer/,
    ],
  ];
  for (const [options, message] of cases)
    await assert.rejects(startDevOidc({ kind: 'azure', ...options }), (err: Error) => {
      assert.ok(err instanceof DevOidcError, String(err));
      assert.match(err.message, message);
      return true;
    });
});

test('--kind activestate: the printed publisher trusts the builder’s tokens, which upload; another actor’s do not', async () => {
  await withDev(
    { kind: 'activestate', repository: 'acme-corp/as-app', claims: { actor: 'alice' } },
    async (dev) => {
      assert.match(dev.url, /\/api\/v1\/oauth\/oidc$/);
      const text = startupText(dev, { project: 'as-app', owner: 'owner' });
      assert.match(
        text,
        /--provider activestate --organization acme-corp --activestate-project as-app --actor alice --actor-id [0-9a-f-]{36} --issuer /,
      );
      const commands = text
        .split('\n')
        .filter((l) => /^# {3}pier (issuer|publisher) add /.test(l))
        .map((l) => l.slice('#   '.length));
      const env = { ...process.env, ...server.env(), PATH: `${bin}:${process.env.PATH}` };
      for (const c of commands) await sh(c, process.cwd(), env as Record<string, string>);
      const res = await fetch(`${dev.env().ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${audience}`, {
        headers: { authorization: `bearer ${dev.env().ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
      });
      const jwt = ((await res.json()) as { value: string }).value;
      assert.equal(decodeJwt(jwt).builder, 'pypi-publisher');
      const r = await postMintToken(server.url, jwt);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await uploadWheelWith(server.url, r.body.token, 'as-app', '1.0');
      await refusals(dev, [
        [
          { actor_id: '7a1e4b8e-62a4-4b8e-9d3c-55f0c2a1b9e4' },
          /no corresponding publisher|claim 'actor_id'/,
        ],
        [{ builder: 'camel' }, /claim 'builder'/],
        [{ sub: 'org:acme-corp:project:other' }, /claim 'sub'/],
      ]);
    },
  );
  await assert.rejects(startDevOidc({ kind: 'activestate', ref: 'refs/heads/main' }), (e: Error) =>
    /^--ref is not for --kind activestate: /.test(e.message),
  );
  await assert.rejects(startDevOidc({ kind: 'activestate', repository: 'a/b' }), (e: Error) =>
    /^--repository must be ORGANIZATION\/PROJECT/.test(e.message),
  );
});
