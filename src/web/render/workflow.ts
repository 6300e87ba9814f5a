// A ready-to-copy CI configuration for each trusted publisher, pointing at this index's upload
// URL (`<public URL>/legacy/`): for GitHub the standard two-job workflow (build and upload the
// artifact; then publish with `permissions: id-token: write` in the publisher's environment)
// with pier's publish action (docs/publishing.md); for GitLab the two-job pipeline with
// `id_tokens:` for this index's audience; for Google a Cloud Build configuration running as the
// service account. ActiveState publishes through its own builder: no file to write.
import { gitlabTokenVariable } from '../../client/ambient.js';
import { isLoopbackLiteral } from '../../oidc/issuers.js';
import type { PublisherView } from '../../oidc/publishers.js';

/**
 * The publish action named when no other is configured (PIER_ACTION_REF names pier's own,
 * action.yml at the root of pier's repository, as the organisation hosts it): its inputs are
 * those of pier's action, and it uploads to any index given `repository-url:`.
 */
export const PYPA_ACTION = 'pypa/gh-action-pypi-publish@release/v1';

/** What the rendered configuration depends on besides the publisher. */
export interface WorkflowSettings {
  /** This index's public URL. */
  publicUrl: string;
  /** The OIDC audience CI tokens are minted for. */
  audience: string;
  /** The GitHub Action reference (`owner/repo@ref`) to use, or null for the pypa action. */
  actionRef: string | null;
}

/**
 * Whether a CI runner could reach a URL: a loopback address (127.0.0.0/8, ::1, localhost) names
 * the runner itself, never this index.
 */
export function runnerCanReach(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return !(isLoopbackLiteral(host) || host === 'localhost' || host.endsWith('.localhost'));
}

/** The variable a runner's configuration reads the upload URL from, when pier's is loopback. */
export const UPLOAD_URL_VARIABLE = 'PIER_REPOSITORY_URL';

export interface Workflow {
  /** Where the file goes in the repository, or null when there is none to write. */
  path: string | null;
  /** The file's text (or, without a path, instructions). */
  text: string;
  language: 'yaml' | 'text';
  /** Set when this index's public URL is one a runner cannot reach: what to do about it. */
  unreachable: string | null;
}

const YAML_PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./ -]*$/;
const YAML_KEYWORDS = /^(true|false|yes|no|on|off|null|~|[0-9.+-]+)$/i;

/** A YAML scalar: plain when unambiguous, else double-quoted (JSON strings are valid YAML). */
export function yamlScalar(value: string): string {
  if (YAML_PLAIN.test(value) && !YAML_KEYWORDS.test(value) && !/ $/.test(value)) return value;
  return JSON.stringify(value);
}

/** The `on:` trigger that matches a ref pattern (`refs/tags/v*` → tags v*), if it has one. */
function githubTrigger(ref: string): string[] {
  const tag = /^refs\/tags\/(.+)$/.exec(ref);
  if (tag) return ['on:', '  push:', `    tags: [${JSON.stringify(tag[1])}]`];
  const branch = /^refs\/heads\/(.+)$/.exec(ref);
  if (branch) return ['on:', '  push:', `    branches: [${JSON.stringify(branch[1])}]`];
  return ['on:', '  push:', "    tags: ['v*']"];
}

function githubWorkflow(p: PublisherView, uploadUrl: string, actionRef: string | null): Workflow {
  const c = p.config;
  const environment = c.environment ?? '';
  const lines = [
    `# .github/workflows/${c.workflow} in ${c.owner}/${c.repository}`,
    'name: Release',
    ...githubTrigger(c.ref ?? ''),
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - run: pipx run build',
    '      - uses: actions/upload-artifact@v4',
    '        with: { name: dist, path: dist/ }',
    '  publish:',
    '    needs: build',
    '    runs-on: ubuntu-latest',
    ...(environment !== ''
      ? [`    environment: ${yamlScalar(environment)} # add required reviewers to it`]
      : []),
    '    permissions:',
    '      id-token: write # the OIDC token for trusted publishing; no secret is stored',
    '    steps:',
    '      - uses: actions/download-artifact@v4',
    '        with: { name: dist, path: dist/ }',
    `      - uses: ${actionRef ?? PYPA_ACTION}`,
    '        with:',
    `          repository-url: ${uploadUrl}`,
  ];
  return {
    path: `.github/workflows/${c.workflow}`,
    text: lines.join('\n') + '\n',
    language: 'yaml',
    unreachable: null,
  };
}

function gitlabPipeline(p: PublisherView, uploadUrl: string, audience: string): Workflow {
  const c = p.config;
  const environment = c.environment ?? '';
  const tag = /^refs\/tags\//.test(c.ref ?? '');
  const lines = [
    `# ${c.workflowPath} in ${c.namespace}/${c.project}`,
    'stages: [build, publish]',
    '',
    'build:',
    '  stage: build',
    '  image: python:3.12',
    '  script:',
    '    - python -m pip install build',
    '    - python -m build',
    '  artifacts:',
    '    paths: [dist/]',
    '',
    'publish:',
    '  stage: publish',
    '  image: node:20',
    '  needs: [build]',
    ...(tag ? ['  rules:', '    - if: $CI_COMMIT_TAG'] : []),
    ...(environment !== ''
      ? [`  environment: ${yamlScalar(environment)} # protect it under Settings → CI/CD`]
      : []),
    '  id_tokens:',
    `    ${gitlabTokenVariable(audience)}:`,
    `      aud: ${yamlScalar(audience)}`,
    '  script:',
    '    - npm install --global "$PIER_PACKAGE" # pier, as your organisation distributes it',
    `    - pier publish --repository-url ${uploadUrl} dist/`,
  ];
  return {
    path: c.workflowPath ?? '.gitlab-ci.yml',
    text: lines.join('\n') + '\n',
    language: 'yaml',
    unreachable: null,
  };
}

function googleBuild(p: PublisherView, uploadUrl: string): Workflow {
  const c = p.config;
  const lines = [
    `# cloudbuild.yaml, run as ${c.email}`,
    'steps:',
    '  - name: python:3.12',
    '    entrypoint: bash',
    "    args: ['-c', 'python -m pip install build && python -m build']",
    '  - name: node:20',
    '    entrypoint: bash',
    `    args: ['-c', 'npm install --global "$$PIER_PACKAGE" && pier publish --repository-url ${uploadUrl} dist/']`,
    `serviceAccount: ${yamlScalar(`projects/$PROJECT_ID/serviceAccounts/${c.email}`)}`,
    'options:',
    '  logging: CLOUD_LOGGING_ONLY',
  ];
  return {
    path: 'cloudbuild.yaml',
    text: lines.join('\n') + '\n',
    language: 'yaml',
    unreachable: null,
  };
}

function activestateNote(p: PublisherView, uploadUrl: string): Workflow {
  const c = p.config;
  return {
    path: null,
    language: 'text',
    unreachable: null,
    text:
      `ActiveState's platform publishes with its pypi-publisher builder: in the project ` +
      `${c.organization}/${c.project}, publish as ${c.actor} to the repository ${uploadUrl}\n`,
  };
}

/**
 * The upload URL as each platform's configuration reads it: this index's, or, when that is a
 * loopback address no runner can reach, the platform's variable for the address it does reach.
 */
function uploadUrls(publicUrl: string): {
  github: string;
  gitlab: string;
  google: string;
  plain: string;
  unreachable: string | null;
} {
  const url = `${publicUrl.replace(/\/+$/, '')}/legacy/`;
  if (runnerCanReach(url))
    return { github: url, gitlab: url, google: url, plain: url, unreachable: null };
  return {
    github: `\${{ vars.${UPLOAD_URL_VARIABLE} }}`,
    gitlab: `"$${UPLOAD_URL_VARIABLE}"`,
    google: `$_${UPLOAD_URL_VARIABLE}`,
    plain: `this index's upload URL (as the runner reaches it)`,
    unreachable:
      `This index's public URL (${publicUrl}) is a loopback address: a CI runner cannot reach it. ` +
      `The index must be reachable by the runner: set PIER_PUBLIC_URL to the address runners use, ` +
      `or define the CI variable ${UPLOAD_URL_VARIABLE} as <that address>/legacy/.`,
  };
}

export function workflowFor(p: PublisherView, settings: WorkflowSettings): Workflow {
  const urls = uploadUrls(settings.publicUrl);
  const wf = ((): Workflow => {
    switch (p.kind) {
      case 'github':
        return githubWorkflow(p, urls.github, settings.actionRef);
      case 'gitlab':
        return gitlabPipeline(p, urls.gitlab, settings.audience);
      case 'google':
        return googleBuild(p, urls.google);
      case 'activestate':
        return activestateNote(p, urls.plain);
    }
  })();
  return { ...wf, unreachable: urls.unreachable };
}
