// A ready-to-copy CI configuration for each trusted publisher, pointing at this index's upload
// URL (`<public URL>/legacy/`): for GitHub the standard two-job workflow (build and upload the
// artifact; then publish with `permissions: id-token: write` in the publisher's environment)
// with pier's publish action (docs/publishing.md); for GitLab the two-job pipeline with
// `id_tokens:` for this index's audience; for Google a Cloud Build configuration running as the
// service account. ActiveState publishes through its own builder: no file to write.
import { gitlabTokenVariable } from '../../client/ambient.js';
import type { PublisherView } from '../../oidc/publishers.js';

/**
 * pier's GitHub Action (action.yml at the root of pier's repository), as docs/publishing.md
 * names it. Its inputs are those of pypa/gh-action-pypi-publish, which works too.
 */
export const PIER_ACTION = 'OWNER/pier@v1';

export interface Workflow {
  /** Where the file goes in the repository, or null when there is none to write. */
  path: string | null;
  /** The file's text (or, without a path, instructions). */
  text: string;
  language: 'yaml' | 'text';
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

function githubWorkflow(p: PublisherView, uploadUrl: string): Workflow {
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
    `      - uses: ${PIER_ACTION} # or pypa/gh-action-pypi-publish@release/v1`,
    '        with:',
    `          repository-url: ${uploadUrl}`,
  ];
  return {
    path: `.github/workflows/${c.workflow}`,
    text: lines.join('\n') + '\n',
    language: 'yaml',
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
  return { path: 'cloudbuild.yaml', text: lines.join('\n') + '\n', language: 'yaml' };
}

function activestateNote(p: PublisherView, uploadUrl: string): Workflow {
  const c = p.config;
  return {
    path: null,
    language: 'text',
    text:
      `ActiveState's platform publishes with its pypi-publisher builder: in the project ` +
      `${c.organization}/${c.project}, publish as ${c.actor} to the repository ${uploadUrl}\n`,
  };
}

export function workflowFor(p: PublisherView, publicUrl: string, audience: string): Workflow {
  const uploadUrl = `${publicUrl.replace(/\/+$/, '')}/legacy/`;
  switch (p.kind) {
    case 'github':
      return githubWorkflow(p, uploadUrl);
    case 'gitlab':
      return gitlabPipeline(p, uploadUrl, audience);
    case 'google':
      return googleBuild(p, uploadUrl);
    case 'activestate':
      return activestateNote(p, uploadUrl);
  }
}
