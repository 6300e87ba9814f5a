// `pier token from-oidc`: registered here with its flags; ./read-token.ts is imported only when
// the command runs. The index URL (with the token) goes to standard output, alone, so that
// `$(pier token from-oidc …)` can be given to pip; everything else goes to standard error.
import { Option, type Command } from 'commander';

const HELP = `
In a CI job (GitHub Actions with \`permissions: id-token: write\`, GitLab CI \`id_tokens\` named
<AUDIENCE>_ID_TOKEN, Buildkite, CircleCI, Google Cloud, Azure Pipelines), trades the job's OIDC token at the
index's /_/oidc/mint-read-token for a read token of the projects whose trusted publishers trust
the job (register one with \`pier publisher add … --read-only\` to grant reading only). It lives
as long as an upload token (PIER_TOKEN_TTL, 15 minutes by default). No secret is stored in CI.

Examples:
  pip install --index-url "$(pier token from-oidc --index-url https://pypi.example.com/simple/)" acme-lib
  pier token from-oidc --index-url https://pypi.example.com/simple/ --json
`;

export function registerReadTokenCommand(token: Command): void {
  token
    .command('from-oidc')
    .description(
      'in a CI job: trade its OIDC token for a short-lived read token and print an index URL for pip',
    )
    .requiredOption('--index-url <url>', 'the index’s Simple URL, e.g. https://HOST/simple/')
    .addOption(
      new Option('--scope <scope>', 'what the token may do (reads only)')
        .choices(['read'])
        .default('read'),
    )
    .option('--oidc-token-file <file>', 'exchange the OIDC token in this file')
    .option('--json', 'print the index URL, the token and its expiry as JSON')
    .addHelpText('after', HELP)
    .action(async (flags: { indexUrl: string; oidcTokenFile?: string; json?: boolean }) => {
      const [{ readTokenFromOidc }, { formatPublishError, PublishError }] = await Promise.all([
        import('./read-token.js'),
        import('./errors.js'),
      ]);
      const env = process.env;
      // In GitHub Actions the secrets are masked in the log, on standard error (standard output
      // holds the URL alone).
      const onSecret =
        env.GITHUB_ACTIONS === 'true'
          ? (secret: string) => void process.stderr.write(`::add-mask::${secret}\n`)
          : undefined;
      try {
        const read = await readTokenFromOidc({
          indexUrl: flags.indexUrl,
          oidcTokenFile: flags.oidcTokenFile,
          env,
          onSecret,
          onRetry: (line) => void process.stderr.write(`${line}\n`),
        });
        const until = read.expires ? new Date(read.expires * 1000).toISOString() : null;
        process.stderr.write(
          `Trusted access: exchanged the OIDC token from ${read.source} for a read token` +
            (until ? ` (valid until ${until})` : '') +
            '\n',
        );
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify({ index_url: read.indexUrl, token: read.token, expires: read.expires }, null, 2)}\n`,
          );
        else process.stdout.write(`${read.indexUrl}\n`);
      } catch (err) {
        if (!(err instanceof PublishError)) throw err;
        process.stderr.write(`error: ${formatPublishError(err)}\n`);
        process.exitCode = 1;
      }
    });
}
