// ActiveState's claim rules (reference §3.5) and registration form (§6).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activestateProvider } from '../../../src/oidc/providers/activestate.js';
import type { ActiveStateConfig } from '../../../src/oidc/providers/types.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const ISSUER = 'https://platform.activestate.com/api/v1/oauth/oidc';
const ACTOR_ID = '7a1e4b8e-62a4-4b8e-9d3c-55f0c2a1b9e4';

/** A token of ActiveState's PyPI builder, with the claims Warehouse names. */
const TOKEN = {
  iss: ISSUER,
  aud: 'pier.example.com',
  iat: 1735689600,
  nbf: 1735689600,
  exp: 1735690500,
  jti: '1f0e9d8c-7b6a-4958-8d7c-6b5a49382716',
  sub: 'org:acme-corp:project:widgets',
  organization: 'acme-corp',
  organization_id: 'c3d2e1f0-0a1b-4c2d-8e3f-4a5b6c7d8e9f',
  project: 'widgets',
  project_id: '9e8d7c6b-5a49-4382-a716-0f1e2d3c4b5a',
  project_path: 'acme-corp/widgets',
  project_visibility: 'public',
  actor: 'alice',
  actor_id: ACTOR_ID,
  builder: 'pypi-publisher',
  artifact_id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  ingredient: 'widgets',
};

const PUBLISHER: ActiveStateConfig = {
  organization: 'acme-corp',
  project: 'widgets',
  actor: 'alice',
  actorId: ACTOR_ID,
};

const subFailure = (got: string) =>
  `Check failed for claim 'sub': expected 'org:acme-corp:project:widgets', optionally followed by ':…', got '${got}'`;

const cases: Record<string, RuleCase<ActiveStateConfig>[]> = {
  sub: [
    { name: 'the subject', failures: [] },
    {
      name: 'followed by more components',
      claims: { sub: 'org:acme-corp:project:widgets:build:42' },
      failures: [],
    },
    {
      name: 'in another case (compared exactly)',
      claims: { sub: 'org:Acme-Corp:project:widgets' },
      failures: [subFailure('org:Acme-Corp:project:widgets')],
    },
    {
      name: 'another project',
      claims: { sub: 'org:acme-corp:project:gadgets' },
      failures: [subFailure('org:acme-corp:project:gadgets')],
    },
    {
      name: 'too few components',
      claims: { sub: 'org:acme-corp' },
      failures: [subFailure('org:acme-corp')],
    },
    { name: 'empty', claims: { sub: '' }, failures: [subFailure('')] },
    { name: 'missing', claims: { sub: undefined }, failures: ["Missing claim 'sub'"] },
    {
      name: 'a number',
      claims: { sub: 1 },
      failures: ["Check failed for claim 'sub': expected a string, got a number"],
    },
  ],
  organization: [
    { name: 'the organization', failures: [] },
    {
      name: 'in another case',
      claims: { organization: 'ACME-corp' },
      failures: ["Check failed for claim 'organization': expected 'acme-corp', got 'ACME-corp'"],
    },
    {
      name: 'missing',
      claims: { organization: undefined },
      failures: ["Missing claim 'organization'"],
    },
  ],
  project: [
    { name: 'the project', failures: [] },
    {
      name: 'another project',
      claims: { project: 'gadgets' },
      failures: ["Check failed for claim 'project': expected 'widgets', got 'gadgets'"],
    },
    {
      name: 'an array',
      claims: { project: [] },
      failures: ["Check failed for claim 'project': expected a string, got an array"],
    },
  ],
  actor_id: [
    { name: 'the actor', failures: [] },
    { name: 'the actor renamed (same id)', claims: { actor: 'alice-2' }, failures: [] },
    {
      name: 'another actor',
      claims: { actor_id: '00000000-0000-4000-8000-000000000000' },
      failures: [
        `Check failed for claim 'actor_id': expected '${ACTOR_ID}', got '00000000-0000-4000-8000-000000000000'`,
      ],
    },
    { name: 'missing', claims: { actor_id: undefined }, failures: ["Missing claim 'actor_id'"] },
  ],
  builder: [
    { name: 'pypi-publisher', failures: [] },
    {
      name: 'another builder',
      claims: { builder: 'camel' },
      failures: ["Check failed for claim 'builder': expected 'pypi-publisher', got 'camel'"],
    },
    { name: 'missing', claims: { builder: undefined }, failures: ["Missing claim 'builder'"] },
    {
      name: 'a boolean',
      claims: { builder: true },
      failures: ["Check failed for claim 'builder': expected a string, got a boolean"],
    },
  ],
};

ruleTests(activestateProvider, { claims: TOKEN, config: PUBLISHER, issuer: ISSUER }, cases);

test('ActiveState: the table', () => {
  assert.deepEqual(
    activestateProvider.rules.map((r) => `${r.kind} ${r.claim}`),
    [
      'required-verifiable sub',
      'required-verifiable organization',
      'required-verifiable project',
      'required-verifiable actor_id',
      'required-verifiable builder',
    ],
  );
  assertClassified(activestateProvider, TOKEN);
});

test('ActiveState: provenance, describe, url', () => {
  assert.deepEqual(activestateProvider.provenance(TOKEN), {
    organization: 'acme-corp',
    project: 'widgets',
    actor: 'alice',
    builder: 'pypi-publisher',
  });
  assert.equal(
    activestateProvider.describe(PUBLISHER),
    'ActiveState acme-corp/widgets, actor alice',
  );
  assert.equal(
    activestateProvider.url(PUBLISHER, ISSUER, TOKEN),
    'https://platform.activestate.com/acme-corp/widgets',
  );
});

test('ActiveState: lookup, identity, specificity', () => {
  assert.equal(activestateProvider.lookupKeyOfConfig(PUBLISHER), 'acme-corp/widgets');
  assert.deepEqual(activestateProvider.lookupKeyOfClaims(TOKEN), {
    ok: true,
    key: 'acme-corp/widgets',
  });
  assert.deepEqual(
    activestateProvider.lookupKeyOfClaims(withClaims(TOKEN, { builder: undefined })),
    {
      ok: false,
      failure: { claim: 'builder', message: "Missing claim 'builder'" },
    },
  );
  // The actor's name is not part of the trust rule; its id is.
  assert.equal(
    activestateProvider.identityOf({ ...PUBLISHER, actor: 'alice-2' }),
    activestateProvider.identityOf(PUBLISHER),
  );
  assert.notEqual(
    activestateProvider.identityOf({ ...PUBLISHER, actorId: 'x' }),
    activestateProvider.identityOf(PUBLISHER),
  );
  assert.equal(activestateProvider.specificity(PUBLISHER), 0);
});

const VALID = { organization: 'acme-corp', project: 'widgets', actor: 'alice', actorId: ACTOR_ID };

test('ActiveState registration', async (t) => {
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    [
      'organization missing',
      { organization: undefined },
      { organization: 'Specify ActiveState organization name' },
    ],
    [
      'organization too short',
      { organization: 'ac' },
      { organization: 'Invalid ActiveState organization name' },
    ],
    [
      'organization with a dot',
      { organization: 'acme.corp' },
      { organization: 'Invalid ActiveState organization name' },
    ],
    [
      'organization with --',
      { organization: 'acme--corp' },
      { organization: 'Double dashes are not allowed in the name' },
    ],
    [
      'organization ending -',
      { organization: 'acme-' },
      { organization: 'Leading or trailing dashes are not allowed in the name' },
    ],
    ['project missing', { project: '' }, { project: 'Specify ActiveState project name' }],
    ['project too short', { project: 'wi' }, { project: 'Invalid ActiveState project name' }],
    [
      'project too long',
      { project: 'w'.repeat(41) },
      { project: 'Invalid ActiveState project name' },
    ],
    [
      'project with an underscore',
      { project: 'wid_gets' },
      { project: 'Invalid ActiveState project name' },
    ],
    [
      'project with --',
      { project: 'wid--gets' },
      { project: 'Double dashes are not allowed in the name' },
    ],
    [
      'project starting -',
      { project: '-widgets' },
      { project: 'Leading or trailing dashes are not allowed in the name' },
    ],
    [
      'project ending -',
      { project: 'widgets-' },
      { project: 'Leading or trailing dashes are not allowed in the name' },
    ],
    ['actor missing', { actor: ' ' }, { actor: 'Specify the ActiveState actor username' }],
    ['actor with a space', { actor: 'al ice' }, { actor: 'Invalid ActiveState username' }],
    [
      'actor id missing',
      { actorId: undefined },
      { actorId: "Specify the actor's id (it could not be looked up)" },
    ],
    [
      'actor id with a colon',
      { actorId: 'a:b' },
      { actorId: "Invalid ActiveState actor id 'a:b'" },
    ],
  ];
  for (const [name, change, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(activestateProvider.validateConfig({ ...VALID, ...change }), {
        ok: false,
        errors,
      }),
    );
  await t.test('accepted, trimmed', () => {
    assert.deepEqual(
      activestateProvider.validateConfig({
        organization: ' acme-corp ',
        project: ' my.widgets ',
        actor: ' alice ',
        actorId: ` ${ACTOR_ID} `,
      }),
      { ok: true, config: { ...PUBLISHER, project: 'my.widgets' } },
    );
  });
});
