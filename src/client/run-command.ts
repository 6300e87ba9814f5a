// What `pier publish` does once its flags are parsed: run `publish` with a reporter drawing
// progress bars on a terminal (plain lines in CI or a pipe), print the outcome, and turn a
// PublishError into its message and hints on standard error and exit code 1.
import type { PublishFlags } from './command.js';
import { formatPublishError, PublishError } from './errors.js';
import { publish } from './publish.js';
import { loadProgressBars, textReporter } from './report.js';

/** Whether to draw progress bars: a terminal, and not a CI log. */
function useBars(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.CI && !env.GITHUB_ACTIONS && env.TERM !== 'dumb';
}

export async function runPublishCommand(paths: string[], flags: PublishFlags): Promise<number> {
  const env = process.env;
  const write = (line: string) => void process.stderr.write(`${line}\n`);
  const terminal = useBars(process.stderr, env) ? process.stderr : undefined;
  const reporter = textReporter({
    write,
    verbose: flags.verbose,
    printHash: flags.printHash,
    terminal,
    bars: terminal ? await loadProgressBars() : undefined,
  });
  // In GitHub Actions, mask secrets in the log as the pypa action and uv do.
  const onSecret =
    env.GITHUB_ACTIONS === 'true'
      ? (secret: string) => void process.stdout.write(`::add-mask::${secret}\n`)
      : undefined;
  try {
    const result = await publish({
      paths,
      repositoryUrl: flags.repositoryUrl,
      indexUrl: flags.indexUrl,
      token: flags.token,
      oidcTokenFile: flags.oidcTokenFile,
      skipExisting: flags.skipExisting,
      verifyMetadata: flags.verifyMetadata,
      dryRun: flags.dryRun,
      allDigests: flags.printHash === true,
      concurrency: flags.concurrency,
      env,
      reporter,
      onSecret,
    });
    const count = (status: string) => result.files.filter((f) => f.status === status).length;
    const parts = [
      count('uploaded') && `${count('uploaded')} uploaded`,
      count('skipped') && `${count('skipped')} skipped`,
      count('would-upload') && `${count('would-upload')} would be uploaded`,
    ].filter(Boolean);
    write(`Done: ${parts.join(', ')} (${result.repositoryUrl}).`);
    return 0;
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    process.stderr.write(`error: ${formatPublishError(err)}\n`);
    return 1;
  }
}
