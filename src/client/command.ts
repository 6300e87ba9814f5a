// `pier publish`: registered here with its flags, run by `./run-command.ts`, which is imported
// only when the command runs, so that `pier publish --help` stays fast and the client's modules
// stay out of every other command's way.
import type { Command } from 'commander';
import { wholeNumber } from './numeric-option.js';
import { DEFAULT_CONCURRENCY } from './concurrency.js';

export interface PublishFlags {
  repositoryUrl?: string;
  repository?: string;
  configFile?: string;
  indexUrl?: string;
  token?: string;
  oidcTokenFile?: string;
  skipExisting?: boolean;
  printHash?: boolean;
  dryRun?: boolean;
  verifyMetadata: boolean;
  verbose?: boolean;
  json?: boolean;
  concurrency: number;
  attestations?: boolean;
  fulcioUrl?: string;
  rekorUrl?: string;
}

const HELP = `
The upload URL, first found wins (as twine): --repository-url; PIER_REPOSITORY_URL;
TWINE_REPOSITORY_URL; else the repository named by -r/--repository (or PIER_REPOSITORY,
TWINE_REPOSITORY; default pypi) in the .pypirc file: its \`repository\`, \`username\` and
\`password\`, listed in \`index-servers\` under [distutils]. pypi and testpypi need no section.

Credentials, first found wins: --token; --oidc-token-file; PIER_TOKEN; TWINE_USERNAME and
TWINE_PASSWORD; the password of the .pypirc repository; else trusted publishing with the OIDC token of the CI job this runs in
(GitHub Actions with \`permissions: id-token: write\`, GitLab CI \`id_tokens\` named
<AUDIENCE>_ID_TOKEN, Buildkite, CircleCI, Google Cloud, Bitbucket Pipelines' BITBUCKET_STEP_OIDC_TOKEN
of a step with \`oidc: { audiences: [AUDIENCE] }\`, Azure Pipelines with SYSTEM_ACCESSTOKEN mapped and
PIER_AZURE_SERVICE_CONNECTION_ID for a service connection's token), exchanged at the upload host's
/_/oidc/mint-token.

URLs must be HTTPS (plain HTTP only for a loopback address). Certificates are always verified:
add a private CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.

Attestations (PEP 740): every \`<dist>.<type>.attestation\` file next to a distribution (from
attest-action, the pypa action or an earlier --attestations) is uploaded with it. --attestations
(env PIER_ATTESTATIONS=true) first signs each file with the CI job's OIDC identity (a token of
audience \`sigstore\`) at Fulcio, logs it in Rekor (Sigstore's public good unless --fulcio-url and
--rekor-url, env PIER_FULCIO_URL and PIER_REKOR_URL, name a private Sigstore), and writes
<dist>.publish.attestation next to it. All files are signed before the first upload: if signing
fails, nothing is uploaded.

--json prints one JSON document on standard output (each file's status, size, hashes and
download URL, and the error if any); everything else goes to standard error.

Examples:
  pier publish --repository-url https://pypi.example.com/legacy/ dist/
  pier publish -r internal --json > published.json
  PIER_TOKEN=pypi-… pier publish --repository-url https://pypi.example.com/legacy/ --skip-existing
  pier publish --dry-run --print-hash
`;

/** Adds `publish` to a commander program. */
export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description(
      'upload distributions to an index, with an API token or by trusted publishing from a CI job',
    )
    .argument('[paths...]', 'distribution files, or directories holding them (default: dist/)')
    .option(
      '--repository-url <url>',
      'the upload URL (env PIER_REPOSITORY_URL, TWINE_REPOSITORY_URL; default: from .pypirc, else PyPI’s)',
    )
    .option(
      '-r, --repository <name>',
      'the repository (section) of .pypirc to upload to (env PIER_REPOSITORY, TWINE_REPOSITORY; default pypi)',
    )
    .option('--config-file <path>', 'the .pypirc file to read repositories from', '~/.pypirc')
    .option(
      '--index-url <url>',
      'the Simple index --skip-existing reads (default: from the upload URL, /legacy/ -> /simple/)',
    )
    .option('--token <token>', 'an API token (env PIER_TOKEN)')
    .option('--oidc-token-file <file>', 'exchange the OIDC token in this file (trusted publishing)')
    .option('--skip-existing', 'skip files the index has already, instead of failing')
    .option('--print-hash', 'print each file’s SHA-256, MD5 and BLAKE2b-256')
    .option('--dry-run', 'check and hash the files, print what would be uploaded, send nothing')
    .option('--no-verify-metadata', 'do not validate the metadata before uploading')
    .option(
      '--concurrency <n>',
      'uploads in flight at once, after the first file (which may create the project)',
      wholeNumber({ min: 1, max: 16 }),
      DEFAULT_CONCURRENCY,
    )
    .option(
      '--attestations',
      'sign each file (PEP 740) with the CI job’s OIDC identity before uploading (env PIER_ATTESTATIONS)',
    )
    .option(
      '--fulcio-url <url>',
      'the Fulcio that issues signing certificates (env PIER_FULCIO_URL; default https://fulcio.sigstore.dev)',
    )
    .option(
      '--rekor-url <url>',
      'the Rekor that logs signatures (env PIER_REKOR_URL; default https://rekor.sigstore.dev)',
    )
    .option('-v, --verbose', 'say more about each step')
    .option('--json', 'print the outcome as one JSON document on standard output')
    .addHelpText('after', HELP)
    .action(async (paths: string[], flags: PublishFlags) => {
      const { runPublishCommand } = await import('./run-command.js');
      process.exitCode = await runPublishCommand(paths, flags);
    });
}
