// Reading an OIDC token's claims without verifying them, rendering the identifying ones for a
// failed exchange, and the `pier publisher add` command that would trust the job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeJwtPayload,
  gitlabConfigPath,
  githubWorkflowFile,
  isReusableWorkflow,
  issuerCommand,
  publisherCommand,
  renderClaims,
  shellQuote,
  tokenPlatform,
} from '../../src/client/claims.js';
import { jwt } from './support.js';

const GITHUB = {
  iss: 'https://token.actions.githubusercontent.com',
  aud: 'pier.example.com',
  sub: 'repo:octo-org/octo-repo:environment:release',
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_owner_id: '65',
  workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0',
  job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0',
  ref: 'refs/tags/v1.0',
  environment: 'release',
  run_id: '1',
};

const GITLAB = {
  iss: 'https://gitlab.com',
  aud: 'pier.example.com',
  sub: 'project_path:my-group/my-project:ref_type:tag:ref:v1.0',
  project_path: 'my-group/my-project',
  ci_config_ref_uri: 'gitlab.com/my-group/my-project//ci/release.yml@refs/tags/v1.0',
  ref_path: 'refs/tags/v1.0',
};

test('decodeJwtPayload reads the middle part, or gives null', () => {
  const cases: [string, unknown][] = [
    [jwt({ a: 1 }), { a: 1 }],
    [`  ${jwt({ b: 'x' })}\n`, { b: 'x' }],
    ['not a token', null],
    ['a.b', null],
    ['a..c', null],
    [`x.${Buffer.from('[1]').toString('base64url')}.y`, null],
    [`x.${Buffer.from('{oops').toString('base64url')}.y`, null],
  ];
  for (const [token, payload] of cases) assert.deepEqual(decodeJwtPayload(token), payload, token);
});

test('the platform is told from the claims', () => {
  const cases: [Record<string, unknown>, string][] = [
    [GITHUB, 'github'],
    [GITLAB, 'gitlab'],
    [{ iss: 'https://accounts.google.com', email: 'sa@p.iam.gserviceaccount.com' }, 'google'],
    [{ organization_slug: 'acme', pipeline_slug: 'release' }, 'buildkite'],
    [{ iss: 'https://oidc.circleci.com/org/123' }, 'circleci'],
    [{ workspaceUuid: '{w}', repositoryUuid: '{r}', stepUuid: '{s}' }, 'bitbucket'],
    [{ iss: 'https://else.example' }, 'unknown'],
  ];
  for (const [claims, platform] of cases) assert.equal(tokenPlatform(claims), platform);
});

test('rendered claims: the identifying ones per platform, MISSING when absent', () => {
  assert.deepEqual(renderClaims(GITHUB), [
    'iss                  https://token.actions.githubusercontent.com',
    'aud                  pier.example.com',
    'repository           octo-org/octo-repo',
    'repository_owner     octo-org',
    'repository_owner_id  65',
    'workflow_ref         octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0',
    'job_workflow_ref     octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0',
    'ref                  refs/tags/v1.0',
    'environment          release',
    'sub                  repo:octo-org/octo-repo:environment:release',
  ]);
  const gitlab = renderClaims(GITLAB);
  assert.deepEqual(
    gitlab.map((l) => l.split(/\s+/)[0]),
    ['iss', 'aud', 'project_path', 'ci_config_ref_uri', 'ref_path', 'environment', 'sub'],
  );
  assert.match(gitlab[5]!, /environment\s+MISSING/);
});

test('the publisher command matches the claims', () => {
  const cases: [Record<string, unknown>, string, string | null][] = [
    [
      GITHUB,
      'pier-sample',
      'pier publisher add pier-sample --provider github --repository octo-org/octo-repo --workflow release.yml --owner-id 65 --environment release',
    ],
    [
      { ...GITHUB, iss: 'http://127.0.0.1:4000', environment: undefined },
      'pkg',
      'pier publisher add pkg --provider github --repository octo-org/octo-repo --workflow release.yml --owner-id 65 --issuer http://127.0.0.1:4000',
    ],
    [
      // A reusable workflow: the publisher names the file that defines the job.
      {
        ...GITHUB,
        job_workflow_ref:
          'octo-org/octo-repo/.github/workflows/publish-reusable.yml@refs/heads/main',
      },
      'pkg',
      'pier publisher add pkg --provider github --repository octo-org/octo-repo --workflow publish-reusable.yml --owner-id 65 --environment release',
    ],
    [
      GITLAB,
      'pkg',
      'pier publisher add pkg --provider gitlab --repository my-group/my-project --workflow ci/release.yml',
    ],
    [
      { ...GITLAB, iss: 'https://gitlab.example.com', environment: 'prod env' },
      'pkg',
      "pier publisher add pkg --provider gitlab --repository my-group/my-project --workflow ci/release.yml --environment 'prod env' --issuer https://gitlab.example.com",
    ],
    [
      { iss: 'https://accounts.google.com', email: 'sa@p.iam.gserviceaccount.com', sub: '1234' },
      'pkg',
      'pier publisher add pkg --provider google --email sa@p.iam.gserviceaccount.com --sub 1234',
    ],
    [{ ...GITHUB, repository: undefined }, 'pkg', null],
    [{ iss: 'https://buildkite.com', organization_slug: 'a' }, 'pkg', null],
    [
      {
        iss: 'https://oidc.circleci.com/org/c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90',
        'oidc.circleci.com/org-id': 'c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90',
        'oidc.circleci.com/project-id': '1f0e2d3c-4b5a-4697-8877-665544332211',
        'oidc.circleci.com/vcs-origin': 'github.com/acme/app',
      },
      'pkg',
      'pier publisher add pkg --provider circleci --organization-id c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90 --project-id 1f0e2d3c-4b5a-4697-8877-665544332211 --vcs-origin github.com/acme/app --issuer https://oidc.circleci.com/org/c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90',
    ],
    [{ iss: 'https://oidc.circleci.com/org/x', 'oidc.circleci.com/org-id': 'x' }, 'pkg', null],
    [
      {
        iss: 'https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc',
        workspaceUuid: '{8a1fdada-cbc0-452c-81ce-07534945e18b}',
        repositoryUuid: '{437da666-7aab-4b60-a947-ec542536ca0d}',
      },
      'pkg',
      "pier publisher add pkg --provider bitbucket --workspace-uuid '{8a1fdada-cbc0-452c-81ce-07534945e18b}' --repository-uuid '{437da666-7aab-4b60-a947-ec542536ca0d}' --issuer https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
    ],
  ];
  for (const [claims, project, command] of cases)
    assert.equal(publisherCommand(claims, project), command, command ?? JSON.stringify(claims));
});

test('workflow file, config path, reusable workflow, issuer command', () => {
  assert.equal(githubWorkflowFile(GITHUB), 'release.yml');
  assert.equal(githubWorkflowFile({}), undefined);
  assert.equal(gitlabConfigPath(GITLAB), 'ci/release.yml');
  assert.equal(
    gitlabConfigPath({ ci_config_ref_uri: 'gl.example/g/sub/p//.gitlab-ci.yml@refs/heads/main' }),
    '.gitlab-ci.yml',
  );
  assert.equal(isReusableWorkflow(GITHUB), false);
  assert.equal(
    isReusableWorkflow({ ...GITHUB, job_workflow_ref: 'o/r/.github/workflows/x.yml@main' }),
    true,
  );
  assert.equal(
    issuerCommand({ ...GITLAB, iss: 'https://gitlab.example.com' }),
    'pier issuer add --kind gitlab --url https://gitlab.example.com',
  );
  assert.equal(issuerCommand({ iss: 'https://x' }), null);
  assert.equal(
    issuerCommand({ iss: 'https://oidc.circleci.com/org/c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90' }),
    'pier issuer add --kind circleci --url https://oidc.circleci.com/org/c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90',
  );
  assert.equal(
    issuerCommand({
      iss: 'https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc',
      workspaceUuid: '{w}',
      repositoryUuid: '{r}',
    }),
    'pier issuer add --kind bitbucket --url https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc',
  );
});

test('shell quoting', () => {
  const cases: [string, string][] = [
    ['octo-org/octo-repo', 'octo-org/octo-repo'],
    ['with space', "'with space'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
  ];
  for (const [value, quoted] of cases) assert.equal(shellQuote(value), quoted);
});
