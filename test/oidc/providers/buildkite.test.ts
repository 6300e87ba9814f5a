// Buildkite's claim rules and registration, against tokens shaped like the documented ones
// (https://buildkite.com/docs/pipelines/security/oidc; the example token of
// https://github.com/rubygems/rubygems.org/issues/5412, with the optional organization_id and
// pipeline_id claims a publishing step requests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildkiteLinks,
  buildkitePipeline,
  buildkiteProvider,
} from '../../../src/oidc/providers/buildkite.js';
import type { BuildkiteConfig } from '../../../src/oidc/providers/types.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const ISSUER = 'https://agent.buildkite.com';
const ORG_ID = '0184990a-4782-42b5-afc1-16715b10b8ff';
const PIPELINE_ID = '01945ecf-80f0-41e8-9b83-a2970a9305a1';

const TOKEN = {
  iss: ISSUER,
  sub: 'organization:example-org:pipeline:example-pipeline:ref:refs/heads/main:commit:b5ffe3aeea51cec6c41aef16e45ee6bce47d8810:step:publish',
  aud: 'pypi.example.com',
  iat: 1736757460,
  nbf: 1736757460,
  exp: 1736757760,
  jti: '0194b014-8517-7cef-b232-76a827315f08',
  organization_slug: 'example-org',
  pipeline_slug: 'example-pipeline',
  build_number: 5,
  build_branch: 'main',
  build_tag: null,
  build_commit: 'b5ffe3aeea51cec6c41aef16e45ee6bce47d8810',
  step_key: 'publish',
  job_id: '01945ecf-80f0-41e8-9b83-a2970a9305a1',
  agent_id: '01945ecf-8bcf-40a6-9d70-a765db9a0928',
  build_source: 'ui',
  runner_environment: 'buildkite-hosted',
  organization_id: ORG_ID,
  pipeline_id: PIPELINE_ID,
};

const PUBLISHER: BuildkiteConfig = {
  organization: 'example-org',
  pipeline: 'example-pipeline',
  organizationId: ORG_ID,
  pipelineId: PIPELINE_ID,
  branch: '',
  stepKey: '',
};

const exact = (
  claim: string,
  field: keyof BuildkiteConfig,
  other: string,
): RuleCase<BuildkiteConfig>[] => [
  { name: 'the registered value', failures: [] },
  {
    name: 'another value',
    claims: { [claim]: other },
    failures: [`Check failed for claim '${claim}': expected '${PUBLISHER[field]}', got '${other}'`],
  },
  { name: 'missing', claims: { [claim]: undefined }, failures: [`Missing claim '${claim}'`] },
  {
    name: 'a number',
    claims: { [claim]: 7 },
    failures: [`Check failed for claim '${claim}': expected a string, got a number`],
  },
];

const optional = (
  claim: string,
  field: 'branch' | 'stepKey',
  value: string,
): RuleCase<BuildkiteConfig>[] => [
  { name: 'a publisher without one: any', claims: { [claim]: 'other' }, failures: [] },
  { name: 'a publisher without one: none', claims: { [claim]: null }, failures: [] },
  { name: 'the registered one', config: { [field]: value }, failures: [] },
  {
    name: 'another one',
    claims: { [claim]: 'feature' },
    config: { [field]: value },
    failures: [`Check failed for claim '${claim}': expected '${value}', got 'feature'`],
  },
  {
    name: 'none, for a publisher with one (null as Buildkite sends it)',
    claims: { [claim]: null },
    config: { [field]: value },
    failures: [`Missing claim '${claim}': expected '${value}'`],
  },
];

const present = (claim: string): RuleCase<BuildkiteConfig>[] => [
  { name: 'present', failures: [] },
  { name: 'missing', claims: { [claim]: undefined }, failures: [`Missing claim '${claim}'`] },
  {
    name: 'a number',
    claims: { [claim]: 1 },
    failures: [`Check failed for claim '${claim}': expected a string, got a number`],
  },
];

ruleTests(
  buildkiteProvider,
  { claims: TOKEN, config: PUBLISHER, issuer: ISSUER },
  {
    organization_slug: [
      ...exact('organization_slug', 'organization', 'other-org'),
      {
        name: 'in another case (slugs are compared exactly)',
        claims: { organization_slug: 'Example-Org' },
        failures: [
          "Check failed for claim 'organization_slug': expected 'example-org', got 'Example-Org'",
        ],
      },
    ],
    pipeline_slug: exact('pipeline_slug', 'pipeline', 'other-pipeline'),
    organization_id: [
      ...exact('organization_id', 'organizationId', '00000000-0000-4000-8000-000000000000'),
      {
        name: 'not requested by the step (a token without the optional claim)',
        claims: { organization_id: undefined, pipeline_id: undefined },
        failures: ["Missing claim 'organization_id'", "Missing claim 'pipeline_id'"],
      },
    ],
    pipeline_id: [
      ...exact('pipeline_id', 'pipelineId', '00000000-0000-4000-8000-000000000001'),
      {
        name: 'a pipeline that took over the slug of a deleted one (a new id)',
        claims: { pipeline_id: '0194b014-0000-7000-8000-000000000000' },
        failures: [
          `Check failed for claim 'pipeline_id': expected '${PIPELINE_ID}', got '0194b014-0000-7000-8000-000000000000'`,
        ],
      },
    ],
    build_commit: present('build_commit'),
    job_id: present('job_id'),
    jti: present('jti'),
    build_branch: optional('build_branch', 'branch', 'main'),
    step_key: optional('step_key', 'stepKey', 'publish'),
  },
);

test('Buildkite: the table classifies every claim of the documented token', () => {
  assertClassified(buildkiteProvider, TOKEN);
  assertClassified(buildkiteProvider, {
    ...TOKEN,
    cluster_id: 'c',
    queue_key: 'q',
    'agent_tag:os': 'linux',
  });
});

test('Buildkite: lookup, identity, overlap, specificity', () => {
  assert.equal(buildkiteProvider.lookupKeyOfConfig(PUBLISHER), 'example-org/example-pipeline');
  assert.deepEqual(buildkiteProvider.lookupKeyOfClaims(TOKEN), {
    ok: true,
    key: 'example-org/example-pipeline',
  });
  assert.equal(
    buildkiteProvider.lookupKeyOfClaims(withClaims(TOKEN, { pipeline_id: undefined })).ok,
    false,
  );
  const onMain = { ...PUBLISHER, branch: 'main' };
  assert.notEqual(buildkiteProvider.identityOf(PUBLISHER), buildkiteProvider.identityOf(onMain));
  assert.ok(buildkiteProvider.specificity(onMain) > buildkiteProvider.specificity(PUBLISHER));
  assert.equal(buildkiteProvider.overlaps(PUBLISHER, onMain), true);
  assert.equal(buildkiteProvider.overlaps(onMain, { ...PUBLISHER, branch: 'release' }), false);
  assert.equal(buildkiteProvider.overlaps(PUBLISHER, { ...PUBLISHER, pipelineId: ORG_ID }), false);
});

test('Buildkite: provenance, links, template', () => {
  assert.deepEqual(buildkiteProvider.provenance(TOKEN), {
    organization_slug: 'example-org',
    pipeline_slug: 'example-pipeline',
    build_number: '5',
    build_branch: 'main',
    build_tag: null,
    build_commit: 'b5ffe3aeea51cec6c41aef16e45ee6bce47d8810',
    step_key: 'publish',
    job_id: '01945ecf-80f0-41e8-9b83-a2970a9305a1',
  });
  const links = buildkiteLinks(TOKEN, ISSUER);
  assert.equal(links.repository, 'example-org/example-pipeline');
  assert.equal(links.runUrl, 'https://buildkite.com/example-org/example-pipeline/builds/5');
  // Another issuer's web host is unknown; a slug that is not one never makes a link.
  assert.equal(buildkiteLinks(TOKEN, 'https://buildkite.example.com').runUrl, null);
  assert.equal(buildkiteLinks({ ...TOKEN, pipeline_slug: '../x' }, ISSUER).runUrl, null);
  const pipeline = buildkitePipeline(
    { ...PUBLISHER, branch: 'main', stepKey: 'publish' },
    {
      uploadUrl: 'https://pypi.example.com/legacy/',
      audience: 'pypi.example.com',
      actionRef: null,
    },
  );
  assert.equal(pipeline.path, '.buildkite/pipeline.yml');
  assert.match(pipeline.text, /BUILDKITE_OIDC_TOKEN_CLAIMS: organization_id,pipeline_id/);
  assert.match(pipeline.text, /key: publish\n {4}branches: main/);
  assert.match(
    pipeline.text,
    /pier publish --repository-url https:\/\/pypi\.example\.com\/legacy\/ dist\//,
  );
});

test('Buildkite registration', async (t) => {
  const valid = buildkiteProvider.example;
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    [
      'nothing',
      {},
      {
        organization: 'Specify the organization slug',
        pipeline: 'Specify the pipeline slug',
        organizationId: "Specify the organization's UUID",
        pipelineId: "Specify the pipeline's UUID",
      },
    ],
    [
      'an upper-case slug',
      { ...valid, organization: 'Acme' },
      { organization: 'Invalid slug: lower-case letters, digits and dashes' },
    ],
    [
      'a slug with a slash',
      { ...valid, pipeline: 'a/b' },
      { pipeline: 'Invalid slug: lower-case letters, digits and dashes' },
    ],
    ['an id that is no UUID', { ...valid, pipelineId: '42' }, { pipelineId: 'Invalid UUID' }],
    [
      'a branch with a space',
      { ...valid, branch: 'a b' },
      { branch: 'Branch names cannot contain whitespace or control characters' },
    ],
    [
      'a step key with a newline',
      { ...valid, stepKey: 'a\nb' },
      { stepKey: 'Step keys cannot contain whitespace or control characters' },
    ],
  ];
  for (const [name, input, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(buildkiteProvider.validateConfig(input), { ok: false, errors }),
    );
  await t.test('accepted: ids lower-cased, fields trimmed', () => {
    assert.deepEqual(
      buildkiteProvider.validateConfig({
        ...valid,
        organizationId: ` ${ORG_ID.toUpperCase()} `,
        branch: '',
      }),
      {
        ok: true,
        config: { ...(valid as unknown as BuildkiteConfig), organizationId: ORG_ID, branch: '' },
      },
    );
  });
});
