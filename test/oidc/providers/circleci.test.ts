// CircleCI's claim rules and registration, against a token shaped like the documented one
// (https://circleci.com/docs/openid-connect-tokens/: a V2 token of a pipeline triggered from a
// repository, with the oidc.circleci.com/… claims of its table) from an organisation's issuer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  circleciIssuerMismatch,
  circleciConfig,
  circleciLinks,
  circleciProvider,
  type CircleCiConfig,
} from '../../../src/oidc/providers/circleci.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const ORG_ID = 'c5a9d3e1-7f46-4b0e-9a55-2f8b1c6d7e90';
const PROJECT_ID = '1f0e2d3c-4b5a-4697-8877-665544332211';
const USER_ID = '7d6c5b4a-3f2e-4d1c-9b0a-123456789abc';
const CONTEXT_A = 'a74579f1-2e7d-451e-b009-5c082ad2729e';
const CONTEXT_B = 'cb32986e-2f6f-4f43-b2bd-d3c2fd98e903';
const ISSUER = `https://oidc.circleci.com/org/${ORG_ID}`;

const TOKEN = {
  iss: ISSUER,
  sub: `org/${ORG_ID}/project/${PROJECT_ID}/user/${USER_ID}/vcs-origin/github.com/acme/release-app/vcs-ref/refs/tags/v1.2.0`,
  aud: 'pypi.example.com',
  iat: 1760000000,
  exp: 1760003600,
  'oidc.circleci.com/context-ids': [CONTEXT_A, CONTEXT_B],
  'oidc.circleci.com/job-id': '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
  'oidc.circleci.com/org-id': ORG_ID,
  'oidc.circleci.com/pipeline-definition-id': '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  'oidc.circleci.com/pipeline-id': '0f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
  'oidc.circleci.com/project-id': PROJECT_ID,
  'oidc.circleci.com/ssh-rerun': false,
  'oidc.circleci.com/vcs-origin': 'github.com/acme/release-app',
  'oidc.circleci.com/vcs-ref': 'refs/tags/v1.2.0',
  'oidc.circleci.com/workflow-id': '3c2b1a09-8f7e-4d6c-9b5a-493827160514',
};

const PUBLISHER: CircleCiConfig = {
  organizationId: ORG_ID,
  projectId: PROJECT_ID,
  vcsOrigin: 'github.com/acme/release-app',
  ref: '',
  contextIds: '',
};

const OTHER_UUID = '00000000-0000-4000-8000-000000000000';

const pinned = (
  claim: string,
  field: 'organizationId' | 'projectId',
): RuleCase<CircleCiConfig>[] => [
  { name: 'the registered UUID', failures: [] },
  {
    name: 'another organisation’s or project’s UUID',
    claims: { [claim]: OTHER_UUID },
    failures: [
      `Check failed for claim '${claim}': expected '${PUBLISHER[field]}', got '${OTHER_UUID}'`,
    ],
  },
  {
    name: 'the UUID in upper case (ids are compared exactly)',
    claims: { [claim]: PUBLISHER[field].toUpperCase() },
    failures: [
      `Check failed for claim '${claim}': expected '${PUBLISHER[field]}', got '${PUBLISHER[field].toUpperCase()}'`,
    ],
  },
  { name: 'missing', claims: { [claim]: undefined }, failures: [`Missing claim '${claim}'`] },
  {
    name: 'a list',
    claims: { [claim]: [PUBLISHER[field]] },
    failures: [`Check failed for claim '${claim}': expected a string, got an array`],
  },
];

const SSH = 'oidc.circleci.com/ssh-rerun';
const ORIGIN = 'oidc.circleci.com/vcs-origin';
const REF = 'oidc.circleci.com/vcs-ref';
const CONTEXTS = 'oidc.circleci.com/context-ids';
const JOB = 'oidc.circleci.com/job-id';

ruleTests(
  circleciProvider,
  { claims: TOKEN, config: PUBLISHER, issuer: ISSUER },
  {
    'oidc.circleci.com/org-id': pinned('oidc.circleci.com/org-id', 'organizationId'),
    'oidc.circleci.com/project-id': [
      ...pinned('oidc.circleci.com/project-id', 'projectId'),
      {
        name: 'another project of the same organisation and repository',
        claims: { 'oidc.circleci.com/project-id': OTHER_UUID },
        failures: [
          `Check failed for claim 'oidc.circleci.com/project-id': expected '${PROJECT_ID}', got '${OTHER_UUID}'`,
        ],
      },
    ],
    [SSH]: [
      { name: 'a job as the pipeline ran it', failures: [] },
      {
        name: 'a re-run with SSH',
        claims: { [SSH]: true },
        failures: [
          "Check failed for claim 'oidc.circleci.com/ssh-rerun': the job is a re-run with SSH, in which a person has a shell, so it may not publish",
        ],
      },
      {
        name: 'missing (a token that cannot say it is no SSH re-run)',
        claims: { [SSH]: undefined },
        failures: ["Missing claim 'oidc.circleci.com/ssh-rerun'"],
      },
      {
        name: "the string 'false'",
        claims: { [SSH]: 'false' },
        failures: [
          "Check failed for claim 'oidc.circleci.com/ssh-rerun': expected a boolean, got a string",
        ],
      },
    ],
    [JOB]: [
      { name: 'present', failures: [] },
      { name: 'missing', claims: { [JOB]: undefined }, failures: [`Missing claim '${JOB}'`] },
      {
        name: 'a number',
        claims: { [JOB]: 7 },
        failures: [`Check failed for claim '${JOB}': expected a string, got a number`],
      },
    ],
    [ORIGIN]: [
      { name: 'the registered repository', failures: [] },
      {
        name: 'the registered repository, registered in another case',
        config: { vcsOrigin: 'GitHub.com/Acme/Release-App' },
        failures: [],
      },
      {
        name: 'a fork’s pull request (same project id)',
        claims: { [ORIGIN]: 'github.com/mallory/release-app' },
        failures: [
          "Check failed for claim 'oidc.circleci.com/vcs-origin': expected 'github.com/acme/release-app', got 'github.com/mallory/release-app'",
        ],
      },
      {
        name: 'none (a custom webhook pipeline)',
        claims: { [ORIGIN]: undefined },
        failures: ["Missing claim 'oidc.circleci.com/vcs-origin'"],
      },
      {
        name: 'a look-alike host',
        claims: { [ORIGIN]: 'github.com.evil.example/acme/release-app' },
        failures: [
          "Check failed for claim 'oidc.circleci.com/vcs-origin': expected 'github.com/acme/release-app', got 'github.com.evil.example/acme/release-app'",
        ],
      },
      {
        name: 'a newline after the repository',
        claims: { [ORIGIN]: 'github.com/acme/release-app\n' },
        failures: [
          "Check failed for claim 'oidc.circleci.com/vcs-origin': it contains a control character",
        ],
      },
    ],
    [REF]: [
      {
        name: 'a publisher without a pattern: any',
        claims: { [REF]: 'refs/heads/wip' },
        failures: [],
      },
      { name: 'a publisher without a pattern: none', claims: { [REF]: undefined }, failures: [] },
      { name: 'a matching tag', config: { ref: 'refs/tags/v*' }, failures: [] },
      {
        name: 'a branch, for release tags only',
        claims: { [REF]: 'refs/heads/main' },
        config: { ref: 'refs/tags/v*' },
        failures: [
          "Check failed for claim 'oidc.circleci.com/vcs-ref': expected a ref matching 'refs/tags/v*', got 'refs/heads/main'",
        ],
      },
      {
        name: '* stops at a slash',
        claims: { [REF]: 'refs/tags/v1/evil' },
        config: { ref: 'refs/tags/v*' },
        failures: [
          "Check failed for claim 'oidc.circleci.com/vcs-ref': expected a ref matching 'refs/tags/v*', got 'refs/tags/v1/evil'",
        ],
      },
      {
        name: 'none, for a publisher with a pattern',
        claims: { [REF]: undefined },
        config: { ref: 'refs/tags/v*' },
        failures: [
          "Missing claim 'oidc.circleci.com/vcs-ref': expected a ref matching 'refs/tags/v*'",
        ],
      },
    ],
    [CONTEXTS]: [
      { name: 'a publisher without contexts: any', failures: [] },
      {
        name: 'a publisher without contexts: none',
        claims: { [CONTEXTS]: undefined },
        failures: [],
      },
      { name: 'one of the job’s contexts', config: { contextIds: CONTEXT_B }, failures: [] },
      {
        name: 'both of the job’s contexts',
        config: { contextIds: `${CONTEXT_A},${CONTEXT_B}` },
        failures: [],
      },
      {
        name: 'a context the job does not use',
        claims: { [CONTEXTS]: [CONTEXT_A] },
        config: { contextIds: `${CONTEXT_A},${CONTEXT_B}` },
        failures: [
          `Check failed for claim 'oidc.circleci.com/context-ids': the job does not use the contexts ['${CONTEXT_B}'], got ['${CONTEXT_A}']`,
        ],
      },
      {
        name: 'a job with no context',
        claims: { [CONTEXTS]: [] },
        config: { contextIds: CONTEXT_A },
        failures: [
          `Check failed for claim 'oidc.circleci.com/context-ids': the job does not use the contexts ['${CONTEXT_A}'], got []`,
        ],
      },
      {
        name: 'no claim, for a publisher with contexts',
        claims: { [CONTEXTS]: undefined },
        config: { contextIds: CONTEXT_A },
        failures: [
          `Missing claim 'oidc.circleci.com/context-ids': expected the contexts ['${CONTEXT_A}']`,
        ],
      },
      {
        name: 'one string instead of a list',
        claims: { [CONTEXTS]: CONTEXT_A },
        config: { contextIds: CONTEXT_A },
        failures: [
          "Check failed for claim 'oidc.circleci.com/context-ids': expected a list of strings, got a string",
        ],
      },
      {
        name: 'a list holding a number',
        claims: { [CONTEXTS]: [CONTEXT_A, 7] },
        failures: [
          "Check failed for claim 'oidc.circleci.com/context-ids': expected a list of strings, got an array",
        ],
      },
      {
        name: 'a context with a control character',
        claims: { [CONTEXTS]: [`${CONTEXT_A}\u0000`] },
        config: { contextIds: CONTEXT_A },
        failures: [
          "Check failed for claim 'oidc.circleci.com/context-ids': it contains a control character",
        ],
      },
    ],
  },
);

test('CircleCI: the table classifies every claim of the documented token', () => {
  assertClassified(circleciProvider, TOKEN);
});

test('CircleCI: lookup, identity, overlap, specificity', () => {
  assert.equal(circleciProvider.lookupKeyOfConfig(PUBLISHER), `${ORG_ID}/${PROJECT_ID}`);
  assert.deepEqual(circleciProvider.lookupKeyOfClaims(TOKEN), {
    ok: true,
    key: `${ORG_ID}/${PROJECT_ID}`,
  });
  // A token without the pins, or one that cannot say it is no SSH re-run, is refused at lookup.
  for (const claim of ['oidc.circleci.com/project-id', SSH, ORIGIN])
    assert.equal(
      circleciProvider.lookupKeyOfClaims(withClaims(TOKEN, { [claim]: undefined })).ok,
      false,
    );
  const tags = { ...PUBLISHER, ref: 'refs/tags/v*' };
  const origin = PUBLISHER;
  assert.notEqual(circleciProvider.identityOf(PUBLISHER), circleciProvider.identityOf(tags));
  assert.equal(
    circleciProvider.identityOf(origin),
    circleciProvider.identityOf({ ...origin, vcsOrigin: 'GitHub.com/acme/release-app' }),
  );
  assert.ok(circleciProvider.specificity(tags) > circleciProvider.specificity(PUBLISHER));
  assert.ok(
    circleciProvider.specificity({ ...tags, contextIds: CONTEXT_A }) >
      circleciProvider.specificity(tags),
  );
  assert.equal(circleciProvider.overlaps(PUBLISHER, tags), true);
  assert.equal(circleciProvider.overlaps(tags, { ...PUBLISHER, ref: 'refs/heads/main' }), false);
  assert.equal(
    circleciProvider.overlaps(PUBLISHER, { ...PUBLISHER, projectId: OTHER_UUID }),
    false,
  );
  assert.equal(
    circleciProvider.overlaps(origin, { ...PUBLISHER, vcsOrigin: 'github.com/acme/other' }),
    false,
  );
  // Contexts only narrow: publishers differing in them alone could match one job.
  assert.equal(circleciProvider.overlaps(PUBLISHER, { ...PUBLISHER, contextIds: CONTEXT_A }), true);
});

test('CircleCI: provenance, links, template', () => {
  assert.deepEqual(circleciProvider.provenance(TOKEN), {
    'oidc.circleci.com/org-id': ORG_ID,
    'oidc.circleci.com/project-id': PROJECT_ID,
    'oidc.circleci.com/pipeline-definition-id': '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
    'oidc.circleci.com/pipeline-id': '0f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
    'oidc.circleci.com/workflow-id': '3c2b1a09-8f7e-4d6c-9b5a-493827160514',
    'oidc.circleci.com/job-id': '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
    'oidc.circleci.com/vcs-origin': 'github.com/acme/release-app',
    'oidc.circleci.com/vcs-ref': 'refs/tags/v1.2.0',
  });
  const links = circleciLinks(TOKEN);
  assert.equal(links.repository, 'github.com/acme/release-app');
  assert.equal(links.ref, 'refs/tags/v1.2.0');
  assert.equal(links.runLabel, 'workflow 3c2b1a09-8f7e-4d6c-9b5a-493827160514');
  assert.equal(links.runUrl, null);
  assert.equal(circleciProvider.url(PUBLISHER, ISSUER), 'https://github.com/acme/release-app');
  const config = circleciConfig(
    { ...PUBLISHER, ref: 'refs/tags/v*', contextIds: CONTEXT_A },
    {
      uploadUrl: 'https://pypi.example.com/legacy/',
      audience: 'pypi.example.com',
      actionRef: null,
    },
  );
  assert.equal(config.path, '.circleci/config.yml');
  assert.match(
    config.text,
    /branches:\n {14}ignore: \/\.\*\/\n {12}tags:\n {14}only: \/\^v\[\^\/\]\*\$\//,
  );
  assert.match(config.text, new RegExp(`- CONTEXT_NAME # the context ${CONTEXT_A}`));
  assert.match(
    config.text,
    /pier publish --repository-url https:\/\/pypi\.example\.com\/legacy\/ dist\//,
  );
});

test('CircleCI registration', async (t) => {
  const valid = circleciProvider.example;
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    [
      'nothing (it would match every project of the organisation)',
      {},
      {
        organizationId: "Specify the organization's UUID",
        projectId: "Specify the project's UUID",
        vcsOrigin:
          "Specify the repository pipelines come from (github.com/ORG/REPO): a fork's pull request runs in the project too",
      },
    ],
    ['no project', { ...valid, projectId: '' }, { projectId: "Specify the project's UUID" }],
    [
      'a project that is no UUID',
      { ...valid, projectId: 'release-app' },
      { projectId: "Invalid UUID: 'release-app'" },
    ],
    [
      'a repository with its scheme',
      { ...valid, vcsOrigin: 'https://github.com/acme/app' },
      {
        vcsOrigin: 'Give the repository without its scheme, as CircleCI does: github.com/ORG/REPO',
      },
    ],
    [
      'a repository with ..',
      { ...valid, vcsOrigin: 'github.com/acme/..' },
      { vcsOrigin: 'Invalid repository: HOST/ORG/REPO, such as github.com/acme/app' },
    ],
    [
      'a host alone',
      { ...valid, vcsOrigin: 'github.com' },
      { vcsOrigin: 'Invalid repository: HOST/ORG/REPO, such as github.com/acme/app' },
    ],
    [
      'a ref pattern that is no ref',
      { ...valid, ref: 'v*' },
      { ref: 'Ref pattern must start with refs/ (for example refs/tags/v*)' },
    ],
    [
      'a context that is a name, not an id',
      { ...valid, contextIds: `${CONTEXT_A},release` },
      { contextIds: "Context ids are UUIDs separated by commas, got 'release'" },
    ],
  ];
  for (const [name, input, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(circleciProvider.validateConfig(input), { ok: false, errors }),
    );
  await t.test('accepted: ids lower-cased, contexts sorted and deduplicated', () => {
    assert.deepEqual(
      circleciProvider.validateConfig({
        organizationId: ` ${ORG_ID.toUpperCase()} `,
        projectId: PROJECT_ID,
        vcsOrigin: ' github.com/acme/release-app ',
        contextIds: `${CONTEXT_B}, ${CONTEXT_A.toUpperCase()} ${CONTEXT_B}`,
      }),
      {
        ok: true,
        config: {
          organizationId: ORG_ID,
          projectId: PROJECT_ID,
          vcsOrigin: 'github.com/acme/release-app',
          ref: '',
          contextIds: `${CONTEXT_A},${CONTEXT_B}`,
        },
      },
    );
  });
  await t.test('the CLI: --context-id repeated', () => {
    const r = circleciProvider.cli.fields({
      organizationId: ORG_ID,
      projectId: PROJECT_ID,
      contextId: [CONTEXT_A, CONTEXT_B],
    });
    assert.ok(r.ok);
    assert.equal(r.fields.contextIds, `${CONTEXT_A},${CONTEXT_B}`);
  });
});

test('CircleCI: a publisher of another organisation than its issuer’s is refused at registration', () => {
  assert.equal(circleciIssuerMismatch(PUBLISHER, ISSUER), null);
  assert.equal(circleciIssuerMismatch(PUBLISHER, `${ISSUER}/`), null);
  // CircleCI Server names organisations the same way on its own host.
  assert.equal(
    circleciIssuerMismatch(PUBLISHER, `https://oidc.circleci.example.com/org/${ORG_ID}`),
    null,
  );
  assert.equal(
    circleciIssuerMismatch(PUBLISHER, `https://oidc.circleci.com/org/${OTHER_UUID}`),
    `The organization id ${ORG_ID} is not the issuer's (https://oidc.circleci.com/org/${OTHER_UUID}): register the organization's own issuer`,
  );
  // The root issuer (--root-issuer) names no organisation: the org-id claim pins it alone.
  assert.equal(circleciIssuerMismatch(PUBLISHER, 'https://oidc.circleci.com'), null);
});
