// Forgejo Actions' claim rules and registration, against a token shaped like the documented ones
// (https://forgejo.org/docs/next/user/actions/security-openid-connect: GitHub-shaped claims; the
// immutable repository_id and repository_owner_id of Forgejo PR #12355), from the issuer of an
// instance (https://codeberg.org/api/actions).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  forgejoLinks,
  forgejoProvider,
  forgejoWebBase,
  forgejoWorkflow,
} from '../../../src/oidc/providers/forgejo.js';
import { GITHUB_RULES } from '../../../src/oidc/providers/github.js';
import type { ForgejoConfig } from '../../../src/oidc/providers/types.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const ISSUER = 'https://codeberg.org/api/actions';
const SHA = '7b3a5e0c4f2d1a9b8c7d6e5f4a3b2c1d0e9f8a7b';
const WORKFLOW_REF = 'forgejo/release-app/.forgejo/workflows/release.yml@refs/tags/v1.2.0';

const TOKEN = {
  iss: ISSUER,
  aud: 'pypi.example.com',
  iat: 1760000000,
  nbf: 1760000000,
  exp: 1760000300,
  jti: '3c1d7b0e-5a8f-4e21-9d4b-2f6a8c0e1b37',
  sub: 'repo:forgejo/release-app:ref:refs/tags/v1.2.0',
  actor: 'maintainer',
  actor_id: '1021',
  repository: 'forgejo/release-app',
  repository_owner: 'forgejo',
  repository_id: '2817',
  repository_owner_id: '48',
  repository_visibility: 'public',
  workflow: 'Release',
  workflow_ref: WORKFLOW_REF,
  job_workflow_ref: WORKFLOW_REF,
  event_name: 'push',
  ref: 'refs/tags/v1.2.0',
  ref_type: 'tag',
  head_ref: '',
  base_ref: '',
  sha: SHA,
  run_id: '91823',
  run_number: '14',
  run_attempt: '1',
  environment: 'release',
  runner_environment: 'self-hosted',
};

const PUBLISHER: ForgejoConfig = {
  owner: 'forgejo',
  ownerId: '48',
  repository: 'release-app',
  repositoryId: '2817',
  workflow: '.forgejo/workflows/release.yml',
  environment: '',
  ref: '',
};

const typed = (claim: string): RuleCase<ForgejoConfig>[] => [
  { name: 'missing', claims: { [claim]: undefined }, failures: [`Missing claim '${claim}'`] },
  {
    name: 'a number',
    claims: { [claim]: 7 },
    failures: [`Check failed for claim '${claim}': expected a string, got a number`],
  },
];

ruleTests(
  forgejoProvider,
  { claims: TOKEN, config: PUBLISHER, issuer: ISSUER },
  {
    repository: [
      { name: 'the registered repository', failures: [] },
      { name: 'in another case', claims: { repository: 'Forgejo/Release-App' }, failures: [] },
      {
        name: 'another repository',
        claims: { repository: 'mallory/release-app' },
        failures: [
          "Check failed for claim 'repository': expected 'forgejo/release-app' (in any case), got 'mallory/release-app'",
        ],
      },
      ...typed('repository'),
    ],
    repository_owner: [
      {
        name: 'the registered owner, in another case',
        claims: { repository_owner: 'Forgejo' },
        failures: [],
      },
      {
        name: 'another owner',
        claims: { repository_owner: 'mallory' },
        failures: [
          "Check failed for claim 'repository_owner': expected 'forgejo' (in any case), got 'mallory'",
        ],
      },
      ...typed('repository_owner'),
    ],
    repository_id: [
      { name: 'the pinned id', failures: [] },
      {
        name: 'a repository re-created under the same name (a new id)',
        claims: { repository_id: '9001' },
        failures: ["Check failed for claim 'repository_id': expected '2817', got '9001'"],
      },
      {
        name: 'a Forgejo without the immutable ids (before PR #12355)',
        claims: { repository_id: undefined, repository_owner_id: undefined },
        failures: ["Missing claim 'repository_id'", "Missing claim 'repository_owner_id'"],
      },
      ...typed('repository_id'),
    ],
    repository_owner_id: [
      { name: 'the pinned id', failures: [] },
      {
        name: 'an account that took over the name',
        claims: { repository_owner_id: '4242' },
        failures: ["Check failed for claim 'repository_owner_id': expected '48', got '4242'"],
      },
      ...typed('repository_owner_id'),
    ],
    job_workflow_ref: [
      { name: 'the workflow at the ref', failures: [] },
      {
        name: 'the workflow at the commit',
        claims: { job_workflow_ref: `forgejo/release-app/.forgejo/workflows/release.yml@${SHA}` },
        failures: [],
      },
      {
        name: 'the same file name under .github/workflows/',
        claims: {
          job_workflow_ref: 'forgejo/release-app/.github/workflows/release.yml@refs/tags/v1.2.0',
        },
        failures: [
          `The job_workflow_ref claim does not match, expecting one of ['forgejo/release-app/.forgejo/workflows/release.yml@${SHA}', 'forgejo/release-app/.forgejo/workflows/release.yml@refs/tags/v1.2.0'], got 'forgejo/release-app/.github/workflows/release.yml@refs/tags/v1.2.0'`,
        ],
      },
      {
        name: 'another workflow file',
        claims: {
          job_workflow_ref: 'forgejo/release-app/.forgejo/workflows/ci.yml@refs/tags/v1.2.0',
        },
        failures: [
          `The job_workflow_ref claim does not match, expecting one of ['forgejo/release-app/.forgejo/workflows/release.yml@${SHA}', 'forgejo/release-app/.forgejo/workflows/release.yml@refs/tags/v1.2.0'], got 'forgejo/release-app/.forgejo/workflows/ci.yml@refs/tags/v1.2.0'`,
        ],
      },
      {
        name: 'a workflow from another repository',
        claims: {
          job_workflow_ref: 'mallory/tools/.forgejo/workflows/release.yml@refs/tags/v1.2.0',
        },
        failures: [
          `The job_workflow_ref claim does not match, expecting one of ['forgejo/release-app/.forgejo/workflows/release.yml@${SHA}', 'forgejo/release-app/.forgejo/workflows/release.yml@refs/tags/v1.2.0'], got 'mallory/tools/.forgejo/workflows/release.yml@refs/tags/v1.2.0'`,
        ],
      },
      {
        name: 'empty',
        claims: { job_workflow_ref: '' },
        failures: ['The job_workflow_ref claim is empty'],
      },
      ...typed('job_workflow_ref'),
    ],
    ref: [
      {
        name: 'any ref, the publisher names none',
        claims: {
          ref: 'refs/heads/dev',
          job_workflow_ref: 'forgejo/release-app/.forgejo/workflows/release.yml@refs/heads/dev',
        },
        failures: [],
      },
      { name: 'a matching ref', config: { ref: 'refs/tags/v*' }, failures: [] },
      {
        name: 'a ref the pattern excludes',
        claims: {
          ref: 'refs/heads/main',
          job_workflow_ref: 'forgejo/release-app/.forgejo/workflows/release.yml@refs/heads/main',
        },
        config: { ref: 'refs/tags/v*' },
        failures: [
          "Check failed for claim 'ref': expected a ref matching 'refs/tags/v*', got 'refs/heads/main'",
        ],
      },
      // The workflow at the commit, so only the ref rule judges the claim.
      ...typed('ref').map((c) => ({
        ...c,
        claims: {
          ...c.claims,
          job_workflow_ref: `forgejo/release-app/.forgejo/workflows/release.yml@${SHA}`,
        },
      })),
    ],
    sha: [{ name: 'present', failures: [] }, ...typed('sha')],
    jti: [{ name: 'present', failures: [] }, ...typed('jti')],
    environment: [
      { name: 'the publisher names none: any', claims: { environment: 'staging' }, failures: [] },
      {
        name: 'the registered one, in another case',
        claims: { environment: 'Release' },
        config: { environment: 'release' },
        failures: [],
      },
      {
        name: 'another one',
        claims: { environment: 'staging' },
        config: { environment: 'release' },
        failures: [
          "Check failed for claim 'environment': expected 'release' (in any case), got 'staging'",
        ],
      },
      {
        name: 'none, for a publisher with one',
        claims: { environment: undefined },
        config: { environment: 'release' },
        failures: ["Missing claim 'environment': expected 'release'"],
      },
    ],
    event_name: [
      { name: 'a push', failures: [] },
      {
        name: 'absent (not every forge sends it)',
        claims: { event_name: undefined },
        failures: [],
      },
      {
        name: 'pull_request_target (base permissions for anyone’s pull request)',
        claims: { event_name: 'pull_request_target' },
        failures: [
          "Publishing from a workflow invoked via 'pull_request_target' is not supported.",
        ],
      },
    ],
  },
);

test('Forgejo: the claims that mean what they mean on GitHub are GitHub’s rows, shared', () => {
  for (const claim of [
    'repository',
    'repository_owner',
    'repository_owner_id',
    'ref',
    'environment',
  ])
    assert.equal(
      forgejoProvider.rules.find((r) => r.claim === claim),
      GITHUB_RULES.find((r) => r.claim === claim),
      claim,
    );
});

test('Forgejo: the table classifies every claim of the documented token', () => {
  assertClassified(forgejoProvider, TOKEN);
  // The subject of a repository created after PR #12355, with the ids in it.
  assertClassified(forgejoProvider, {
    ...TOKEN,
    sub: 'repo:forgejo-48/release-app-2817:ref:refs/tags/v1.2.0',
  });
});

test('Forgejo: lookup, identity, overlap, specificity', () => {
  assert.equal(
    forgejoProvider.lookupKeyOfConfig({ ...PUBLISHER, owner: 'Forgejo' }),
    'forgejo/release-app',
  );
  assert.deepEqual(
    forgejoProvider.lookupKeyOfClaims({ ...TOKEN, repository: 'Forgejo/release-app' }),
    {
      ok: true,
      key: 'forgejo/release-app',
    },
  );
  const missing = forgejoProvider.lookupKeyOfClaims(
    withClaims(TOKEN, { repository_id: undefined }),
  );
  assert.deepEqual(missing, {
    ok: false,
    failure: { claim: 'repository_id', message: "Missing claim 'repository_id'" },
  });
  const inRelease = { ...PUBLISHER, environment: 'release' };
  assert.notEqual(forgejoProvider.identityOf(PUBLISHER), forgejoProvider.identityOf(inRelease));
  assert.ok(forgejoProvider.specificity(inRelease) > forgejoProvider.specificity(PUBLISHER));
  assert.equal(forgejoProvider.overlaps(PUBLISHER, inRelease), true);
  assert.equal(
    forgejoProvider.overlaps(inRelease, { ...PUBLISHER, environment: 'staging' }),
    false,
  );
  assert.equal(forgejoProvider.overlaps(PUBLISHER, { ...PUBLISHER, repositoryId: '9001' }), false);
  assert.equal(
    forgejoProvider.overlaps(PUBLISHER, {
      ...PUBLISHER,
      workflow: '.github/workflows/release.yml',
    }),
    false,
  );
});

test('Forgejo: provenance and links on the instance’s host, template', () => {
  assert.equal(forgejoProvider.builtinIssuer, null);
  assert.equal(forgejoProvider.provenance(TOKEN).repository_id, '2817');
  assert.equal(forgejoWebBase(ISSUER), 'https://codeberg.org');
  assert.equal(
    forgejoWebBase('https://git.example.org/forge/api/actions'),
    'https://git.example.org/forge',
  );
  assert.equal(forgejoWebBase('https://git.example.org/oidc'), null);
  const links = forgejoLinks(TOKEN, ISSUER);
  assert.deepEqual(links, {
    repository: 'forgejo/release-app',
    workflow: '.forgejo/workflows/release.yml',
    ref: 'refs/tags/v1.2.0',
    commitUrl: `https://codeberg.org/forgejo/release-app/commit/${SHA}`,
    runLabel: 'run 14',
    runUrl: 'https://codeberg.org/forgejo/release-app/actions/runs/14',
  });
  // An issuer not of the documented form, or a repository that is no path: no links made up.
  assert.equal(forgejoLinks(TOKEN, 'https://git.example.org/oidc').runUrl, null);
  assert.equal(forgejoLinks({ ...TOKEN, repository: 'forgejo/..' }, ISSUER).commitUrl, null);
  assert.equal(
    forgejoProvider.url(PUBLISHER, ISSUER, TOKEN),
    `https://codeberg.org/forgejo/release-app/commit/${SHA}`,
  );
  assert.equal(forgejoProvider.attestation.shape, 'unsupported');
  const workflow = forgejoWorkflow(
    { ...PUBLISHER, environment: 'release', ref: 'refs/tags/v*' },
    {
      uploadUrl: 'https://pypi.example.com/legacy/',
      audience: 'pypi.example.com',
      actionRef: null,
    },
  );
  assert.equal(workflow.path, '.forgejo/workflows/release.yml');
  assert.match(workflow.text, /tags: \["v\*"\]/);
  assert.match(workflow.text, /environment: release\n/);
  assert.match(workflow.text, /enable-openid-connect: true/);
  assert.match(
    workflow.text,
    /pier publish --repository-url https:\/\/pypi\.example\.com\/legacy\/ dist\//,
  );
});

test('Forgejo registration', async (t) => {
  const valid = forgejoProvider.example;
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    [
      'nothing',
      {},
      {
        owner: 'Specify the repository owner (user or organization)',
        repository: 'Specify repository name',
        ownerId: "Specify the owner's numeric id",
        repositoryId: "Specify the repository's numeric id",
        workflow: 'Specify the workflow file (.forgejo/workflows/FILE.yml)',
      },
    ],
    [
      'an owner with a slash',
      { ...valid, owner: 'a/b' },
      { owner: 'Invalid user or organization name' },
    ],
    [
      'a repository named ..',
      { ...valid, repository: '..' },
      { repository: 'Invalid repository name' },
    ],
    [
      'a repository id that is a name',
      { ...valid, repositoryId: 'release-app' },
      { repositoryId: "The repository's id must be the forge's numeric id, got 'release-app'" },
    ],
    [
      'an owner id that is not a number',
      { ...valid, ownerId: '4 8' },
      { ownerId: "The owner's id must be the forge's numeric id, got '4 8'" },
    ],
    [
      'a file name without its directory',
      { ...valid, workflow: 'release.yml' },
      {
        workflow:
          'The workflow file must be in .forgejo/workflows/, .gitea/workflows/, .github/workflows/',
      },
    ],
    [
      'a file that is not YAML',
      { ...valid, workflow: '.forgejo/workflows/release.sh' },
      { workflow: 'Workflow name must end with .yml or .yaml' },
    ],
    [
      'a file in a subdirectory',
      { ...valid, workflow: '.forgejo/workflows/x/release.yml' },
      { workflow: 'The workflow file is a file name in that directory, without @ or spaces' },
    ],
    [
      'an environment with a quote',
      { ...valid, environment: 'a"b' },
      {
        environment:
          'Environment name must not contain non-printable characters or the characters "\'", """, "`", ",", ";", "\\"',
      },
    ],
  ];
  for (const [name, input, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(forgejoProvider.validateConfig(input), { ok: false, errors }),
    );
  await t.test('accepted: trimmed, the environment lower-cased, any workflow directory', () => {
    assert.deepEqual(
      forgejoProvider.validateConfig({
        ...valid,
        owner: ' forgejo ',
        environment: 'Release',
        workflow: '.gitea/workflows/release.yaml',
      }),
      {
        ok: true,
        config: {
          ...(valid as unknown as ForgejoConfig),
          environment: 'release',
          workflow: '.gitea/workflows/release.yaml',
        },
      },
    );
  });
  await t.test('the CLI: --repository OWNER/REPO with both ids', () => {
    assert.deepEqual(forgejoProvider.cli.fields({ repository: 'a' }), {
      ok: false,
      message: "--repository must be OWNER/REPO, got 'a'",
    });
    const r = forgejoProvider.cli.fields({
      repository: 'forgejo/release-app',
      repositoryId: '2817',
      ownerId: '48',
      workflow: '.forgejo/workflows/release.yml',
    });
    assert.ok(r.ok && r.fields.owner === 'forgejo' && r.fields.repositoryId === '2817');
  });
});
