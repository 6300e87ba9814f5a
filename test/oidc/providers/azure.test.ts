// Azure Pipelines' claim rules and registration, against tokens shaped like the ones Teleport's
// RFD 211 records from real pipelines (a job's own token, `p://…` with org_id, prj_id, def_id and
// the rpo_* claims; a Generic service connection's, `sc://…` with nothing but jti besides the
// registered claims), both from the organization's Azure DevOps issuer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AZURE_DEVOPS_AUDIENCE,
  azureIssuerMismatch,
  azureIssuerProblem,
  azureLinks,
  azurePipeline,
  azureProvider,
  azureSubject,
  type AzureConfig,
} from '../../../src/oidc/providers/azure.js';
import { audienceMatches } from '../../../src/oidc/verify.js';
import { assertClassified, ruleTests, withClaims, type RuleCase } from './support.js';

const ORG_ID = '0ca3ddd9-f0b0-4635-a98c-5866526961b6';
const PROJECT_ID = '271ef6f7-5998-4b0f-86fb-4b54d9129990';
const ISSUER = `https://vstoken.dev.azure.com/${ORG_ID}`;

const PIPELINE_TOKEN = {
  jti: '90b75b0a-61b6-4b71-ba6f-11107d95f4c5',
  sub: 'p://contoso/libraries/release',
  aud: 'api://AzureADTokenExchange',
  org_id: ORG_ID,
  prj_id: PROJECT_ID,
  def_id: '12',
  rpo_id: 'contoso/acme-lib',
  rpo_uri: 'https://github.com/contoso/acme-lib.git',
  rpo_ver: 'c291ea713801eb300054d353d279e7b02331f671',
  rpo_ref: 'refs/tags/v1.0',
  run_id: '5',
  iss: ISSUER,
  nbf: 1745839609,
  exp: 1745840508,
  iat: 1745840209,
};

const CONNECTION_TOKEN = {
  jti: '53042db8-a477-44c2-aca4-720bab67ad33',
  sub: 'sc://contoso/libraries/pier-publish',
  aud: 'api://AzureADTokenExchange',
  iss: ISSUER,
  nbf: 1745851036,
  exp: 1745851936,
  iat: 1745851636,
};

const PIPELINE: AzureConfig = {
  organization: 'contoso',
  organizationId: ORG_ID,
  project: 'libraries',
  pipeline: 'release',
  projectId: PROJECT_ID,
  pipelineId: '12',
  ref: '',
};

const CONNECTION: Partial<AzureConfig> = {
  pipeline: undefined,
  projectId: undefined,
  pipelineId: undefined,
  ref: undefined,
  serviceConnection: 'pier-publish',
};

// The cases run against the pipeline's token unless they name the connection's.
const asConnection = { config: CONNECTION, claims: connectionChanges() };

/** The changes that turn the pipeline's token into the connection's. */
function connectionChanges(): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const k of Object.keys(PIPELINE_TOKEN)) if (!(k in CONNECTION_TOKEN)) changes[k] = undefined;
  return { ...changes, ...CONNECTION_TOKEN };
}

const pinned = (claim: string, want: string, other: string): RuleCase<AzureConfig>[] => [
  { name: 'the pinned id', failures: [] },
  {
    name: 'another id (a pipeline re-created under the name)',
    claims: { [claim]: other },
    failures: [`Check failed for claim '${claim}': expected '${want}', got '${other}'`],
  },
  {
    name: 'missing from a pipeline’s token',
    claims: { [claim]: undefined },
    failures: [`Missing claim '${claim}': expected '${want}'`],
  },
  {
    name: 'a number',
    claims: { [claim]: 12 },
    failures: [`Check failed for claim '${claim}': expected a string, got a number`],
  },
  { name: 'a service connection publisher: not compared', ...asConnection, failures: [] },
];

ruleTests(
  azureProvider,
  { claims: PIPELINE_TOKEN, config: PIPELINE, issuer: ISSUER },
  {
    sub: [
      { name: 'the registered pipeline', failures: [] },
      { name: 'the registered service connection', ...asConnection, failures: [] },
      {
        name: 'another pipeline of the project',
        claims: { sub: 'p://contoso/libraries/nightly' },
        failures: [
          "Check failed for claim 'sub': expected 'p://contoso/libraries/release', got 'p://contoso/libraries/nightly'",
        ],
      },
      {
        name: 'the pipeline publisher given a service connection’s token of the same name',
        claims: { sub: 'sc://contoso/libraries/release' },
        failures: [
          "Check failed for claim 'sub': expected 'p://contoso/libraries/release', got 'sc://contoso/libraries/release'",
        ],
      },
      {
        name: 'another service connection',
        config: CONNECTION,
        claims: { ...connectionChanges(), sub: 'sc://contoso/libraries/deploy' },
        failures: [
          "Check failed for claim 'sub': expected 'sc://contoso/libraries/pier-publish', got 'sc://contoso/libraries/deploy'",
        ],
      },
      {
        name: 'in another case (compared exactly)',
        claims: { sub: 'p://Contoso/libraries/release' },
        failures: [
          "Check failed for claim 'sub': expected 'p://contoso/libraries/release', got 'p://Contoso/libraries/release'",
        ],
      },
      {
        name: 'an Entra-issued token’s subject',
        config: CONNECTION,
        claims: {
          ...connectionChanges(),
          sub: `/eid1/c/pub/t/MiSI_7AJe0O9IsoTwAN97Q/a/rISbSSETf0KqFyZ8ppdXmA/sc/${ORG_ID}/64171687-7a59-4fce-b2c8-823278dcf176`,
        },
        failures: [
          `Check failed for claim 'sub': expected 'sc://contoso/libraries/pier-publish', got '/eid1/c/pub/t/MiSI_7AJe0O9IsoTwAN97Q/a/rISbSSETf0KqFyZ8ppdXmA/sc/${ORG_ID}/64171687-7a59-4fce-b2c8-823278dcf176'`,
        ],
      },
      {
        name: 'a publisher of another organization’s id under this issuer',
        config: { organizationId: '00000000-0000-4000-8000-000000000000' },
        claims: { org_id: '00000000-0000-4000-8000-000000000000' },
        failures: [
          `Check failed for claim 'sub': the publisher's organization id '00000000-0000-4000-8000-000000000000' is not its issuer's ('${ORG_ID}')`,
        ],
      },
      { name: 'missing', claims: { sub: undefined }, failures: ["Missing claim 'sub'"] },
    ],
    org_id: [
      { name: 'the pinned id', failures: [] },
      { name: 'in capitals', claims: { org_id: ORG_ID.toUpperCase() }, failures: [] },
      {
        name: 'another organization',
        claims: { org_id: '00000000-0000-4000-8000-000000000000' },
        failures: [
          `Check failed for claim 'org_id': expected '${ORG_ID}', got '00000000-0000-4000-8000-000000000000'`,
        ],
      },
      {
        name: 'missing from a pipeline’s token',
        claims: { org_id: undefined },
        failures: [`Missing claim 'org_id': expected '${ORG_ID}'`],
      },
      { name: 'absent from a service connection’s token', ...asConnection, failures: [] },
      {
        name: 'another one in a service connection’s token',
        config: CONNECTION,
        claims: { ...connectionChanges(), org_id: '00000000-0000-4000-8000-000000000000' },
        failures: [
          `Check failed for claim 'org_id': expected '${ORG_ID}', got '00000000-0000-4000-8000-000000000000'`,
        ],
      },
    ],
    prj_id: pinned('prj_id', PROJECT_ID, '00000000-0000-4000-8000-000000000001'),
    def_id: pinned('def_id', '12', '13'),
    rpo_ref: [
      {
        name: 'a publisher without a pattern: any',
        claims: { rpo_ref: 'refs/heads/x' },
        failures: [],
      },
      { name: 'a matching tag', config: { ref: 'refs/tags/v*' }, failures: [] },
      {
        name: 'a branch, for tags only',
        config: { ref: 'refs/tags/v*' },
        claims: { rpo_ref: 'refs/heads/main' },
        failures: [
          "Check failed for claim 'rpo_ref': expected a ref matching 'refs/tags/v*', got 'refs/heads/main'",
        ],
      },
      {
        name: 'missing, for a pattern',
        config: { ref: 'refs/tags/v*' },
        claims: { rpo_ref: undefined },
        failures: ["Missing claim 'rpo_ref': expected a ref matching 'refs/tags/v*'"],
      },
    ],
    jti: [
      { name: 'present', failures: [] },
      { name: 'missing', claims: { jti: undefined }, failures: ["Missing claim 'jti'"] },
    ],
  },
);

test('Azure Pipelines: the table classifies every claim of both recorded tokens', () => {
  assertClassified(azureProvider, PIPELINE_TOKEN);
  assertClassified(azureProvider, CONNECTION_TOKEN);
});

test('Azure Pipelines: the fixed audience is expected instead of the index’s', () => {
  assert.equal(azureProvider.fixedAudience, AZURE_DEVOPS_AUDIENCE);
  assert.equal(audienceMatches(PIPELINE_TOKEN.aud, AZURE_DEVOPS_AUDIENCE), true);
  assert.equal(audienceMatches([AZURE_DEVOPS_AUDIENCE], AZURE_DEVOPS_AUDIENCE), false);
});

test('Azure Pipelines: lookup, identity, overlap, specificity', () => {
  const connection = { ...PIPELINE, ...CONNECTION } as AzureConfig;
  assert.equal(azureProvider.lookupKeyOfConfig(PIPELINE), 'p://contoso/libraries/release');
  assert.equal(azureSubject(connection), 'sc://contoso/libraries/pier-publish');
  assert.deepEqual(azureProvider.lookupKeyOfClaims(CONNECTION_TOKEN), {
    ok: true,
    key: 'sc://contoso/libraries/pier-publish',
  });
  assert.equal(
    azureProvider.lookupKeyOfClaims(withClaims(CONNECTION_TOKEN, { jti: undefined })).ok,
    false,
  );
  const tags = { ...PIPELINE, ref: 'refs/tags/v*' };
  assert.notEqual(azureProvider.identityOf(PIPELINE), azureProvider.identityOf(tags));
  assert.notEqual(azureProvider.identityOf(PIPELINE), azureProvider.identityOf(connection));
  assert.ok(azureProvider.specificity(tags) > azureProvider.specificity(PIPELINE));
  assert.equal(azureProvider.overlaps(PIPELINE, tags), true);
  assert.equal(azureProvider.overlaps(tags, { ...PIPELINE, ref: 'refs/heads/*' }), false);
  assert.equal(azureProvider.overlaps(PIPELINE, { ...PIPELINE, pipelineId: '13' }), false);
  assert.equal(azureProvider.overlaps(PIPELINE, connection), false);
});

test('Azure Pipelines: provenance, links, template', () => {
  assert.deepEqual(azureProvider.provenance(PIPELINE_TOKEN), {
    sub: 'p://contoso/libraries/release',
    org_id: ORG_ID,
    prj_id: PROJECT_ID,
    def_id: '12',
    rpo_uri: 'https://github.com/contoso/acme-lib.git',
    rpo_ref: 'refs/tags/v1.0',
    rpo_ver: 'c291ea713801eb300054d353d279e7b02331f671',
    run_id: '5',
  });
  const links = azureLinks(PIPELINE_TOKEN, ISSUER);
  assert.equal(links.repository, 'contoso/libraries');
  assert.equal(links.workflow, 'release');
  assert.equal(links.runUrl, 'https://dev.azure.com/contoso/libraries/_build/results?buildId=5');
  assert.equal(
    links.commitUrl,
    'https://github.com/contoso/acme-lib/commit/c291ea713801eb300054d353d279e7b02331f671',
  );
  // Another issuer's web host is unknown; a run id that is not a number makes no link.
  assert.equal(azureLinks(PIPELINE_TOKEN, 'https://ado.example.com/x').runUrl, null);
  assert.equal(azureLinks({ ...PIPELINE_TOKEN, run_id: '5&x=1' }, ISSUER).runUrl, null);
  const context = {
    uploadUrl: 'https://pypi.example.com/legacy/',
    audience: 'pypi.example.com',
    actionRef: null,
  };
  const pipeline = azurePipeline({ ...PIPELINE, ref: 'refs/tags/v*' }, context);
  assert.equal(pipeline.path, 'azure-pipelines.yml');
  assert.match(pipeline.text, /trigger:\n {2}tags:\n {4}include: \["v\*"\]/);
  assert.match(pipeline.text, /SYSTEM_ACCESSTOKEN: \$\(System\.AccessToken\)/);
  assert.doesNotMatch(pipeline.text, /PIER_AZURE_SERVICE_CONNECTION_ID/);
  const viaConnection = azurePipeline({ ...PIPELINE, ...CONNECTION } as AzureConfig, context);
  assert.match(viaConnection.text, /PIER_AZURE_SERVICE_CONNECTION_ID: SERVICE_CONNECTION_ID/);
});

test('Azure Pipelines registration', async (t) => {
  const valid = azureProvider.example;
  const connection = {
    ...valid,
    pipeline: '',
    projectId: '',
    pipelineId: '',
    ref: '',
    serviceConnection: 'pier-publish',
  };
  const refused: [string, Record<string, string | undefined>, Record<string, string>][] = [
    [
      'nothing',
      {},
      {
        organization: 'Specify the organization',
        organizationId: "Specify the organization's id (the last part of its issuer URL)",
        project: 'Specify the project',
        pipeline: 'Name the pipeline (or a service connection) whose tokens publish',
      },
    ],
    [
      'neither a pipeline nor a service connection (every job of the organization)',
      { ...valid, pipeline: '' },
      { pipeline: 'Name the pipeline (or a service connection) whose tokens publish' },
    ],
    [
      'both',
      { ...valid, serviceConnection: 'pier-publish' },
      { serviceConnection: 'Name a pipeline or a service connection, not both' },
    ],
    [
      'a pipeline without its ids',
      { ...valid, projectId: '', pipelineId: '' },
      {
        projectId: "Specify the project's id (a pipeline's token pins it)",
        pipelineId: "Specify the pipeline's definition id",
      },
    ],
    [
      'a definition id that is no number',
      { ...valid, pipelineId: 'release' },
      { pipelineId: "The pipeline's definition id is a number, got 'release'" },
    ],
    [
      'an id that is no UUID',
      { ...valid, organizationId: '42' },
      { organizationId: 'Invalid UUID' },
    ],
    [
      'a name with a slash (another segment of sub)',
      { ...valid, project: 'a/b' },
      { project: 'The project cannot contain / or control characters' },
    ],
    [
      'a pattern for a name',
      { ...connection, serviceConnection: '*' },
      { serviceConnection: 'The service connection is a name, not a pattern' },
    ],
    [
      'an organization name with a dot',
      { ...valid, organization: 'con.toso' },
      { organization: 'Invalid organization name: letters, digits and hyphens' },
    ],
    [
      'a ref pattern that is no ref',
      { ...valid, ref: 'v*' },
      { ref: 'Ref pattern must start with refs/ (for example refs/tags/v*)' },
    ],
    [
      'a ref for a service connection (its token has none)',
      { ...connection, ref: 'refs/tags/v*' },
      { ref: "A service connection's token carries no ref" },
    ],
    [
      'ids for a service connection',
      { ...connection, pipelineId: '12' },
      { pipelineId: "A service connection's token carries no project or pipeline id" },
    ],
  ];
  for (const [name, input, errors] of refused)
    await t.test(name, () =>
      assert.deepEqual(azureProvider.validateConfig(input), { ok: false, errors }),
    );
  await t.test('accepted: a pipeline, ids lower-cased', () => {
    assert.deepEqual(
      azureProvider.validateConfig({ ...valid, organizationId: ORG_ID.toUpperCase(), ref: '' }),
      {
        ok: true,
        config: { ...PIPELINE, projectId: PROJECT_ID },
      },
    );
  });
  await t.test('accepted: a service connection (names only)', () => {
    assert.deepEqual(azureProvider.validateConfig(connection), {
      ok: true,
      config: {
        organization: 'contoso',
        organizationId: ORG_ID,
        project: 'libraries',
        serviceConnection: 'pier-publish',
      },
    });
  });
});

test('Azure Pipelines issuers: an organization’s vstoken URL, nothing else', () => {
  const cases: [string, boolean, boolean][] = [
    [ISSUER, false, true],
    [`http://127.0.0.1:8080/${ORG_ID}`, true, true],
    [`http://127.0.0.1:8080/${ORG_ID}`, false, false],
    [`https://vstoken.dev.azure.com/${ORG_ID}/`, false, false],
    [`https://vstoken.dev.azure.com/${ORG_ID.toUpperCase()}`, false, false],
    ['https://vstoken.dev.azure.com/contoso', false, false],
    ['https://login.microsoftonline.com/ff882432-09b0-437b-bd22-ca13c0037ded/v2.0', false, false],
  ];
  for (const [url, insecure, ok] of cases)
    assert.equal(azureIssuerProblem(url, insecure) === null, ok, url);
  assert.match(
    azureIssuerProblem(
      'https://login.microsoftonline.com/ff882432-09b0-437b-bd22-ca13c0037ded/v2.0',
      false,
    )!,
    /Microsoft Entra issuer/,
  );
  assert.equal(azureIssuerMismatch(PIPELINE, ISSUER), null);
  assert.match(
    azureIssuerMismatch(
      { ...PIPELINE, organizationId: '00000000-0000-4000-8000-000000000000' },
      ISSUER,
    )!,
    /is not the issuer's/,
  );
});
