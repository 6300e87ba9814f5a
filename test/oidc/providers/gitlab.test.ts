// GitLab's claim rules (reference §3.3, PyPI's plus pier's ref pattern), its registration form
// (§6) and what it records, against GitLab's documented token (publishing-clients §7.2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gitlabInstance, gitlabProvider } from '../../../src/oidc/providers/gitlab.js';
import type { GitLabConfig } from '../../../src/oidc/providers/types.js';
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

const ISSUER = 'https://gitlab.com';
const SELF_MANAGED = 'https://gitlab.example.com';

/** The example token of GitLab's documentation ("ID token authentication"), from an instance. */
const DOCS_EXAMPLE = {
  namespace_id: '72',
  namespace_path: 'my-group',
  project_id: '20',
  project_path: 'my-group/my-project',
  user_id: '1',
  user_login: 'sample-user',
  user_email: 'sample-user@example.com',
  user_identities: [
    { provider: 'github', extern_uid: '2435223452345' },
    { provider: 'bitbucket', extern_uid: 'john.smith' },
  ],
  pipeline_id: '574',
  pipeline_source: 'push',
  job_id: '302',
  ref: 'feature-branch-1',
  ref_type: 'branch',
  ref_path: 'refs/heads/feature-branch-1',
  ref_protected: 'false',
  groups_direct: ['mygroup/mysubgroup', 'myothergroup/myothersubgroup'],
  environment: 'test-environment2',
  environment_protected: 'false',
  deployment_tier: 'testing',
  environment_action: 'start',
  runner_id: 1,
  runner_environment: 'self-hosted',
  sha: '714a629c0b401fdce83e847fc9589983fc6f46bc',
  project_visibility: 'public',
  ci_config_ref_uri: 'gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main',
  ci_config_sha: '714a629c0b401fdce83e847fc9589983fc6f46bc',
  jti: '235b3a54-b797-45c7-ae9a-f72d7bc6ef5b',
  iss: 'https://gitlab.example.com',
  iat: 1681395193,
  nbf: 1681395188,
  exp: 1681398793,
  sub: 'project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1',
  aud: 'https://vault.example.com',
} as const;

const SHA = 'c0ffee5e1ec7ab1e0ddba11ab5e11ed0facade5';
const CCRU = 'gitlab.com/my-group/my-project//.gitlab-ci.yml';

/** A release job on gitlab.com: the tag v1.0.0, the project's own pipeline, `production`. */
const TOKEN = {
  ...DOCS_EXAMPLE,
  user_access_level: 'maintainer',
  job_project_id: '20',
  job_project_path: 'my-group/my-project',
  job_namespace_id: '72',
  job_namespace_path: 'my-group',
  job_source: 'push',
  pipeline_id: '1234567',
  job_id: '7654321',
  ref: 'v1.0.0',
  ref_type: 'tag',
  ref_path: 'refs/tags/v1.0.0',
  ref_protected: 'true',
  environment: 'production',
  environment_protected: 'true',
  deployment_tier: 'production',
  runner_id: 12270807,
  runner_environment: 'gitlab-hosted',
  sha: SHA,
  ci_config_ref_uri: `${CCRU}@refs/tags/v1.0.0`,
  ci_config_sha: SHA,
  jti: '0b6f2c9e-5d0e-4c1b-9d6a-0f5e4c3b2a19',
  iss: ISSUER,
  sub: 'project_path:my-group/my-project:ref_type:tag:ref:v1.0.0',
  aud: 'pier.example.com',
};

const PUBLISHER: GitLabConfig = {
  namespace: 'my-group',
  project: 'my-project',
  workflowPath: '.gitlab-ci.yml',
  environment: 'production',
  ref: '',
};

const expecting = (got: string, refs: string[] = [SHA, 'refs/tags/v1.0.0'], ccru = CCRU) =>
  `The ci_config_ref_uri claim does not match, expecting one of [${refs.map((r) => `'${ccru}@${r}'`).join(', ')}], got '${got}'`;

const subFailure = (got: string) =>
  `Check failed for claim 'sub': expected 'project_path:my-group/my-project' (in any case), optionally followed by ':…', got '${got}'`;

const cases: Record<string, RuleCase<GitLabConfig>[]> = {
  sub: [
    { name: 'the default subject', failures: [] },
    {
      name: 'the project path alone',
      claims: { sub: 'project_path:my-group/my-project' },
      failures: [],
    },
    {
      name: 'in another case',
      claims: { sub: 'project_path:My-Group/My-Project:ref_type:tag:ref:v1.0.0' },
      failures: [],
    },
    {
      name: 'another project with the same prefix',
      claims: { sub: 'project_path:my-group/my-project-fork:ref_type:tag:ref:v1.0.0' },
      failures: [subFailure('project_path:my-group/my-project-fork:ref_type:tag:ref:v1.0.0')],
    },
    {
      name: 'a customised subject that does not start with the project path',
      claims: { sub: 'project_id:20:ref:v1.0.0' },
      failures: [subFailure('project_id:20:ref:v1.0.0')],
    },
    {
      name: 'an empty path',
      claims: { sub: 'project_path:' },
      failures: [subFailure('project_path:')],
    },
    { name: 'missing', claims: { sub: undefined }, failures: ["Missing claim 'sub'"] },
    {
      name: 'a number',
      claims: { sub: 20 },
      failures: ["Check failed for claim 'sub': expected a string, got a number"],
    },
  ],
  project_path: [
    { name: 'the project', failures: [] },
    {
      name: 'the project in another case',
      claims: { project_path: 'My-Group/My-Project' },
      failures: [],
    },
    {
      name: 'a publisher registered in another case',
      config: { namespace: 'My-Group', project: 'My-Project' },
      failures: [],
    },
    {
      name: 'a project of a subgroup',
      claims: {
        project_path: 'my-group/sub/my-project',
        sub: 'project_path:my-group/sub/my-project:ref_type:tag:ref:v1.0.0',
        ci_config_ref_uri: 'gitlab.com/my-group/sub/my-project//.gitlab-ci.yml@refs/tags/v1.0.0',
      },
      config: { namespace: 'my-group/sub' },
      failures: [],
    },
    {
      name: 'another project',
      claims: { project_path: 'my-group/other' },
      failures: [
        "Check failed for claim 'project_path': expected 'my-group/my-project' (in any case), got 'my-group/other'",
      ],
    },
    {
      name: 'a fork',
      claims: { project_path: 'someone/my-project' },
      failures: [
        "Check failed for claim 'project_path': expected 'my-group/my-project' (in any case), got 'someone/my-project'",
      ],
    },
    {
      name: 'a Unicode look-alike (KELVIN SIGN lower-cases to k)',
      claims: {
        project_path: 'my-group/my-\u212Ait',
        sub: 'project_path:my-group/my-kit:ref_type:tag:ref:v1.0.0',
        ci_config_ref_uri: 'gitlab.com/my-group/my-kit//.gitlab-ci.yml@refs/tags/v1.0.0',
      },
      config: { project: 'my-kit' },
      failures: [
        "Check failed for claim 'project_path': expected 'my-group/my-kit' (in any case), got 'my-group/my-\u212Ait'",
      ],
    },
    {
      name: 'missing',
      claims: { project_path: undefined },
      failures: ["Missing claim 'project_path'"],
    },
    {
      name: 'an array',
      claims: { project_path: ['my-group/my-project'] },
      failures: ["Check failed for claim 'project_path': expected a string, got an array"],
    },
  ],
  ci_config_ref_uri: [
    { name: "the pipeline file at the token's ref_path", failures: [] },
    {
      name: "the pipeline file at the token's sha",
      claims: { ci_config_ref_uri: `${CCRU}@${SHA}` },
      failures: [],
    },
    {
      name: 'the instance and project in another case',
      claims: {
        ci_config_ref_uri: 'GitLab.com/My-Group/My-Project//.gitlab-ci.yml@refs/tags/v1.0.0',
      },
      failures: [],
    },
    {
      name: 'a pipeline file in a directory',
      claims: {
        ci_config_ref_uri: 'gitlab.com/my-group/my-project//ci/release.yml@refs/tags/v1.0.0',
      },
      config: { workflowPath: 'ci/release.yml' },
      failures: [],
    },
    {
      name: 'another pipeline file',
      claims: {
        ci_config_ref_uri: 'gitlab.com/my-group/my-project//ci/release.yml@refs/tags/v1.0.0',
      },
      failures: [expecting('gitlab.com/my-group/my-project//ci/release.yml@refs/tags/v1.0.0')],
    },
    {
      name: 'the pipeline file in another case',
      claims: {
        ci_config_ref_uri: 'gitlab.com/my-group/my-project//.GitLab-CI.yml@refs/tags/v1.0.0',
      },
      failures: [expecting('gitlab.com/my-group/my-project//.GitLab-CI.yml@refs/tags/v1.0.0')],
    },
    {
      name: 'a pipeline file of another project',
      claims: {
        ci_config_ref_uri: 'gitlab.com/my-group/ci-templates//.gitlab-ci.yml@refs/tags/v1.0.0',
      },
      failures: [expecting('gitlab.com/my-group/ci-templates//.gitlab-ci.yml@refs/tags/v1.0.0')],
    },
    {
      name: "at another ref than the token's",
      claims: { ci_config_ref_uri: `${CCRU}@refs/heads/main` },
      failures: [expecting(`${CCRU}@refs/heads/main`)],
    },
    {
      name: 'a gitlab.com token for a publisher of a self-managed instance',
      issuer: SELF_MANAGED,
      failures: [
        expecting(
          `${CCRU}@refs/tags/v1.0.0`,
          undefined,
          'gitlab.example.com/my-group/my-project//.gitlab-ci.yml',
        ),
      ],
    },
    {
      name: 'a self-managed instance on a port',
      issuer: 'https://gitlab.example.com:8443',
      claims: {
        ci_config_ref_uri:
          'gitlab.example.com:8443/my-group/my-project//.gitlab-ci.yml@refs/tags/v1.0.0',
      },
      failures: [],
    },
    {
      name: 'an empty ref_path (both are required)',
      claims: { ref_path: '' },
      failures: ['The ref_path and sha claims are empty'],
    },
    {
      name: 'an empty sha (both are required)',
      claims: { sha: '' },
      failures: ['The ref_path and sha claims are empty'],
    },
    {
      name: 'empty',
      claims: { ci_config_ref_uri: '' },
      failures: ['The ci_config_ref_uri claim is empty'],
    },
    {
      name: 'null (the pipeline configuration is not in the project)',
      claims: { ci_config_ref_uri: null },
      failures: ["Missing claim 'ci_config_ref_uri'"],
    },
    {
      name: 'a number',
      claims: { ci_config_ref_uri: 1 },
      failures: ["Check failed for claim 'ci_config_ref_uri': expected a string, got a number"],
    },
  ],
  ref_path: [
    { name: 'any ref without a pattern', failures: [] },
    { name: "a tag matching 'refs/tags/v*'", config: { ref: 'refs/tags/v*' }, failures: [] },
    {
      name: "a branch refused by 'refs/tags/v*'",
      claims: { ref_path: 'refs/heads/main', ci_config_ref_uri: `${CCRU}@refs/heads/main` },
      config: { ref: 'refs/tags/v*' },
      failures: [
        "Check failed for claim 'ref_path': expected a ref matching 'refs/tags/v*', got 'refs/heads/main'",
      ],
    },
    {
      name: "'**' crosses '/'",
      claims: {
        ref_path: 'refs/heads/release/1.x',
        ci_config_ref_uri: `${CCRU}@refs/heads/release/1.x`,
      },
      config: { ref: 'refs/heads/**' },
      failures: [],
    },
    ...['\n', '\x00', '\x7f', '\x9b'].map((control) => ({
      name: `a ref_path with ${codePoint(control)} matches no pattern`,
      claims: { ref_path: `refs/tags/v1${control}`, ci_config_ref_uri: `${CCRU}@${SHA}` },
      config: { ref: 'refs/tags/**' },
      failures: ["Check failed for claim 'ref_path': it contains a control character"],
    })),
    {
      name: 'missing (ci_config_ref_uri then has no ref_path)',
      claims: { ref_path: undefined },
      failures: ['The ref_path and sha claims are empty', "Missing claim 'ref_path'"],
    },
    {
      name: 'a boolean',
      claims: { ref_path: false },
      failures: [
        'The ref_path and sha claims are empty',
        "Check failed for claim 'ref_path': expected a string, got a boolean",
      ],
    },
  ],
  sha: [
    { name: 'any sha', failures: [] },
    {
      name: 'missing (ci_config_ref_uri then has no sha)',
      claims: { sha: undefined },
      failures: ['The ref_path and sha claims are empty', "Missing claim 'sha'"],
    },
  ],
  jti: [
    { name: 'any token id', failures: [] },
    { name: 'missing', claims: { jti: undefined }, failures: ["Missing claim 'jti'"] },
    {
      name: 'an object',
      claims: { jti: {} },
      failures: ["Check failed for claim 'jti': expected a string, got an object"],
    },
  ],
  environment: [
    { name: 'the environment', failures: [] },
    {
      name: 'the environment in another case (GitLab environments are case-sensitive)',
      claims: { environment: 'Production' },
      failures: ["Check failed for claim 'environment': expected 'production', got 'Production'"],
    },
    {
      name: 'another environment',
      claims: { environment: 'staging' },
      failures: ["Check failed for claim 'environment': expected 'production', got 'staging'"],
    },
    {
      name: 'no environment',
      claims: { environment: undefined },
      failures: ["Missing claim 'environment': expected 'production'"],
    },
    {
      name: 'a publisher with a capitalised environment',
      claims: { environment: 'Production' },
      config: { environment: 'Production' },
      failures: [],
    },
    {
      name: 'a publisher without environment: any',
      claims: { environment: 'review/feature-1' },
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
      name: 'an array',
      claims: { environment: ['production'] },
      failures: ["Check failed for claim 'environment': expected a string, got an array"],
    },
  ],
  ref_protected: protectedRefCases<GitLabConfig>(),
};

ruleTests(gitlabProvider, { claims: TOKEN, config: PUBLISHER, issuer: ISSUER }, cases);

test('GitLab: the table, as a reviewer reads it against Warehouse', () => {
  assert.deepEqual(
    gitlabProvider.rules.map((r) => `${r.kind} ${r.claim}`),
    [
      'required-verifiable sub',
      'required-verifiable project_path',
      'required-verifiable ci_config_ref_uri',
      'required-verifiable ref_path',
      'required-unverifiable sha',
      'required-unverifiable jti',
      'optional-verifiable environment',
      'optional-verifiable ref_protected',
    ],
  );
  for (const claim of ['project_id', 'namespace_id', 'ref', 'groups_direct', 'job_project_path'])
    assert.ok(gitlabProvider.uncheckedClaims.includes(claim), claim);
});

test('GitLab: every claim of the documented token and of a release job is classified once', () => {
  assertClassified(gitlabProvider, DOCS_EXAMPLE);
  assertClassified(gitlabProvider, TOKEN);
});

test('GitLab: the documentation example is refused only because its ci_config_ref_uri names another ref than its ref_path', () => {
  const publisher = { ...PUBLISHER, environment: 'test-environment2' };
  assert.deepEqual(gitlabProvider.check(publisher, DOCS_EXAMPLE, SELF_MANAGED), [
    {
      claim: 'ci_config_ref_uri',
      message:
        "The ci_config_ref_uri claim does not match, expecting one of ['gitlab.example.com/my-group/my-project//.gitlab-ci.yml@714a629c0b401fdce83e847fc9589983fc6f46bc', 'gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/feature-branch-1'], got 'gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main'",
    },
  ]);
  const consistent = withClaims(DOCS_EXAMPLE, {
    ci_config_ref_uri:
      'gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/feature-branch-1',
  });
  assert.deepEqual(gitlabProvider.check(publisher, consistent, SELF_MANAGED), []);
});

test('GitLab: provenance and describe of the documented token', () => {
  assert.deepEqual(gitlabProvider.provenance(DOCS_EXAMPLE), {
    project_path: 'my-group/my-project',
    ci_config_ref_uri: 'gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main',
    ref_path: 'refs/heads/feature-branch-1',
    sha: '714a629c0b401fdce83e847fc9589983fc6f46bc',
    pipeline_id: '574',
    job_id: '302',
    environment: 'test-environment2',
  });
  assert.deepEqual(
    gitlabProvider.provenance(
      withClaims(TOKEN, { environment: undefined, ci_config_ref_uri: null }),
    ),
    {
      project_path: 'my-group/my-project',
      ci_config_ref_uri: null,
      ref_path: 'refs/tags/v1.0.0',
      sha: SHA,
      pipeline_id: '1234567',
      job_id: '7654321',
      environment: null,
    },
  );
  assert.equal(
    gitlabProvider.describe(PUBLISHER),
    'GitLab my-group/my-project, pipeline .gitlab-ci.yml, environment production',
  );
  assert.equal(
    gitlabProvider.describe({
      namespace: 'my-group/sub',
      project: 'p',
      workflowPath: 'ci/release.yml',
      environment: '',
      ref: 'refs/tags/*',
    }),
    'GitLab my-group/sub/p, pipeline ci/release.yml, ref refs/tags/*',
  );
});

test('GitLab: url, on gitlab.com and on a self-managed instance', () => {
  assert.equal(gitlabProvider.url(PUBLISHER, ISSUER), 'https://gitlab.com/my-group/my-project');
  assert.equal(
    gitlabProvider.url(PUBLISHER, ISSUER, TOKEN),
    `https://gitlab.com/my-group/my-project/-/commit/${SHA}`,
  );
  assert.equal(
    gitlabProvider.url(PUBLISHER, SELF_MANAGED, DOCS_EXAMPLE),
    'https://gitlab.example.com/my-group/my-project/-/commit/714a629c0b401fdce83e847fc9589983fc6f46bc',
  );
  assert.equal(
    gitlabProvider.url({ ...PUBLISHER, namespace: 'my-group/sub' }, 'https://example.com/gitlab'),
    'https://example.com/gitlab/my-group/sub/my-project',
  );
  assert.equal(gitlabInstance('https://gitlab.example.com:8443'), 'gitlab.example.com:8443');
  assert.equal(gitlabInstance('http://127.0.0.1:8929'), '127.0.0.1:8929');
});

test('GitLab: lookup keys agree between publisher and token', () => {
  assert.equal(
    gitlabProvider.lookupKeyOfConfig({ ...PUBLISHER, namespace: 'My-Group/Sub' }),
    'my-group/sub/my-project',
  );
  assert.deepEqual(
    gitlabProvider.lookupKeyOfClaims(withClaims(TOKEN, { project_path: 'My-Group/My-Project' })),
    {
      ok: true,
      key: 'my-group/my-project',
    },
  );
  assert.deepEqual(
    gitlabProvider.lookupKeyOfClaims(withClaims(TOKEN, { ci_config_ref_uri: null })),
    {
      ok: false,
      failure: { claim: 'ci_config_ref_uri', message: "Missing claim 'ci_config_ref_uri'" },
    },
  );
});

test('GitLab: identity is case-normalized as matching is', () => {
  const id = gitlabProvider.identityOf(PUBLISHER);
  assert.equal(
    gitlabProvider.identityOf({ ...PUBLISHER, namespace: 'My-Group', project: 'MY-PROJECT' }),
    id,
  );
  for (const change of [
    { environment: 'Production' },
    { workflowPath: '.GitLab-ci.yml' },
    { ref: 'refs/tags/*' },
    { environment: '' },
  ])
    assert.notEqual(
      gitlabProvider.identityOf({ ...PUBLISHER, ...change }),
      id,
      JSON.stringify(change),
    );
  // Namespace and project are separate fields, but the path they make is what matches.
  assert.equal(
    gitlabProvider.identityOf({ ...PUBLISHER, namespace: 'a/b', project: 'c' }),
    gitlabProvider.identityOf({ ...PUBLISHER, namespace: 'a', project: 'b/c' }),
  );
});

test('GitLab: specificity prefers an environment, then a ref pattern', () => {
  const any = gitlabProvider.specificity({ ...PUBLISHER, environment: '' });
  const ref = gitlabProvider.specificity({ ...PUBLISHER, environment: '', ref: 'refs/tags/v*' });
  const env = gitlabProvider.specificity(PUBLISHER);
  assert.ok(any < ref && ref < env);
});

const VALID = {
  namespace: 'my-group',
  project: 'my-project',
  workflowPath: '.gitlab-ci.yml',
  environment: undefined,
  ref: undefined,
};

const NAMESPACE_INVALID = 'Invalid GitLab username or group/subgroup name.';
const registration: [
  name: string,
  input: Record<string, string | undefined>,
  errors: Record<string, string>,
][] = [
  [
    'namespace missing',
    { namespace: undefined },
    { namespace: 'Specify GitLab namespace (username or group/subgroup)' },
  ],
  [
    'namespace ending .git',
    { namespace: 'my-group.git' },
    { namespace: 'Name ends with .git or .atom' },
  ],
  [
    'namespace ending .ATOM',
    { namespace: 'my-group/sub.ATOM' },
    { namespace: 'Name ends with .git or .atom' },
  ],
  ['namespace of one character', { namespace: 'a' }, { namespace: NAMESPACE_INVALID }],
  ['namespace starting with a dash', { namespace: '-group' }, { namespace: NAMESPACE_INVALID }],
  ['namespace ending with a slash', { namespace: 'group/' }, { namespace: NAMESPACE_INVALID }],
  ['namespace with a space', { namespace: 'my group' }, { namespace: NAMESPACE_INVALID }],
  ['namespace with two dashes', { namespace: 'my--group' }, { namespace: NAMESPACE_INVALID }],
  ['namespace with ._', { namespace: 'my._group' }, { namespace: NAMESPACE_INVALID }],
  ['project missing', { project: '' }, { project: 'Specify project name' }],
  [
    'project ending .git',
    { project: 'my-project.git' },
    { project: 'Name ends with .git or .atom' },
  ],
  ['project with a slash', { project: 'sub/my-project' }, { project: 'Invalid project name' }],
  ['project with a plus', { project: 'my+project' }, { project: 'Invalid project name' }],
  ['project ending with a dot', { project: 'my-project.' }, { project: 'Invalid project name' }],
  ['project with two underscores', { project: 'my__project' }, { project: 'Invalid project name' }],
  [
    'pipeline file missing',
    { workflowPath: ' ' },
    { workflowPath: 'Specify top-level pipeline file path' },
  ],
  [
    'pipeline file not YAML',
    { workflowPath: 'ci/release' },
    { workflowPath: 'Top-level pipeline file path must end with .yml or .yaml' },
  ],
  [
    'pipeline file absolute',
    { workflowPath: '/ci/release.yml' },
    { workflowPath: 'Top-level pipeline file path cannot start or end with /' },
  ],
  ['environment with !', { environment: 'prod!' }, { environment: 'Invalid environment name' }],
  [
    'environment with a dot',
    { environment: 'prod.eu' },
    { environment: 'Invalid environment name' },
  ],
  [
    'ref pattern not under refs/',
    { ref: 'v*' },
    { ref: 'Ref pattern must start with refs/ (for example refs/tags/v*)' },
  ],
];

test('GitLab registration: every message of the form', async (t) => {
  for (const [name, change, errors] of registration)
    await t.test(name, () => {
      assert.deepEqual(gitlabProvider.validateConfig({ ...VALID, ...change }), {
        ok: false,
        errors,
      });
    });
});

test('GitLab registration: normalized configurations', () => {
  const accepted: [Record<string, string | undefined>, GitLabConfig][] = [
    [VALID, { ...PUBLISHER, environment: '' }],
    [
      {
        namespace: ' My-Group/sub.group ',
        project: ' My_Project.py ',
        workflowPath: ' ci/release.yaml ',
        environment: 'Production',
        ref: ' refs/tags/v* ',
      },
      {
        namespace: 'My-Group/sub.group',
        project: 'My_Project.py',
        workflowPath: 'ci/release.yaml',
        environment: 'Production',
        ref: 'refs/tags/v*',
      },
    ],
    [
      { ...VALID, namespace: 'a1+b' },
      { ...PUBLISHER, namespace: 'a1+b', environment: '' },
    ],
    [
      { ...VALID, environment: '   ' },
      { ...PUBLISHER, environment: '' },
    ],
    [
      { ...VALID, environment: 'review/${CI_COMMIT_REF_SLUG}' },
      { ...PUBLISHER, environment: 'review/${CI_COMMIT_REF_SLUG}' },
    ],
  ];
  for (const [input, config] of accepted)
    assert.deepEqual(gitlabProvider.validateConfig(input), { ok: true, config });
});

protectedRefRegistrationTest(gitlabProvider, VALID, PUBLISHER);
