// `pier publish`: registered here with its flags, run by `./run-command.ts`, which is imported
// only when the command runs, so that `pier publish --help` stays fast and the client's modules
// stay out of every other command's way.
import type { Command } from 'commander';
import { wholeNumber } from '../cli/numeric-option.js';
import { PYPI_UPLOAD_URL } from './urls.js';
import { DEFAULT_CONCURRENCY } from './concurrency.js';

export interface PublishFlags {
  repositoryUrl: string;
  indexUrl?: string;
  token?: string;
  oidcTokenFile?: string;
  skipExisting?: boolean;
  printHash?: boolean;
  dryRun?: boolean;
  verifyMetadata: boolean;
  verbose?: boolean;
  concurrency: number;
}

const HELP = `
Credentials, first found wins: --token; --oidc-token-file; PIER_TOKEN; TWINE_USERNAME and
TWINE_PASSWORD; else trusted publishing with the OIDC token of the CI job this runs in
(GitHub Actions with \`permissions: id-token: write\`, GitLab CI \`id_tokens\` named
<AUDIENCE>_ID_TOKEN, Buildkite, CircleCI, Google Cloud), exchanged at the upload host's
/_/oidc/mint-token.

URLs must be HTTPS (plain HTTP only for a loopback address). Certificates are always verified:
add a private CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.

Examples:
  pier publish --repository-url https://pypi.example.com/legacy/ dist/
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
    .option('--repository-url <url>', 'the upload URL', PYPI_UPLOAD_URL)
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
    .option('-v, --verbose', 'say more about each step')
    .addHelpText('after', HELP)
    .action(async (paths: string[], flags: PublishFlags) => {
      const { runPublishCommand } = await import('./run-command.js');
      process.exitCode = await runPublishCommand(paths, flags);
    });
}
