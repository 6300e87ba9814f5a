// Jenkins' claim rules and registration, against tokens shaped like the OpenID Connect Provider
// plugin's (https://github.com/jenkinsci/oidc-provider-plugin: `IdTokenCredentials.token()` with
// the default build claim templates `sub` = ${JOB_URL}, `build_number` = ${BUILD_NUMBER}).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  jenkinsLinks,
  jenkinsPipeline,
  jenkinsProvider,
  type JenkinsConfig,
} from '../../../src/oidc/providers/jenkins.js';
import { audienceMatches } from '../../../src/oidc/verify.js';
import { assertClassified, ruleTests, withClaims } from './support.js';

const ISSUER = 'https://ci.example.com/oidc';
const JOB_URL = 'https://ci.example.com/job/libs/job/release/';

// What the plugin writes: no jti, no nbf, `aud` as a list (jjwt's audience().add()).
const TOKEN = {
  iss: ISSUER,
  aud: ['pypi.example.com'],
  iat: 1764806400,
  exp: 1764810000,
  sub: JOB_URL,
  build_number: 42,
};

const PUBLISHER: JenkinsConfig = { jobUrl: JOB_URL };

ruleTests(
  jenkinsProvider,
  { claims: TOKEN, config: PUBLISHER, issuer: ISSUER },
  {
    sub: [
      { name: 'the registered job', failures: [] },
      {
        name: 'another job of the folder',
        claims: { sub: 'https://ci.example.com/job/libs/job/docs/' },
        failures: [
          `Check failed for claim 'sub': expected the job URL '${JOB_URL}', got 'https://ci.example.com/job/libs/job/docs/'`,
        ],
      },
      {
        name: 'a token issued outside a build (sub = the Jenkins root URL)',
        claims: { sub: 'https://ci.example.com/' },
        failures: [
          `Check failed for claim 'sub': expected the job URL '${JOB_URL}', got 'https://ci.example.com/'`,
        ],
      },
      {
        name: 'a job below the registered one (a multibranch branch is another job)',
        claims: { sub: `${JOB_URL}job/feature/` },
        failures: [
          `Check failed for claim 'sub': expected the job URL '${JOB_URL}', got '${JOB_URL}job/feature/'`,
        ],
      },
      {
        name: 'in another case (compared exactly)',
        claims: { sub: 'https://ci.example.com/job/Libs/job/release/' },
        failures: [
          `Check failed for claim 'sub': expected the job URL '${JOB_URL}', got 'https://ci.example.com/job/Libs/job/release/'`,
        ],
      },
      {
        name: 'without the trailing slash',
        claims: { sub: JOB_URL.slice(0, -1) },
        failures: [
          `Check failed for claim 'sub': expected the job URL '${JOB_URL}', got '${JOB_URL.slice(0, -1)}'`,
        ],
      },
      {
        name: 'a custom template (JOB_NAME instead of JOB_URL)',
        claims: { sub: 'libs/release' },
        failures: [
          `Check failed for claim 'sub': expected the job URL '${JOB_URL}', got 'libs/release'`,
        ],
      },
      {
        name: 'with a newline',
        claims: { sub: `${JOB_URL}\n` },
        failures: ["Check failed for claim 'sub': it contains a control character"],
      },
      { name: 'missing', claims: { sub: undefined }, failures: ["Missing claim 'sub'"] },
      {
        name: 'a number',
        claims: { sub: 7 },
        failures: ["Check failed for claim 'sub': expected a string, got a number"],
      },
    ],
  },
);

test('Jenkins: the table classifies every claim of the plugin’s default token', () => {
  assertClassified(jenkinsProvider, TOKEN);
});

test('Jenkins: the audience is a list of the index’s audience alone', () => {
  assert.equal(jenkinsProvider.audienceList, true);
  const form = { list: jenkinsProvider.audienceList };
  assert.equal(audienceMatches(['pypi.example.com'], 'pypi.example.com', form), true);
  assert.equal(audienceMatches('pypi.example.com', 'pypi.example.com', form), true);
  assert.equal(audienceMatches(['pypi.example.com', 'x'], 'pypi.example.com', form), false);
  assert.equal(audienceMatches(['x', 'pypi.example.com'], 'pypi.example.com', form), false);
  assert.equal(audienceMatches([], 'pypi.example.com', form), false);
  assert.equal(audienceMatches(['other.example.com'], 'pypi.example.com', form), false);
  // Other providers: a list is never the audience.
  assert.equal(audienceMatches(['pypi.example.com'], 'pypi.example.com'), false);
});

test('Jenkins: lookup, identity, overlap, specificity', () => {
  assert.equal(jenkinsProvider.lookupKeyOfConfig(PUBLISHER), JOB_URL);
  assert.deepEqual(jenkinsProvider.lookupKeyOfClaims(TOKEN), { ok: true, key: JOB_URL });
  assert.equal(jenkinsProvider.lookupKeyOfClaims(withClaims(TOKEN, { sub: undefined })).ok, false);
  const other = { jobUrl: 'https://ci.example.com/job/libs/job/docs/' };
  assert.notEqual(jenkinsProvider.identityOf(PUBLISHER), jenkinsProvider.identityOf(other));
  assert.equal(jenkinsProvider.overlaps(PUBLISHER, { ...PUBLISHER }), true);
  assert.equal(jenkinsProvider.overlaps(PUBLISHER, other), false);
  assert.equal(jenkinsProvider.specificity(PUBLISHER), 0);
});

test('Jenkins: provenance, links, template', () => {
  assert.deepEqual(jenkinsProvider.provenance(TOKEN), { sub: JOB_URL, build_number: '42' });
  const links = jenkinsLinks(TOKEN, ISSUER);
  assert.equal(links.repository, JOB_URL);
  assert.equal(links.runLabel, 'build 42');
  assert.equal(links.runUrl, `${JOB_URL}42/`);
  // A sub that is not a job URL (a custom template, a script) never makes a link.
  for (const sub of ['javascript:alert(1)//job/x/', 'libs/release', 'https://ci.example.com/'])
    assert.equal(jenkinsLinks({ ...TOKEN, sub }, ISSUER).runUrl, null, sub);
  assert.equal(jenkinsLinks({ ...TOKEN, build_number: '1/../x' }, ISSUER).runUrl, null);
  const pipeline = jenkinsPipeline(PUBLISHER, {
    uploadUrl: 'https://pypi.example.com/legacy/',
    audience: 'pypi.example.com',
    actionRef: null,
  });
  assert.equal(pipeline.path, 'Jenkinsfile');
  assert.match(pipeline.text, /credential 'pier-oidc' whose audience is pypi\.example\.com/);
  assert.match(pipeline.text, /withCredentials\(\[file\(credentialsId: 'pier-oidc'/);
  assert.match(
    pipeline.text,
    /pier publish --repository-url https:\/\/pypi\.example\.com\/legacy\/ --oidc-token-file "\$PIER_OIDC_TOKEN_FILE" dist\//,
  );
});

test('Jenkins registration', async (t) => {
  const shape =
    'A job URL names one job: https://JENKINS/job/NAME/ (in folders: /job/FOLDER/job/NAME/)';
  const refused: [string, string | undefined, string][] = [
    ['nothing', undefined, "Specify the job's URL (its JOB_URL)"],
    ['the Jenkins root URL (every token outside a build)', 'https://ci.example.com/', shape],
    ['a folder without a job', 'https://ci.example.com/job/', shape],
    ['a view', 'https://ci.example.com/view/all/', shape],
    ['a glob', 'https://ci.example.com/job/*/', 'A job URL names one job exactly: no wildcards'],
    [
      'a dot segment',
      'https://ci.example.com/job/libs/job/../',
      'A job URL has no . or .. segment',
    ],
    ['not a URL', 'libs/release', "Not a URL: 'libs/release'"],
    [
      'another scheme',
      'ftp://ci.example.com/job/x/',
      'A job URL starts with https:// (or http://)',
    ],
    [
      'a query',
      'https://ci.example.com/job/x/?delay=0',
      'A job URL has no user, query or fragment',
    ],
    [
      'credentials in it',
      'https://admin:pw@ci.example.com/job/x/',
      'A job URL has no user, query or fragment',
    ],
    [
      'a space',
      'https://ci.example.com/job/my job/',
      'A job URL cannot contain whitespace or control characters',
    ],
  ];
  for (const [name, jobUrl, message] of refused)
    await t.test(name, () =>
      assert.deepEqual(jenkinsProvider.validateConfig({ jobUrl }), {
        ok: false,
        errors: { jobUrl: message },
      }),
    );
  const accepted: [string, string, string][] = [
    ['as JOB_URL writes it', JOB_URL, JOB_URL],
    [
      'without the trailing slash',
      ' https://ci.example.com/job/release ',
      'https://ci.example.com/job/release/',
    ],
    [
      'under a context path',
      'https://example.com/jenkins/job/release/',
      'https://example.com/jenkins/job/release/',
    ],
    [
      'a branch of a multibranch job',
      'https://ci.example.com/job/lib/job/main/',
      'https://ci.example.com/job/lib/job/main/',
    ],
    ['a host in capitals', 'https://CI.example.com/job/x/', 'https://ci.example.com/job/x/'],
    [
      'an encoded name',
      'https://ci.example.com/job/my%20job/',
      'https://ci.example.com/job/my%20job/',
    ],
  ];
  for (const [name, jobUrl, stored] of accepted)
    await t.test(`accepted: ${name}`, () =>
      assert.deepEqual(jenkinsProvider.validateConfig({ jobUrl }), {
        ok: true,
        config: { jobUrl: stored },
      }),
    );
});
