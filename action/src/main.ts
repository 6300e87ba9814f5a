// The GitHub Action: pier's publish client run as a JavaScript action. Its inputs are those of
// pypa/gh-action-pypi-publish, with the same defaults (kebab-case, and the old snake_case
// spellings still read), so that switching is a one-line change. With no `password` it uses
// trusted publishing: the job's OIDC token (`permissions: id-token: write`) is exchanged at the
// index. Secrets are masked; each published file and its hashes go to the step summary; a
// failure is an `::error` annotation that says what to change. With `attestations: true` each
// file is signed first (PEP 740, Sigstore's public good or the Fulcio and Rekor given).
import * as core from '@actions/core';
import {
  formatPublishError,
  publish,
  PublishError,
  PYPI_UPLOAD_URL,
  textReporter,
  type PublishErrorCode,
  type PublishResult,
  type Reporter,
} from '../../src/client/index.js';

const DEFAULTS: Record<string, string> = {
  user: '__token__',
  password: '',
  'repository-url': PYPI_UPLOAD_URL,
  'packages-dir': 'dist',
  'verify-metadata': 'true',
  'skip-existing': 'false',
  verbose: 'true',
  'print-hash': 'true',
  attestations: 'false',
  'fulcio-url': '',
  'rekor-url': '',
};

/** An input by its kebab-case name, else its deprecated snake_case alias, else the default. */
function input(name: string): string {
  return core.getInput(name) || core.getInput(name.replace(/-/g, '_')) || (DEFAULTS[name] ?? '');
}

/** A boolean input, as the YAML 1.2 core schema spells booleans. */
function flag(name: string): boolean {
  const value = input(name).trim();
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new PublishError('usage', `The input ${name} must be true or false, not '${value}'`);
}

const TITLES: Record<PublishErrorCode, string> = {
  'invalid-distribution': 'Not a publishable distribution',
  usage: 'Invalid input',
  'no-credential': 'No credentials',
  'no-id-token': 'No OIDC token for trusted publishing',
  'not-supported': 'Trusted publishing not supported by the index',
  'exchange-failed': 'Trusted publishing exchange failed',
  'attestation-failed': 'Signing the attestations failed',
  'upload-failed': 'Upload refused',
  'untrusted-certificate': 'Untrusted certificate',
  unreachable: 'Index unreachable',
};

function actionReporter(verbose: boolean, printHash: boolean): Reporter {
  const text = textReporter({ write: (line) => core.info(line), verbose: true, printHash });
  return {
    ...text,
    warn: (line) => core.warning(line),
    debug: (line) => (verbose ? core.info(line) : core.debug(line)),
  };
}

const code = (s: string) => `<code>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</code>`;

async function writeSummary(build: () => void): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    build();
    await core.summary.write();
  } catch (err) {
    core.warning(`Could not write the step summary: ${(err as Error).message}`);
  }
}

function successSummary(result: PublishResult): void {
  const host = new URL(result.repositoryUrl).host;
  const auth =
    result.authentication.method === 'trusted-publishing'
      ? `trusted publishing (the ${result.authentication.platform} OIDC token, audience ${code(result.authentication.audience)})`
      : `an API token (${result.authentication.source})`;
  core.summary
    .addHeading(`Published to ${host}`, 2)
    .addRaw(`Uploaded to ${code(result.repositoryUrl)} with ${auth}.`, true)
    .addTable([
      [
        { data: 'File', header: true },
        { data: 'Status', header: true },
        { data: 'SHA256', header: true },
        { data: 'MD5', header: true },
        { data: 'BLAKE2b-256', header: true },
      ],
      ...result.files.map((f) => [
        code(f.filename),
        f.status === 'skipped' ? `skipped: ${f.reason ?? ''}` : f.status,
        code(f.hashes.sha256),
        code(f.hashes.md5 ?? ''),
        code(f.hashes.blake2_256 ?? ''),
      ]),
    ]);
}

function failureSummary(err: PublishError, repositoryUrl: string): void {
  core.summary
    .addHeading(`Publishing to ${repositoryUrl} failed: ${TITLES[err.code]}`, 2)
    .addCodeBlock(err.message);
  if (err.hints.length > 0) core.summary.addHeading('What to change', 3).addList(err.hints);
  if (err.done.length > 0)
    core.summary.addRaw(
      `Handled before the failure: ${err.done.map((d) => `${code(d.filename)} (${d.status})`).join(', ')}.`,
      true,
    );
}

async function main(): Promise<void> {
  let repositoryUrl = PYPI_UPLOAD_URL;
  try {
    const password = input('password');
    if (password) core.setSecret(password);
    repositoryUrl = input('repository-url');
    const verbose = flag('verbose');
    const printHash = flag('print-hash');
    const env = { ...process.env };
    // Only the inputs give credentials, as in the pypa action.
    for (const name of ['PIER_TOKEN', 'TWINE_USERNAME', 'TWINE_PASSWORD']) delete env[name];
    const result = await publish({
      paths: [input('packages-dir')],
      repositoryUrl,
      username: input('user'),
      password: password || undefined,
      skipExisting: flag('skip-existing'),
      verifyMetadata: flag('verify-metadata'),
      // PEP 740: sign each file with the job's OIDC identity, write <dist>.publish.attestation.
      attestations: flag('attestations'),
      fulcioUrl: input('fulcio-url') || undefined,
      rekorUrl: input('rekor-url') || undefined,
      // The step summary lists all three digests of every file.
      allDigests: true,
      env,
      reporter: actionReporter(verbose, printHash),
      onSecret: (secret) => core.setSecret(secret),
    });
    await writeSummary(() => successSummary(result));
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    core.error(formatPublishError(err), { title: TITLES[err.code] });
    await writeSummary(() => failureSummary(err, repositoryUrl));
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  core.setFailed(err instanceof Error ? (err.stack ?? err.message) : String(err));
});
