// GitHub's claim rules (reference §3.2, PyPI's plus pier's ref pattern), its registration form
// (§6) and what it records, against GitHub's documented token (publishing-clients §7.1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { githubProvider, githubWebBase } from '../../../src/oidc/providers/github.js';
import type { GitHubConfig } from '../../../src/oidc/providers/types.js';
import {
  assertClassified,
  protectedRefCases,
  protectedRefRegistrationTest,
  ruleTests,
  withClaims,
  type RuleCase,
} from './support.js';

/** 'U+000A' for a newline: test names never hold the control characters themselves. */
const codePoint = (ch: string) =>
  `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

const ISSUER = 'https://token.actions.githubusercontent.com';

/** The example token of GitHub's documentation ("Understanding the OIDC token"), verbatim. */
const DOCS_EXAMPLE = {
  jti: 'example-id',
  sub: 'repo:octo-org/octo-repo:environment:prod',
  environment: 'prod',
  aud: 'https://github.com/octo-org',
  ref: 'refs/heads/main',
  sha: 'example-sha',
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  actor_id: '12',
  repository_visibility: 'private',
  repository_id: '74',
  repository_owner_id: '65',
  run_id: 'example-run-id',
  run_number: '10',
  run_attempt: '2',
  runner_environment: 'github-hosted',
  actor: 'octocat',
  workflow: 'example-workflow',
  head_ref: '',
  base_ref: '',
  event_name: 'workflow_dispatch',
  ref_type: 'branch',
  job_workflow_ref: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
  iss: 'https://token.actions.githubusercontent.com',
  nbf: 1632492967,
  exp: 1632493867,
  iat: 1632493567,
} as const;

const SHA = 'd6cfe1d4c3a0b7e5f2a1908c7b6e5d4c3b2a1f0e';
const JWR = 'octo-org/octo-repo/.github/workflows/release.yml';

/** The same repository's release job: a tag push, its own workflow, the `release` environment. */
const TOKEN = {
  ...DOCS_EXAMPLE,
  jti: '4d1c5f0e-7f7a-4c4e-9a57-2f1d2c3b4a59',
  sub: 'repo:octo-org/octo-repo:environment:release',
  aud: 'pier.example.com',
  environment: 'release',
  ref: 'refs/tags/v1.2.0',
  ref_type: 'tag',
  sha: SHA,
  run_id: '9876543210',
  run_attempt: '1',
  workflow: 'Release',
  event_name: 'push',
  workflow_ref: `${JWR}@refs/tags/v1.2.0`,
  workflow_sha: SHA,
  job_workflow_ref: `${JWR}@refs/tags/v1.2.0`,
  job_workflow_sha: SHA,
  ref_protected: 'true',
  check_run_id: '33445566',
};

const PUBLISHER: GitHubConfig = {
  owner: 'octo-org',
  ownerId: '65',
  repository: 'octo-repo',
  workflow: 'release.yml',
  environment: 'release',
  ref: '',
};

const expecting = (got: string, refs: string[] = [SHA, 'refs/tags/v1.2.0'], jwr = JWR) =>
  `The job_workflow_ref claim does not match, expecting one of [${refs.map((r) => `'${jwr}@${r}'`).join(', ')}], got '${got}'`;

const cases: Record<string, RuleCase<GitHubConfig>[]> = {
  repository: [
    { name: 'the repository', failures: [] },
    {
      name: 'the repository in another case',
      claims: { repository: 'Octo-Org/Octo-Repo' },
      failures: [],
    },
    {
      name: 'a publisher registered in another case',
      config: { owner: 'OCTO-ORG', repository: 'Octo-Repo' },
      failures: [],
    },
    {
      name: 'another repository of the owner',
      claims: { repository: 'octo-org/other-repo' },
      failures: [
        "Check failed for claim 'repository': expected 'octo-org/octo-repo' (in any case), got 'octo-org/other-repo'",
      ],
    },
    {
      name: 'a fork',
      claims: { repository: 'octo-fork/octo-repo' },
      failures: [
        "Check failed for claim 'repository': expected 'octo-org/octo-repo' (in any case), got 'octo-fork/octo-repo'",
      ],
    },
    {
      name: 'empty',
      claims: { repository: '' },
      failures: [
        "Check failed for claim 'repository': expected 'octo-org/octo-repo' (in any case), got ''",
      ],
    },
    {
      name: 'a Unicode look-alike (KELVIN SIGN lower-cases to k)',
      claims: {
        repository: 'octo-org/octo-\u212Ait',
        job_workflow_ref: 'octo-org/octo-kit/.github/workflows/release.yml@refs/tags/v1.2.0',
      },
      config: { repository: 'octo-kit' },
      failures: [
        "Check failed for claim 'repository': expected 'octo-org/octo-kit' (in any case), got 'octo-org/octo-\u212Ait'",
      ],
    },
    {
      name: 'missing',
      claims: { repository: undefined },
      failures: ["Missing claim 'repository'"],
    },
    { name: 'null', claims: { repository: null }, failures: ["Missing claim 'repository'"] },
    {
      name: 'a number',
      claims: { repository: 74 },
      failures: ["Check failed for claim 'repository': expected a string, got a number"],
    },
    {
      name: 'an array',
      claims: { repository: ['octo-org/octo-repo'] },
      failures: ["Check failed for claim 'repository': expected a string, got an array"],
    },
  ],
  repository_owner: [
    { name: 'the owner', failures: [] },
    {
      name: 'the owner in another case (a case-only rename)',
      claims: { repository_owner: 'Octo-Org' },
      failures: [],
    },
    {
      name: 'another owner',
      claims: { repository_owner: 'octo-org2' },
      failures: [
        "Check failed for claim 'repository_owner': expected 'octo-org' (in any case), got 'octo-org2'",
      ],
    },
    {
      name: 'missing',
      claims: { repository_owner: undefined },
      failures: ["Missing claim 'repository_owner'"],
    },
    {
      name: 'an object',
      claims: { repository_owner: { login: 'octo-org' } },
      failures: ["Check failed for claim 'repository_owner': expected a string, got an object"],
    },
  ],
  repository_owner_id: [
    { name: 'the id recorded at registration', failures: [] },
    {
      name: 'an owner deleted and re-created under the same name (a new id)',
      claims: { repository_owner_id: '190000001' },
      failures: ["Check failed for claim 'repository_owner_id': expected '65', got '190000001'"],
    },
    {
      name: 'the same digits written differently',
      claims: { repository_owner_id: '065' },
      failures: ["Check failed for claim 'repository_owner_id': expected '65', got '065'"],
    },
    {
      name: 'a JSON number (GitHub sends ids as strings)',
      claims: { repository_owner_id: 65 },
      failures: ["Check failed for claim 'repository_owner_id': expected a string, got a number"],
    },
    {
      name: 'missing',
      claims: { repository_owner_id: undefined },
      failures: ["Missing claim 'repository_owner_id'"],
    },
  ],
  job_workflow_ref: [
    { name: "the publisher's workflow at the token's ref", failures: [] },
    {
      name: "the publisher's workflow at the token's sha (a deployment with an empty ref)",
      claims: { ref: '', job_workflow_ref: `${JWR}@${SHA}` },
      failures: [],
    },
    {
      name: 'the repository part in another case',
      claims: {
        job_workflow_ref: `Octo-Org/Octo-Repo/.github/workflows/release.yml@refs/tags/v1.2.0`,
      },
      failures: [],
    },
    {
      name: 'a reusable workflow of the same repository, the publisher naming the reusable file',
      claims: {
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/publish.yml@refs/tags/v1.2.0',
      },
      config: { workflow: 'publish.yml' },
      failures: [],
    },
    {
      name: 'a reusable workflow of the same repository, the publisher naming the caller',
      claims: {
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/publish.yml@refs/tags/v1.2.0',
      },
      failures: [expecting('octo-org/octo-repo/.github/workflows/publish.yml@refs/tags/v1.2.0')],
    },
    {
      name: 'a reusable workflow of another repository (the documentation example)',
      claims: {
        ref: 'refs/heads/main',
        job_workflow_ref: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
      },
      config: { workflow: 'oidc.yml' },
      failures: [
        expecting(
          'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
          [SHA, 'refs/heads/main'],
          'octo-org/octo-repo/.github/workflows/oidc.yml',
        ),
      ],
    },
    {
      name: 'the workflow file in another case',
      claims: {
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/Release.yml@refs/tags/v1.2.0',
      },
      failures: [expecting('octo-org/octo-repo/.github/workflows/Release.yml@refs/tags/v1.2.0')],
    },
    {
      name: 'a file of the same name in a subdirectory',
      claims: {
        job_workflow_ref: 'octo-org/octo-repo/.github/workflows/x/release.yml@refs/tags/v1.2.0',
      },
      failures: [expecting('octo-org/octo-repo/.github/workflows/x/release.yml@refs/tags/v1.2.0')],
    },
    {
      name: "the workflow at another ref than the token's",
      claims: { job_workflow_ref: `${JWR}@refs/heads/main` },
      failures: [expecting(`${JWR}@refs/heads/main`)],
    },
    {
      name: 'ref and sha both empty',
      claims: { ref: '', sha: '' },
      failures: ['The ref and sha claims are empty'],
    },
    {
      name: 'empty',
      claims: { job_workflow_ref: '' },
      failures: ['The job_workflow_ref claim is empty'],
    },
    {
      name: 'missing',
      claims: { job_workflow_ref: undefined },
      failures: ["Missing claim 'job_workflow_ref'"],
    },
    {
      name: 'a boolean',
      claims: { job_workflow_ref: true },
      failures: ["Check failed for claim 'job_workflow_ref': expected a string, got a boolean"],
    },
  ],
  event_name: [
    { name: 'push', failures: [] },
    { name: 'release', claims: { event_name: 'release' }, failures: [] },
    { name: 'workflow_dispatch', claims: { event_name: 'workflow_dispatch' }, failures: [] },
    {
      name: 'pull_request_target',
      claims: { event_name: 'pull_request_target' },
      failures: ["Publishing from a workflow invoked via 'pull_request_target' is not supported."],
    },
    {
      name: 'missing',
      claims: { event_name: undefined },
      failures: ["Missing claim 'event_name'"],
    },
    {
      name: 'an array',
      claims: { event_name: ['push'] },
      failures: ["Check failed for claim 'event_name': expected a string, got an array"],
    },
  ],
  ref: [
    { name: 'any ref without a pattern', failures: [] },
    {
      name: 'an empty ref without a pattern',
      claims: { ref: '', job_workflow_ref: `${JWR}@${SHA}` },
      failures: [],
    },
    { name: "a tag matching 'refs/tags/v*'", config: { ref: 'refs/tags/v*' }, failures: [] },
    {
      name: "a branch refused by 'refs/tags/v*'",
      claims: { ref: 'refs/heads/main', job_workflow_ref: `${JWR}@refs/heads/main` },
      config: { ref: 'refs/tags/v*' },
      failures: [
        "Check failed for claim 'ref': expected a ref matching 'refs/tags/v*', got 'refs/heads/main'",
      ],
    },
    {
      name: "'*' does not cross '/'",
      claims: { ref: 'refs/tags/v1/evil', job_workflow_ref: `${JWR}@refs/tags/v1/evil` },
      config: { ref: 'refs/tags/v*' },
      failures: [
        "Check failed for claim 'ref': expected a ref matching 'refs/tags/v*', got 'refs/tags/v1/evil'",
      ],
    },
    {
      name: "'**' crosses '/'",
      claims: {
        ref: 'refs/heads/release/2024/q1',
        job_workflow_ref: `${JWR}@refs/heads/release/2024/q1`,
      },
      config: { ref: 'refs/heads/release/**' },
      failures: [],
    },
    {
      name: 'a pattern without wildcards is exact',
      claims: { ref: 'refs/heads/main-old', job_workflow_ref: `${JWR}@refs/heads/main-old` },
      config: { ref: 'refs/heads/main' },
      failures: [
        "Check failed for claim 'ref': expected a ref matching 'refs/heads/main', got 'refs/heads/main-old'",
      ],
    },
    {
      name: "'.' in a pattern is a dot",
      claims: { ref: 'refs/tags/v1x0', job_workflow_ref: `${JWR}@refs/tags/v1x0` },
      config: { ref: 'refs/tags/v1.0' },
      failures: [
        "Check failed for claim 'ref': expected a ref matching 'refs/tags/v1.0', got 'refs/tags/v1x0'",
      ],
    },
    {
      name: 'an empty ref against a pattern',
      claims: { ref: '', job_workflow_ref: `${JWR}@${SHA}` },
      config: { ref: 'refs/tags/v*' },
      failures: ["Check failed for claim 'ref': expected a ref matching 'refs/tags/v*', got ''"],
    },
    {
      name: 'missing (job_workflow_ref can then only name the sha)',
      claims: { ref: undefined },
      failures: [expecting(`${JWR}@refs/tags/v1.2.0`, [SHA]), "Missing claim 'ref'"],
    },
    {
      name: 'a number',
      claims: { ref: 7, job_workflow_ref: `${JWR}@${SHA}` },
      failures: ["Check failed for claim 'ref': expected a string, got a number"],
    },
    ...['\n', '\r', '\x00', '\x1b', '\x7f', '\x85', '\x9f'].flatMap((control) => [
      {
        name: `a ref with ${codePoint(control)} against 'refs/tags/v*'`,
        claims: { ref: `refs/tags/v1.2.0${control}`, job_workflow_ref: `${JWR}@${SHA}` },
        config: { ref: 'refs/tags/v*' },
        failures: ["Check failed for claim 'ref': it contains a control character"],
      },
      {
        name: `a ref with ${codePoint(control)}, without a pattern`,
        claims: { ref: `refs/tags/v1${control}.2.0`, job_workflow_ref: `${JWR}@${SHA}` },
        failures: ["Check failed for claim 'ref': it contains a control character"],
      },
    ]),
    {
      name: "a newline cannot smuggle a second ref past '**'",
      claims: { ref: 'refs/heads/evil\nrefs/tags/v1', job_workflow_ref: `${JWR}@${SHA}` },
      config: { ref: 'refs/**' },
      failures: ["Check failed for claim 'ref': it contains a control character"],
    },
  ],
  sha: [
    { name: 'any sha', claims: { sha: 'f'.repeat(40) }, failures: [] },
    { name: 'missing', claims: { sha: undefined }, failures: ["Missing claim 'sha'"] },
    {
      name: 'a number',
      claims: { sha: 1234 },
      failures: ["Check failed for claim 'sha': expected a string, got a number"],
    },
  ],
  jti: [
    { name: 'any token id', failures: [] },
    { name: 'missing', claims: { jti: undefined }, failures: ["Missing claim 'jti'"] },
    {
      name: 'a number',
      claims: { jti: 42 },
      failures: ["Check failed for claim 'jti': expected a string, got a number"],
    },
  ],
  environment: [
    { name: 'the environment', failures: [] },
    { name: 'the environment in another case', claims: { environment: 'Release' }, failures: [] },
    { name: 'the environment in upper case', claims: { environment: 'RELEASE' }, failures: [] },
    {
      name: "a Unicode look-alike: KELVIN SIGN is not 'k' (ASCII case only)",
      claims: { environment: 'p\u212Ag' },
      config: { environment: 'pkg' },
      failures: [
        "Check failed for claim 'environment': expected 'pkg' (in any case), got 'p\u212Ag'",
      ],
    },
    {
      name: "a publisher registered with KELVIN SIGN does not accept 'k'",
      claims: { environment: 'PKG' },
      config: { environment: 'p\u212Ag' },
      failures: [
        "Check failed for claim 'environment': expected 'p\u212Ag' (in any case), got 'PKG'",
      ],
    },
    {
      name: 'other Unicode case pairs stay distinct (DOTTED CAPITAL I, LONG S)',
      claims: { environment: '\u0130nfra-\u017Fign' },
      config: { environment: 'infra-sign' },
      failures: [
        "Check failed for claim 'environment': expected 'infra-sign' (in any case), got '\u0130nfra-\u017Fign'",
      ],
    },
    {
      name: 'an environment with a control character',
      claims: { environment: 'release\n' },
      failures: ["Check failed for claim 'environment': it contains a control character"],
    },
    {
      name: 'another environment',
      claims: { environment: 'staging' },
      failures: [
        "Check failed for claim 'environment': expected 'release' (in any case), got 'staging'",
      ],
    },
    {
      name: 'no environment',
      claims: { environment: undefined },
      failures: ["Missing claim 'environment': expected 'release'"],
    },
    {
      name: 'an empty environment',
      claims: { environment: '' },
      failures: ["Check failed for claim 'environment': expected 'release' (in any case), got ''"],
    },
    {
      name: 'a publisher without environment: any',
      claims: { environment: 'staging' },
      config: { environment: '' },
      failures: [],
    },
    {
      name: 'a publisher without environment: none',
      claims: { environment: undefined },
      config: { environment: '' },
      failures: [],
    },
    {
      name: 'a number, even for a publisher without environment',
      claims: { environment: 5 },
      config: { environment: '' },
      failures: ["Check failed for claim 'environment': expected a string, got a number"],
    },
  ],
  ref_protected: protectedRefCases<GitHubConfig>(),
};

ruleTests(githubProvider, { claims: TOKEN, config: PUBLISHER, issuer: ISSUER }, cases);

test('GitHub: the table, as a reviewer reads it against Warehouse', () => {
  assert.deepEqual(
    githubProvider.rules.map((r) => `${r.kind} ${r.claim}`),
    [
      'required-verifiable repository',
      'required-verifiable repository_owner',
      'required-verifiable repository_owner_id',
      'required-verifiable job_workflow_ref',
      'required-verifiable event_name',
      'required-verifiable ref',
      'required-unverifiable sha',
      'required-unverifiable jti',
      'optional-verifiable environment',
      'optional-verifiable ref_protected',
    ],
  );
  assert.ok(githubProvider.uncheckedClaims.includes('sub'));
  assert.ok(githubProvider.uncheckedClaims.includes('workflow_ref'));
  assert.ok(githubProvider.uncheckedClaims.includes('repository_id'));
  assert.deepEqual(githubProvider.uncheckedPrefixes, ['repo_property_']);
});

test('GitHub: every claim of the documented token and of a real one is classified once', () => {
  assertClassified(githubProvider, DOCS_EXAMPLE);
  assertClassified(githubProvider, { ...TOKEN, repo_property_team: 'release-engineering' });
});

test('GitHub: the documentation example is refused only for its reusable workflow of another repository', () => {
  const failures = githubProvider.check(
    { ...PUBLISHER, workflow: 'oidc.yml', environment: 'prod' },
    DOCS_EXAMPLE,
    ISSUER,
  );
  assert.deepEqual(failures, [
    {
      claim: 'job_workflow_ref',
      message:
        "The job_workflow_ref claim does not match, expecting one of ['octo-org/octo-repo/.github/workflows/oidc.yml@example-sha', 'octo-org/octo-repo/.github/workflows/oidc.yml@refs/heads/main'], got 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main'",
    },
  ]);
});

test('GitHub: several failures come in table order', () => {
  const claims = withClaims(TOKEN, {
    repository_owner_id: '66',
    event_name: 'pull_request_target',
    environment: 'dev',
  });
  assert.deepEqual(
    githubProvider.check(PUBLISHER, claims, ISSUER).map((f) => f.claim),
    ['repository_owner_id', 'event_name', 'environment'],
  );
});

test('GitHub: provenance and describe of the documented token', () => {
  assert.deepEqual(githubProvider.provenance(DOCS_EXAMPLE), {
    repository: 'octo-org/octo-repo',
    repository_owner_id: '65',
    workflow_ref: null,
    job_workflow_ref: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
    ref: 'refs/heads/main',
    sha: 'example-sha',
    run_id: 'example-run-id',
    run_attempt: '2',
    environment: 'prod',
    event_name: 'workflow_dispatch',
  });
  assert.deepEqual(githubProvider.provenance(TOKEN), {
    repository: 'octo-org/octo-repo',
    repository_owner_id: '65',
    workflow_ref: `${JWR}@refs/tags/v1.2.0`,
    job_workflow_ref: `${JWR}@refs/tags/v1.2.0`,
    ref: 'refs/tags/v1.2.0',
    sha: SHA,
    run_id: '9876543210',
    run_attempt: '1',
    environment: 'release',
    event_name: 'push',
  });
  assert.equal(
    githubProvider.describe(PUBLISHER),
    'GitHub octo-org/octo-repo, workflow release.yml, environment release',
  );
  assert.equal(
    githubProvider.describe({ ...PUBLISHER, environment: '', ref: 'refs/tags/v*' }),
    'GitHub octo-org/octo-repo, workflow release.yml, ref refs/tags/v*',
  );
});

test('GitHub: url, by issuer', () => {
  assert.equal(githubProvider.url(PUBLISHER, ISSUER), 'https://github.com/octo-org/octo-repo');
  assert.equal(
    githubProvider.url(PUBLISHER, ISSUER, TOKEN),
    `https://github.com/octo-org/octo-repo/commit/${SHA}`,
  );
  // The documentation's placeholder sha is no commit id: no commit link.
  assert.equal(
    githubProvider.url(PUBLISHER, ISSUER, DOCS_EXAMPLE),
    'https://github.com/octo-org/octo-repo',
  );
  assert.equal(
    githubProvider.url(PUBLISHER, 'https://ghes.example.com/_services/token', TOKEN),
    `https://ghes.example.com/octo-org/octo-repo/commit/${SHA}`,
  );
  const bases: [string, string | null][] = [
    [ISSUER, 'https://github.com'],
    ['https://token.actions.githubusercontent.com/avocado-corp', 'https://github.com'],
    ['https://token.actions.octocorp.ghe.com', 'https://octocorp.ghe.com'],
    ['https://ghes.example.com/_services/token', 'https://ghes.example.com'],
    ['http://127.0.0.1:8123', 'http://127.0.0.1:8123'],
    ['not a url', null],
  ];
  for (const [issuer, base] of bases) assert.equal(githubWebBase(issuer), base, issuer);
});

test('GitHub: lookup keys agree between publisher and token', () => {
  assert.equal(githubProvider.lookupKeyOfConfig(PUBLISHER), 'octo-org/octo-repo');
  assert.equal(
    githubProvider.lookupKeyOfConfig({ ...PUBLISHER, owner: 'Octo-Org', repository: 'Octo-Repo' }),
    'octo-org/octo-repo',
  );
  assert.deepEqual(githubProvider.lookupKeyOfClaims(TOKEN), {
    ok: true,
    key: 'octo-org/octo-repo',
  });
  assert.deepEqual(
    githubProvider.lookupKeyOfClaims(withClaims(TOKEN, { repository: 'Octo-Org/Octo-Repo' })),
    {
      ok: true,
      key: 'octo-org/octo-repo',
    },
  );
  // A required claim missing or mistyped fails before any lookup (Warehouse's check_claims_existence).
  assert.deepEqual(githubProvider.lookupKeyOfClaims(withClaims(TOKEN, { repository: undefined })), {
    ok: false,
    failure: { claim: 'repository', message: "Missing claim 'repository'" },
  });
  assert.deepEqual(githubProvider.lookupKeyOfClaims(withClaims(TOKEN, { sha: 5 })), {
    ok: false,
    failure: {
      claim: 'sha',
      message: "Check failed for claim 'sha': expected a string, got a number",
    },
  });
  // An optional claim does not stop the lookup.
  assert.equal(
    githubProvider.lookupKeyOfClaims(withClaims(TOKEN, { environment: undefined })).ok,
    true,
  );
});

test('GitHub: identity is case-normalized as matching is', () => {
  const id = githubProvider.identityOf(PUBLISHER);
  assert.equal(
    githubProvider.identityOf({ ...PUBLISHER, owner: 'OCTO-ORG', repository: 'Octo-Repo' }),
    id,
  );
  assert.equal(githubProvider.identityOf({ ...PUBLISHER, environment: 'RELEASE' }), id);
  // ASCII case only: a look-alike environment is another publisher.
  assert.notEqual(
    githubProvider.identityOf({ ...PUBLISHER, environment: 'p\u212Ag' }),
    githubProvider.identityOf({ ...PUBLISHER, environment: 'pkg' }),
  );
  for (const change of [
    { workflow: 'Release.yml' },
    { ownerId: '66' },
    { environment: '' },
    { ref: 'refs/tags/v*' },
    { repository: 'octo-repo2' },
  ])
    assert.notEqual(
      githubProvider.identityOf({ ...PUBLISHER, ...change }),
      id,
      JSON.stringify(change),
    );
});

test('GitHub: specificity prefers an environment, then a ref pattern', () => {
  const any = githubProvider.specificity({ ...PUBLISHER, environment: '' });
  const ref = githubProvider.specificity({ ...PUBLISHER, environment: '', ref: 'refs/tags/v*' });
  const env = githubProvider.specificity(PUBLISHER);
  const both = githubProvider.specificity({ ...PUBLISHER, ref: 'refs/tags/v*' });
  assert.ok(any < ref && ref < env && env < both);
});

const VALID = {
  owner: 'octo-org',
  ownerId: '65',
  repository: 'octo-repo',
  workflow: 'release.yml',
  environment: undefined,
  ref: undefined,
};

const registration: [
  name: string,
  input: Record<string, string | undefined>,
  errors: Record<string, string>,
][] = [
  [
    'owner missing',
    { owner: undefined },
    { owner: 'Specify GitHub repository owner (username or organization)' },
  ],
  [
    'owner blank',
    { owner: '  ' },
    { owner: 'Specify GitHub repository owner (username or organization)' },
  ],
  [
    'owner with a leading dash',
    { owner: '-octo' },
    { owner: 'Invalid GitHub user or organization name.' },
  ],
  [
    'owner with an underscore',
    { owner: 'octo_org' },
    { owner: 'Invalid GitHub user or organization name.' },
  ],
  [
    'owner with a slash',
    { owner: 'octo-org/octo-repo' },
    { owner: 'Invalid GitHub user or organization name.' },
  ],
  [
    'owner id missing',
    { ownerId: undefined },
    { ownerId: "Specify the owner's numeric id (it could not be looked up)" },
  ],
  [
    'owner id not a number',
    { ownerId: 'octo-org' },
    { ownerId: "The owner's id must be GitHub's numeric account id, got 'octo-org'" },
  ],
  [
    'owner id negative',
    { ownerId: '-65' },
    { ownerId: "The owner's id must be GitHub's numeric account id, got '-65'" },
  ],
  ['repository missing', { repository: '' }, { repository: 'Specify repository name' }],
  [
    'repository with a slash',
    { repository: 'octo-org/octo-repo' },
    { repository: 'Invalid repository name' },
  ],
  [
    'repository with a space',
    { repository: 'octo repo' },
    { repository: 'Invalid repository name' },
  ],
  ['workflow missing', { workflow: undefined }, { workflow: 'Specify workflow filename' }],
  [
    'workflow without .yml',
    { workflow: 'release' },
    { workflow: 'Workflow name must end with .yml or .yaml' },
  ],
  [
    'workflow .YML',
    { workflow: 'release.YML' },
    { workflow: 'Workflow name must end with .yml or .yaml' },
  ],
  [
    'workflow with its directory',
    { workflow: '.github/workflows/release.yml' },
    { workflow: 'Workflow filename must be a filename only, without directories' },
  ],
  [
    'environment too long',
    { environment: 'e'.repeat(256) },
    { environment: 'Environment name is too long (maximum is 255 characters)' },
  ],
  [
    'environment with a leading space',
    { environment: ' release' },
    { environment: 'Environment name may not start with whitespace' },
  ],
  [
    'environment of spaces only',
    { environment: '   ' },
    { environment: 'Environment name may not start with whitespace' },
  ],
  [
    'environment with a trailing tab',
    { environment: 'release\t' },
    { environment: 'Environment name may not end with whitespace' },
  ],
  ...["'", '"', '`', ',', ';', '\\', '\x00', '\x1b', '\x7f'].map(
    (ch): [string, Record<string, string>, Record<string, string>] => [
      `environment with ${JSON.stringify(ch)}`,
      { environment: `rel${ch}ease` },
      {
        environment:
          'Environment name must not contain non-printable characters or the characters "\'", """, "`", ",", ";", "\\"',
      },
    ],
  ),
  [
    'ref pattern not under refs/',
    { ref: 'v*' },
    { ref: 'Ref pattern must start with refs/ (for example refs/tags/v*)' },
  ],
  [
    'ref pattern of a bare branch',
    { ref: 'main' },
    { ref: 'Ref pattern must start with refs/ (for example refs/tags/v*)' },
  ],
  [
    'ref pattern with a space',
    { ref: 'refs/tags/v 1' },
    { ref: 'Ref pattern must not contain whitespace or control characters' },
  ],
  [
    'ref pattern with a C1 control (NEL)',
    { ref: 'refs/tags/v\x85' },
    { ref: 'Ref pattern must not contain whitespace or control characters' },
  ],
  [
    'everything wrong at once',
    { owner: '', ownerId: '', repository: '', workflow: '', environment: ' x', ref: 'x' },
    {
      owner: 'Specify GitHub repository owner (username or organization)',
      ownerId: "Specify the owner's numeric id (it could not be looked up)",
      repository: 'Specify repository name',
      workflow: 'Specify workflow filename',
      environment: 'Environment name may not start with whitespace',
      ref: 'Ref pattern must start with refs/ (for example refs/tags/v*)',
    },
  ],
];

test('GitHub registration: every message of the form', async (t) => {
  for (const [name, change, errors] of registration)
    await t.test(name, () => {
      assert.deepEqual(githubProvider.validateConfig({ ...VALID, ...change }), {
        ok: false,
        errors,
      });
    });
});

test('GitHub registration: normalized configurations', () => {
  const accepted: [Record<string, string | undefined>, GitHubConfig][] = [
    [VALID, { ...PUBLISHER, environment: '' }],
    [
      {
        owner: ' Octo-Org ',
        ownerId: ' 65 ',
        repository: ' octo_repo.py ',
        workflow: ' release.yaml ',
        environment: 'PyPI Release',
        ref: ' refs/tags/v* ',
      },
      {
        owner: 'Octo-Org',
        ownerId: '65',
        repository: 'octo_repo.py',
        workflow: 'release.yaml',
        environment: 'pypi release',
        ref: 'refs/tags/v*',
      },
    ],
    [
      { ...VALID, environment: 'e'.repeat(255) },
      { ...PUBLISHER, environment: 'e'.repeat(255) },
    ],
    [
      { ...VALID, environment: '' },
      { ...PUBLISHER, environment: '' },
    ],
    [
      { ...VALID, environment: 'Prod-ünïcode' },
      { ...PUBLISHER, environment: 'prod-ünïcode' },
    ],
    // Only ASCII letters are lower-cased: KELVIN SIGN stays itself and never becomes 'k'.
    [
      { ...VALID, environment: 'P\u212AG' },
      { ...PUBLISHER, environment: 'p\u212Ag' },
    ],
  ];
  for (const [input, config] of accepted)
    assert.deepEqual(githubProvider.validateConfig(input), { ok: true, config });
});

protectedRefRegistrationTest(githubProvider, VALID, PUBLISHER);
