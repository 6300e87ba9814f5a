// Jenkins, with the OpenID Connect Provider plugin: a build binds an "OpenID Connect id token"
// credential (as secret text, or as a file) and gets a JWT signed by its Jenkins. Sources:
// - https://plugins.jenkins.io/oidc-provider/ and the plugin's README
//   (https://github.com/jenkinsci/oidc-provider-plugin): the issuer is the Jenkins root URL plus
//   `oidc` (`https://JENKINS/oidc`), or one an administrator configures and serves the two
//   discovery files from; credentials in a folder have that folder's issuer; the audience is a
//   field of the credential; `sub` is "by default the URL of a Jenkins job", and "a Jenkins
//   build number is included by default";
// - the plugin's `IdTokenConfiguration.java`: the default build claim templates are
//   `sub` = `${JOB_URL}` (a string) and `build_number` = `${BUILD_NUMBER}` (an integer), the
//   template outside builds is `sub` = `${JENKINS_URL}`, tokens live 3600 s by default;
//   administrators may replace the templates (Manage Jenkins » Security » OpenID Connect);
// - the plugin's `IdTokenCredentials.java`: the token holds `iss`, `aud`, `iat`, `exp` and the
//   templates' claims, no `jti` and no `nbf`; `aud` is written with jjwt's `audience().add()`,
//   a JSON list (hence `audienceList`).
//
// Every Jenkins is its own issuer: there is no built-in one, and a publisher names an issuer
// registered with `pier issuer add --kind jenkins --url https://JENKINS/oidc`.
//
// The token carries almost nothing besides `sub`: a publisher names one job by its URL, compared
// exactly. That URL is the job's only identity. Jenkins has no immutable job id in its tokens, so
// nothing can be pinned: a job renamed or moved gets another URL and matches no more (fail
// closed), but a job deleted and re-created under the same name, by anyone allowed to create
// jobs in that folder, has the same URL and matches. Register publishers only for jobs in folders
// whose item-creation rights you trust as you trust the job's own configuration. A multibranch
// pipeline's branch is part of its job URL (`…/job/REPO/job/main/`), so the URL names the branch
// too; a pull request's job (`…/job/PR-7/`) is another URL. A token issued outside a build has
// `sub` = the Jenkins root URL, which no registration can name (a job URL has `/job/NAME/`).
// An administrator who changes the `sub` template changes what a job's token says: pier supports
// the default template only, and says so when a job URL does not match. JOB_URL is made of the
// configured Jenkins URL, so changing that also fails closed. Who can run a build of the job can
// publish: its committers, and on Jenkins whoever holds Build or Replay (a replayed Pipeline runs
// an edited script under the same job URL), so those permissions are the job's trust boundary.
// The token is whatever the build binds: a credential in the root store has the root issuer, one
// in a folder that folder's (`…/job/FOLDER/oidc`); each is its own registered issuer.
import {
  checkRules,
  firstMissingOrMistyped,
  flagString,
  hasControlCharacter,
  identityString,
  isNumericId,
  linksOf,
  mismatch,
  nonEmptyClaim,
  parseStoredFields,
  provenanceOf,
  quote,
  stringClaim,
  trimmedField,
  type Rule,
} from './core.js';
import { mergeClaims, shellQuote, text } from '../../dev-oidc/claims.js';
import type { DevClaims, DevTokenShape, JobSettings } from '../../dev-oidc/shape.js';
import type {
  Claims,
  ConfigInput,
  PipelineTemplate,
  Provider,
  ProvenanceLinks,
  TemplateContext,
  ValidateResult,
} from './types.js';

export interface JenkinsConfig {
  /** The job's URL as Jenkins writes `JOB_URL`: `https://ci.example.com/job/folder/job/lib/`. */
  jobUrl: string;
}

/** The path of a Jenkins' own issuer under its root URL (the plugin's default). */
export const JENKINS_ISSUER_PATH = '/oidc';

/** The credential id the pipeline template binds. */
export const JENKINS_CREDENTIAL_ID = 'pier-oidc';

// --- The claim checks -------------------------------------------------------------------------

/** `sub`: exactly the registered job URL (the plugin's default template, `${JOB_URL}`). */
export function checkJobUrl(config: JenkinsConfig, claim: string): string | null {
  return claim === config.jobUrl
    ? null
    : mismatch('sub', `the job URL ${quote(config.jobUrl)}`, claim);
}

// --- The table --------------------------------------------------------------------------------

export const JENKINS_RULES: readonly Rule<JenkinsConfig>[] = [
  {
    claim: 'sub',
    kind: 'required-verifiable',
    type: 'string',
    check: "equals the registered job URL, exactly (the plugin's default sub, ${JOB_URL})",
    verify: checkJobUrl,
  },
];

export const JENKINS_UNCHECKED_CLAIMS: readonly string[] = [
  // Identifies the build (an integer by default), recorded in provenance; nothing to compare.
  'build_number',
];

// --- Registration ------------------------------------------------------------------------------

/** `[/CONTEXT]/job/NAME[/job/NAME…]/`: one job (or a branch of a multibranch job). */
const JOB_PATH = /^(?:\/[^/]+)*?(?:\/job\/[^/]+)+\/$/;

/** Why a job URL cannot be registered, or null; and the URL as Jenkins writes it. */
export function jobUrlProblem(typed: string): { url: string } | { problem: string } {
  if (typed === '') return { problem: "Specify the job's URL (its JOB_URL)" };
  if (/\s/.test(typed) || hasControlCharacter(typed))
    return { problem: 'A job URL cannot contain whitespace or control characters' };
  // Jenkins refuses * in item names (Jenkins.checkGoodName): a pattern is never a job.
  if (typed.includes('*')) return { problem: 'A job URL names one job exactly: no wildcards' };
  // The URL parser would resolve `..`; a job URL has no dot segment to resolve.
  if (/\/\.{1,2}(?:\/|$)/.test(typed.replace(/^[a-z]+:\/\//i, '/')))
    return { problem: 'A job URL has no . or .. segment' };
  let url: URL;
  try {
    url = new URL(typed.endsWith('/') ? typed : `${typed}/`);
  } catch {
    return { problem: `Not a URL: ${quote(typed)}` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { problem: 'A job URL starts with https:// (or http://)' };
  if (url.username || url.password || url.search || url.hash)
    return { problem: 'A job URL has no user, query or fragment' };
  if (!JOB_PATH.test(url.pathname))
    return {
      problem:
        'A job URL names one job: https://JENKINS/job/NAME/ (in folders: /job/FOLDER/job/NAME/)',
    };
  return { url: url.href };
}

export function validateJenkinsConfig(input: ConfigInput): ValidateResult<JenkinsConfig> {
  const result = jobUrlProblem(trimmedField(input, 'jobUrl'));
  if ('problem' in result) return { ok: false, errors: { jobUrl: result.problem } };
  return { ok: true, config: { jobUrl: result.url } };
}

// --- Presentation ----------------------------------------------------------------------------

const PROVENANCE_CLAIMS = ['sub', 'build_number'] as const;

/** The job and its build: `JOB_URL` and `JOB_URL` + `BUILD_NUMBER/`, when sub is a job URL. */
export function jenkinsLinks(claims: Claims, _issuerUrl: string): ProvenanceLinks {
  const sub = nonEmptyClaim(claims, 'sub');
  const job = sub === null ? null : jobUrlProblem(sub);
  const jobUrl = job !== null && 'url' in job && job.url === sub ? sub : null;
  const links = linksOf(jobUrl);
  const number = claims.build_number;
  const build = typeof number === 'number' || typeof number === 'string' ? String(number) : null;
  if (isNumericId(build)) {
    links.runLabel = `build ${build}`;
    if (jobUrl !== null) links.runUrl = `${jobUrl}${build}/`;
  }
  return links;
}

/** The Jenkinsfile: build, then publish with the id token bound as a file. */
export function jenkinsPipeline(c: JenkinsConfig, context: TemplateContext): PipelineTemplate {
  const lines = [
    `// Jenkinsfile of ${c.jobUrl}`,
    `// Needs an "OpenID Connect id token as file" credential '${JENKINS_CREDENTIAL_ID}' whose audience is ${context.audience}.`,
    'pipeline {',
    '  agent any',
    '  stages {',
    "    stage('build') {",
    "      steps { sh 'python3 -m pip install build && python3 -m build' }",
    '    }',
    "    stage('publish') {",
    '      steps {',
    `        withCredentials([file(credentialsId: '${JENKINS_CREDENTIAL_ID}', variable: 'PIER_OIDC_TOKEN_FILE')]) {`,
    '          sh \'npm install --global "$PIER_PACKAGE"\' // pier, as your organisation distributes it',
    `          sh 'pier publish --repository-url ${context.uploadUrl} --oidc-token-file "$PIER_OIDC_TOKEN_FILE" dist/'`,
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
  ];
  return { path: 'Jenkinsfile', text: lines.join('\n') + '\n', language: 'text' };
}

// ---- `pier dev-oidc --kind jenkins`: the plugin's default build token ----

/** `--repository FOLDER/JOB` (Jenkins' full name): its folders and names. */
const JOB_FULL_NAME = /^[^/\s*?]+(?:\/[^/\s*?]+)*$/;

/** The job URL of a full name under a Jenkins root URL (JOB_URL: each name encoded). */
export function jobUrlOf(rootUrl: string, fullName: string): string {
  const path = fullName
    .split('/')
    .map((name) => `job/${encodeURIComponent(name)}/`)
    .join('');
  return `${rootUrl.replace(/\/+$/, '')}/${path}`;
}

function jenkinsDevCheck(job: Readonly<JobSettings>): string | null {
  if (job.repository !== undefined && !JOB_FULL_NAME.test(job.repository))
    return `--repository must be the job's full name FOLDER/JOB (e.g. libs/release), got '${job.repository}'`;
  // The plugin's default token says nothing of these: refused rather than silently left out.
  const unsupported: [keyof JobSettings, string][] = [
    ['environment', '--environment'],
    ['workflow', '--workflow'],
    ['ownerId', '--owner-id'],
    ['ref', '--ref'],
    ['sha', '--sha'],
    ['event', '--event'],
    ['jobWorkflowRef', '--job-workflow-ref'],
  ];
  for (const [setting, flag] of unsupported)
    if (job[setting] !== undefined)
      return `${flag} is not for --kind jenkins: the plugin's token names the job (sub) and the build number only`;
  return null;
}

function jenkinsDevClaims(
  job: Readonly<JobSettings>,
  file: Readonly<DevClaims>,
  issuer: string,
): DevClaims {
  // The issuer is the root URL plus /oidc, as the plugin's own issuer is.
  const root = issuer.endsWith(JENKINS_ISSUER_PATH)
    ? issuer.slice(0, -JENKINS_ISSUER_PATH.length)
    : issuer;
  const derived: DevClaims = {
    sub: jobUrlOf(root, job.repository ?? 'libs/release'),
    build_number: 42,
  };
  return mergeClaims(derived, file, job.repository ? { sub: derived.sub } : {});
}

const jenkinsDevShape: DevTokenShape = {
  platform: 'Jenkins (OpenID Connect Provider plugin)',
  issuer: (baseUrl) => `${baseUrl}${JENKINS_ISSUER_PATH}`,
  checkJob: jenkinsDevCheck,
  claims: jenkinsDevClaims,
  environment(claims) {
    const sub = text(claims.sub);
    return {
      JOB_URL: sub,
      BUILD_NUMBER:
        typeof claims.build_number === 'number' ? String(claims.build_number) : undefined,
    };
  },
  publisherFlags: (claims) => [`--job-url ${shellQuote(text(claims.sub) ?? '<JOB_URL>')}`],
  notes: [
    '# (Jenkins binds its token as a credential; here Jenkins-shaped tokens come from the token',
    '#  endpoint above, which OIDC clients use when GITHUB_ACTIONS=true.)',
  ],
  flags:
    "--repository FOLDER/JOB (the job's full name) derives sub, the job URL under the issuer's root",
};

export const jenkinsProvider: Provider<JenkinsConfig> = {
  dev: jenkinsDevShape,
  kind: 'jenkins',
  displayName: 'Jenkins',
  builtinIssuer: null,
  summary:
    "a job of a registered Jenkins by its URL (the OpenID Connect Provider plugin's default sub), compared exactly",
  fields: [
    {
      name: 'jobUrl',
      label: 'Job URL',
      placeholder: 'https://ci.example.com/job/libs/job/release/',
      hint: "The job's JOB_URL, the token's sub. A job re-created under this name has the same URL: only trust folders whose job creators you trust.",
    },
  ],
  example: { jobUrl: 'https://ci.example.com/job/libs/job/release/' },
  cli: {
    options: [{ flags: '--job-url <url>', description: 'Jenkins job URL (the token’s sub)' }],
    example: '--issuer https://ci.example.com/oidc --job-url https://ci.example.com/job/release/',
    fields: (flags) => ({ ok: true, fields: { jobUrl: flagString(flags, 'jobUrl') } }),
  },
  rules: JENKINS_RULES,
  uncheckedClaims: JENKINS_UNCHECKED_CLAIMS,
  uncheckedPrefixes: [],
  audienceList: true,
  validateConfig: validateJenkinsConfig,
  parseConfig: (stored) => parseStoredFields<JenkinsConfig>(stored, ['jobUrl']),
  lookupKeyOfConfig: (c) => c.jobUrl,
  lookupKeyOfClaims(claims) {
    const failure = firstMissingOrMistyped(JENKINS_RULES, claims);
    if (failure) return { ok: false, failure };
    return { ok: true, key: stringClaim(claims, 'sub') };
  },
  identityOf: (c) => identityString([c.jobUrl]),
  check: (config, claims, issuerUrl) => checkRules(JENKINS_RULES, config, claims, issuerUrl),
  specificity: () => 0,
  overlaps: (a, b) => a.jobUrl === b.jobUrl,
  provenance: (claims) => provenanceOf(claims, PROVENANCE_CLAIMS),
  describe: (c) => `Jenkins job ${c.jobUrl}`,
  url: (c) => c.jobUrl,
  links: jenkinsLinks,
  attestation: {
    shape: 'unsupported',
    reason:
      'Attestations are not currently supported with Jenkins publishers (Sigstore has no Jenkins identity)',
  },
  template: {
    // Jenkinsfile `sh` steps read the build's environment.
    variable: (name) => `"$${name}"`,
    render: jenkinsPipeline,
  },
};
