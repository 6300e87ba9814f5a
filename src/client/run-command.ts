// What `pier publish` does once its flags are parsed: find the repository (flag, environment,
// .pypirc), run `publish` with a reporter drawing progress bars on a terminal (plain lines in
// CI or a pipe), print the outcome — as text on standard error, or with --json as one JSON
// document on standard output — and turn a PublishError into its message and hints on
// standard error and exit code 1.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { PublishFlags } from './command.js';
import { formatPublishError, PublishError } from './errors.js';
import { jsonReport } from './json-report.js';
import { publish } from './publish.js';
import { loadProgressBars, textReporter } from './report.js';
import { resolveRepository, type PypircSource, type ResolvedRepository } from './repository.js';

const DEFAULT_CONFIG_FILE = '~/.pypirc';

/** Whether to draw progress bars: a terminal, and not a CI log. */
function useBars(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.CI && !env.GITHUB_ACTIONS && env.TERM !== 'dumb';
}

/** The .pypirc file: a missing default file is no file; a missing file given by flag is an error. */
function pypircSource(path: string): PypircSource {
  const real = path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
  return {
    path,
    read: () => {
      try {
        return readFileSync(real, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && path === DEFAULT_CONFIG_FILE) return null;
        throw new PublishError('usage', `--config-file ${path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
  };
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
  // In GitHub Actions, mask secrets in the log as the pypa action and uv do (the runner reads
  // workflow commands on both streams; with --json, standard output holds the document alone).
  const commands = flags.json ? process.stderr : process.stdout;
  const onSecret =
    env.GITHUB_ACTIONS === 'true'
      ? (secret: string) => void commands.write(`::add-mask::${secret}\n`)
      : undefined;
  let repository: ResolvedRepository = { url: flags.repositoryUrl ?? '', source: '' };
  const printJson = (doc: unknown) =>
    void process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  try {
    repository = resolveRepository(
      { repositoryUrl: flags.repositoryUrl, repository: flags.repository },
      env,
      pypircSource(flags.configFile ?? DEFAULT_CONFIG_FILE),
    );
    reporter.debug(`Repository ${repository.url} (from ${repository.source})`);
    const result = await publish({
      paths,
      repositoryUrl: repository.url,
      indexUrl: flags.indexUrl,
      token: flags.token,
      configured: repository.credentials,
      oidcTokenFile: flags.oidcTokenFile,
      skipExisting: flags.skipExisting,
      verifyMetadata: flags.verifyMetadata,
      dryRun: flags.dryRun,
      allDigests: flags.printHash === true || flags.json === true,
      fileUrls: flags.json === true && flags.dryRun !== true,
      concurrency: flags.concurrency,
      attestations: flags.attestations,
      fulcioUrl: flags.fulcioUrl,
      rekorUrl: flags.rekorUrl,
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
    if (flags.json) printJson(jsonReport(repository, { result }));
    return 0;
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    process.stderr.write(`error: ${formatPublishError(err)}\n`);
    if (flags.json) printJson(jsonReport(repository, { error: err }));
    return 1;
  }
}
