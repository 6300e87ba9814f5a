// Company sign-in providers in pier.toml (src/sso/config.ts): defaults, every mistake refused
// with the field named, and client secrets that never show in output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { issuerProblem, parseSsoProviders, secretEnvName } from '../../src/sso/config.js';
import { loadConfig } from '../../src/config.js';
import { tempDir } from '../support/tmp.js';

const minimal = { issuer: 'https://idp.example.com', client_id: 'pier' };

test('defaults', () => {
  const [p] = parseSsoProviders({ corp: minimal }, {});
  assert.deepEqual(
    { ...p, clientSecret: p!.clientSecret },
    {
      name: 'corp',
      displayName: 'corp',
      issuer: 'https://idp.example.com',
      clientId: 'pier',
      clientSecret: null,
      scopes: ['openid', 'profile', 'email'],
      usernameClaim: 'preferred_username',
      groupsClaim: 'groups',
      allowedGroups: [],
      createUsers: true,
      sessionMaxAge: 3600,
      insecure: false,
    },
  );
});

test('refused settings name the field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['Corp', minimal, /provider name/],
    ['a_b', minimal, /provider name/],
    ['corp', { client_id: 'pier' }, /issuer: expected a non-empty string/],
    ['corp', { issuer: 'https://idp.example.com' }, /client_id/],
    ['corp', { ...minimal, issuer: 'http://idp.example.com' }, /loopback/],
    ['corp', { ...minimal, issuer: 'http://127.0.0.1:9000' }, /insecure = true/],
    ['corp', { ...minimal, issuer: 'http://localhost:9000', insecure: true }, /literal loopback/],
    ['corp', { ...minimal, issuer: 'https://idp.example.com/?x=1' }, /query/],
    ['corp', { ...minimal, issuer: 'ftp://idp.example.com' }, /https/],
    ['corp', { ...minimal, scopes: ['profile'] }, /must include 'openid'/],
    ['corp', { ...minimal, scopes: [1] }, /list of strings/],
    ['corp', { ...minimal, allowed_groups: [''] }, /list of strings/],
    ['corp', { ...minimal, create_users: 'yes' }, /create_users: expected true or false/],
    ['corp', { ...minimal, session_max_age: 'forever' }, /session_max_age/],
    ['corp', { ...minimal, session_max_age: 0 }, /session_max_age/],
    ['corp', { ...minimal, clientid: 'x' }, /unknown setting 'clientid'/],
    ['corp', { ...minimal, client_secret: 'a', client_secret_file: '/x' }, /once/],
    ['corp', { ...minimal, client_secret_file: '/nonexistent/secret' }, /ENOENT/],
  ];
  for (const [name, table, message] of cases)
    assert.throws(
      () => parseSsoProviders({ [name]: table }, {}),
      message,
      `${name} ${JSON.stringify(table)}`,
    );
  assert.throws(() => parseSsoProviders(['x'], {}), /tables/);
});

test('issuer URLs', () => {
  assert.equal(issuerProblem('https://login.microsoftonline.com/tid/v2.0', false), null);
  assert.equal(issuerProblem('http://127.0.0.1:8080', true), null);
  assert.equal(issuerProblem('http://[::1]:8080', true), null);
  assert.match(issuerProblem('http://10.0.0.1', true) ?? '', /loopback/);
  assert.match(issuerProblem('not a url', false) ?? '', /not a URL/);
});

test('a client secret comes from the environment, a file or the table, and never shows', () => {
  const dir = tempDir('pier-sso-config-');
  const file = join(dir, 'secret');
  writeFileSync(file, 's3cret-from-file\n');
  assert.equal(secretEnvName('my-idp'), 'PIER_SSO_MY_IDP_CLIENT_SECRET');
  const fromEnv = parseSsoProviders(
    { 'my-idp': minimal },
    { PIER_SSO_MY_IDP_CLIENT_SECRET: 's3cret-env' },
  )[0]!;
  assert.equal(fromEnv.clientSecret?.reveal(), 's3cret-env');
  const fromFile = parseSsoProviders({ corp: { ...minimal, client_secret_file: file } }, {})[0]!;
  assert.equal(fromFile.clientSecret?.reveal(), 's3cret-from-file');
  const fromToml = parseSsoProviders(
    { corp: { ...minimal, client_secret: 's3cret-toml' } },
    {},
  )[0]!;
  for (const shown of [inspect(fromToml), JSON.stringify(fromToml), `${fromToml.clientSecret}`])
    assert.doesNotMatch(shown, /s3cret/, shown);
  assert.throws(
    () =>
      parseSsoProviders(
        { corp: { ...minimal, client_secret: 'x' } },
        { PIER_SSO_CORP_CLIENT_SECRET: 'y' },
      ),
    /once/,
  );
});

test('pier.toml: [sso.*] tables, password_sign_in, and no lock-out by configuration', () => {
  const dir = tempDir('pier-sso-config-');
  const toml = join(dir, 'pier.toml');
  writeFileSync(
    toml,
    'password_sign_in = false\n[sso.corp]\nissuer = "https://idp.example.com"\nclient_id = "pier"\n',
  );
  const c = loadConfig({ env: {}, cwd: dir, flags: { config: toml } });
  assert.equal(c.passwordSignIn, false);
  assert.deepEqual(
    c.ssoProviders.map((p) => p.name),
    ['corp'],
  );
  assert.equal(
    loadConfig({ env: {}, cwd: dir, flags: { config: toml, passwordSignIn: 'true' } })
      .passwordSignIn,
    true,
  );
  writeFileSync(toml, 'password_sign_in = false\n');
  assert.throws(
    () => loadConfig({ env: {}, cwd: dir, flags: { config: toml } }),
    /needs at least one \[sso.NAME\]/,
  );
  writeFileSync(toml, '[sso.corp]\nissuer = "http://idp.example.com"\nclient_id = "pier"\n');
  assert.throws(
    () => loadConfig({ env: {}, cwd: dir, flags: { config: toml } }),
    /pier\.toml: \[sso\.corp\] issuer/,
  );
  assert.equal(
    loadConfig({ env: {}, cwd: tempDir('pier-sso-config-'), flags: {} }).passwordSignIn,
    true,
  );
});
