// Bitbucket Pipelines' claim rules and registration, against a token shaped as Atlassian's
// documentation and its relying parties describe it (UUIDs in braces; workspaceUuid,
// repositoryUuid, pipelineUuid, stepUuid, branchName, deploymentEnvironmentUuid, accountUuid)
// from a workspace's issuer, for a step that declared pier's audience.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bitbucketIssuerUrl,
  bitbucketLinks,
  bitbucketPipeline,
  bitbucketProvider,
  bracedUuid,
  type BitbucketConfig,
} from '../../../src/oidc/providers/bitbucket.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const WORKSPACE = '{8a1fdada-cbc0-452c-81ce-07534945e18b}';
const REPOSITORY = '{437da666-7aab-4b60-a947-ec542536ca0d}';
const STEP = '{5c1e9f3a-2b4d-4e6f-8a7b-9c0d1e2f3a4b}';
const PIPELINE = '{0d2c4b6a-8f1e-4d3c-b5a7-9e1f2d3c4b5a}';
const ENVIRONMENT = '{2b7e1a4c-0d9f-4e3b-8a6c-5f1e2d3c4b5a}';
const OTHER = '{00000000-0000-4000-8000-000000000000}';
const ISSUER = bitbucketIssuerUrl('acme');

const TOKEN = {
  iss: ISSUER,
  aud: 'pypi.example.com',
  sub: `${REPOSITORY}:${ENVIRONMENT}:${STEP}`,
  iat: 1760000000,
  exp: 1760003600,
  accountUuid: '{6f5e4d3c-2b1a-4098-8765-43210fedcba9}',
  workspaceUuid: WORKSPACE,
  repositoryUuid: REPOSITORY,
  pipelineUuid: PIPELINE,
  stepUuid: STEP,
  branchName: 'main',
  deploymentEnvironmentUuid: ENVIRONMENT,
};

const PUBLISHER: BitbucketConfig = {
  workspaceUuid: WORKSPACE,
  repositoryUuid: REPOSITORY,
  branch: '',
  deploymentEnvironmentUuid: '',
};

const pinned = (
  claim: string,
  field: 'workspaceUuid' | 'repositoryUuid',
): RuleCase<BitbucketConfig>[] => [
  { name: 'the registered UUID', failures: [] },
  {
    name: 'another UUID',
    claims: { [claim]: OTHER },
    failures: [`Check failed for claim '${claim}': expected '${PUBLISHER[field]}', got '${OTHER}'`],
  },
  {
    name: 'the UUID without its braces (compared exactly, as Bitbucket writes it)',
    claims: { [claim]: PUBLISHER[field].slice(1, -1) },
    failures: [
      `Check failed for claim '${claim}': expected '${PUBLISHER[field]}', got '${PUBLISHER[field].slice(1, -1)}'`,
    ],
  },
  { name: 'missing', claims: { [claim]: undefined }, failures: [`Missing claim '${claim}'`] },
  {
    name: 'a number',
    claims: { [claim]: 1 },
    failures: [`Check failed for claim '${claim}': expected a string, got a number`],
  },
];

const present = (claim: string): RuleCase<BitbucketConfig>[] => [
  { name: 'present', failures: [] },
  { name: 'missing', claims: { [claim]: undefined }, failures: [`Missing claim '${claim}'`] },
  {
    name: 'null',
    claims: { [claim]: null },
    failures: [`Missing claim '${claim}'`],
  },
];

ruleTests(
  bitbucketProvider,
  { claims: TOKEN, config: PUBLISHER, issuer: ISSUER },
  {
    workspaceUuid: pinned('workspaceUuid', 'workspaceUuid'),
    repositoryUuid: [
      ...pinned('repositoryUuid', 'repositoryUuid'),
      {
        name: 'a repository re-created under the same name (a new UUID)',
        claims: { repositoryUuid: OTHER, sub: `${OTHER}:${STEP}` },
        failures: [
          `Check failed for claim 'repositoryUuid': expected '${REPOSITORY}', got '${OTHER}'`,
        ],
      },
    ],
    pipelineUuid: present('pipelineUuid'),
    stepUuid: present('stepUuid'),
    branchName: [
      {
        name: 'a publisher without a pattern: any',
        claims: { branchName: 'feature/x' },
        failures: [],
      },
      {
        name: 'a publisher without a pattern: none (a tag)',
        claims: { branchName: undefined },
        failures: [],
      },
      { name: 'the registered branch', config: { branch: 'main' }, failures: [] },
      {
        name: 'a matching branch',
        claims: { branchName: 'release/1.x' },
        config: { branch: 'release/*' },
        failures: [],
      },
      {
        name: 'another branch',
        claims: { branchName: 'feature/x' },
        config: { branch: 'main' },
        failures: [
          "Check failed for claim 'branchName': expected a branch matching 'main', got 'feature/x'",
        ],
      },
      {
        name: '* stops at a slash',
        claims: { branchName: 'release/1.x/evil' },
        config: { branch: 'release/*' },
        failures: [
          "Check failed for claim 'branchName': expected a branch matching 'release/*', got 'release/1.x/evil'",
        ],
      },
      {
        name: 'no branch (a tag pipeline), for a publisher with a pattern',
        claims: { branchName: undefined },
        config: { branch: 'main' },
        failures: ["Missing claim 'branchName': expected a branch matching 'main'"],
      },
      {
        name: 'an empty branch, for a publisher with a pattern **',
        claims: { branchName: '' },
        config: { branch: '**' },
        failures: ["Missing claim 'branchName': expected a branch matching '**'"],
      },
      {
        name: 'a branch with a newline',
        claims: { branchName: 'main\n' },
        config: { branch: 'main*' },
        failures: ["Check failed for claim 'branchName': it contains a control character"],
      },
    ],
    deploymentEnvironmentUuid: [
      { name: 'a publisher without one: any', failures: [] },
      {
        name: 'a publisher without one: none (no deployment)',
        claims: { deploymentEnvironmentUuid: undefined },
        failures: [],
      },
      {
        name: 'the registered one',
        config: { deploymentEnvironmentUuid: ENVIRONMENT },
        failures: [],
      },
      {
        name: 'another environment (Test, not Production)',
        claims: { deploymentEnvironmentUuid: OTHER },
        config: { deploymentEnvironmentUuid: ENVIRONMENT },
        failures: [
          `Check failed for claim 'deploymentEnvironmentUuid': expected '${ENVIRONMENT}', got '${OTHER}'`,
        ],
      },
      {
        name: 'a step without a deployment, for a publisher with one',
        claims: { deploymentEnvironmentUuid: undefined },
        config: { deploymentEnvironmentUuid: ENVIRONMENT },
        failures: [
          `Missing claim 'deploymentEnvironmentUuid': expected '${ENVIRONMENT}' (the step has no deployment)`,
        ],
      },
    ],
  },
);

test('Bitbucket: the table classifies every claim of the documented token', () => {
  assertClassified(bitbucketProvider, TOKEN);
});

test('Bitbucket: UUIDs as Bitbucket writes them', () => {
  assert.equal(bracedUuid('437DA666-7AAB-4B60-A947-EC542536CA0D'), REPOSITORY);
  assert.equal(bracedUuid(REPOSITORY), REPOSITORY);
  assert.equal(bracedUuid('{437da666}'), null);
  assert.equal(bracedUuid('{{437da666-7aab-4b60-a947-ec542536ca0d}}'), null);
  assert.equal(
    ISSUER,
    'https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc',
  );
});

test('Bitbucket: lookup, identity, overlap, specificity', () => {
  assert.equal(bitbucketProvider.lookupKeyOfConfig(PUBLISHER), REPOSITORY);
  assert.deepEqual(bitbucketProvider.lookupKeyOfClaims(TOKEN), { ok: true, key: REPOSITORY });
  assert.equal(
    bitbucketProvider.lookupKeyOfClaims(withClaims(TOKEN, { workspaceUuid: undefined })).ok,
    false,
  );
  const main = { ...PUBLISHER, branch: 'main' };
  const production = { ...PUBLISHER, deploymentEnvironmentUuid: ENVIRONMENT };
  assert.notEqual(bitbucketProvider.identityOf(PUBLISHER), bitbucketProvider.identityOf(main));
  assert.ok(bitbucketProvider.specificity(production) > bitbucketProvider.specificity(main));
  assert.ok(bitbucketProvider.specificity(main) > bitbucketProvider.specificity(PUBLISHER));
  assert.equal(bitbucketProvider.overlaps(PUBLISHER, main), true);
  assert.equal(bitbucketProvider.overlaps(main, { ...PUBLISHER, branch: 'release/*' }), false);
  assert.equal(bitbucketProvider.overlaps(main, { ...PUBLISHER, branch: 'ma*' }), true);
  assert.equal(
    bitbucketProvider.overlaps(production, { ...PUBLISHER, deploymentEnvironmentUuid: OTHER }),
    false,
  );
  assert.equal(
    bitbucketProvider.overlaps(PUBLISHER, { ...PUBLISHER, repositoryUuid: OTHER }),
    false,
  );
});

test('Bitbucket: provenance, links, template', () => {
  assert.deepEqual(bitbucketProvider.provenance(TOKEN), {
    workspaceUuid: WORKSPACE,
    repositoryUuid: REPOSITORY,
    pipelineUuid: PIPELINE,
    stepUuid: STEP,
    branchName: 'main',
    deploymentEnvironmentUuid: ENVIRONMENT,
  });
  const links = bitbucketLinks(TOKEN);
  assert.equal(links.ref, 'main');
  assert.equal(links.runLabel, `pipeline ${PIPELINE}`);
  assert.equal(bitbucketLinks({ ...TOKEN, pipelineUuid: '<script>' }).runLabel, null);
  const pipeline = bitbucketPipeline(
    { ...PUBLISHER, branch: 'release/*', deploymentEnvironmentUuid: ENVIRONMENT },
    {
      uploadUrl: 'https://pypi.example.com/legacy/',
      audience: 'pypi.example.com',
      actionRef: null,
    },
  );
  assert.equal(pipeline.path, 'bitbucket-pipelines.yml');
  assert.match(pipeline.text, /branches:\n {4}"release\/\*":\n/);
  assert.match(pipeline.text, /oidc:\n {12}audiences:\n {14}- pypi\.example\.com\n/);
  assert.match(pipeline.text, /deployment: production/);
  assert.match(
    pipeline.text,
    /pier publish --repository-url https:\/\/pypi\.example\.com\/legacy\/ dist\//,
  );
});

test('Bitbucket registration', async (t) => {
  const valid = bitbucketProvider.example;
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    [
      'nothing (it would match every repository of the workspace)',
      {},
      {
        workspaceUuid: "Specify the workspace's UUID",
        repositoryUuid: "Specify the repository's UUID",
      },
    ],
    [
      'a repository slug instead of its UUID',
      { ...valid, repositoryUuid: 'acme/release-app' },
      { repositoryUuid: "Invalid UUID: 'acme/release-app' (expected {xxxxxxxx-xxxx-…})" },
    ],
    [
      'an environment name instead of its UUID',
      { ...valid, deploymentEnvironmentUuid: 'Production' },
      { deploymentEnvironmentUuid: "Invalid UUID: 'Production' (expected {xxxxxxxx-xxxx-…})" },
    ],
    [
      'a ref instead of a branch',
      { ...valid, branch: 'refs/heads/main' },
      { branch: 'Give a branch name or pattern such as main or release/*, not a ref' },
    ],
    [
      'a branch with a space',
      { ...valid, branch: 'a b' },
      { branch: 'Branch patterns must not contain whitespace or control characters' },
    ],
    [
      'a branch with an empty segment',
      { ...valid, branch: 'release//x' },
      { branch: 'Invalid branch pattern: no empty path segment' },
    ],
  ];
  for (const [name, input, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(bitbucketProvider.validateConfig(input), { ok: false, errors }),
    );
  await t.test('accepted: UUIDs lower-cased and braced, optional fields empty', () => {
    assert.deepEqual(
      bitbucketProvider.validateConfig({
        workspaceUuid: ` ${WORKSPACE.slice(1, -1).toUpperCase()} `,
        repositoryUuid: REPOSITORY,
      }),
      {
        ok: true,
        config: {
          workspaceUuid: WORKSPACE,
          repositoryUuid: REPOSITORY,
          branch: '',
          deploymentEnvironmentUuid: '',
        },
      },
    );
  });
});
