// `pier attestations …`: the Sigstore trust root PEP 740 attestations are verified against.
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { requireIndex } from './index-location.js';
import {
  DEFAULT_MIRROR_URL,
  formatRefresh,
  refreshJson,
  refreshTrustRoot,
} from '../attestations/tuf-refresh.js';

export function registerAttestationsCommands(
  program: Command,
  configFrom: (cmd: Command) => Config,
): void {
  const attestations = program
    .command('attestations')
    .description('PEP 740 attestations: the Sigstore trust root they are verified against');
  attestations
    .command('refresh-trust-root')
    .description(
      "take Sigstore's newest trusted_root.json through a TUF update (root rotation, timestamp, " +
        'snapshot and targets verified) into the data folder, where `pier serve` uses it in place ' +
        'of the root shipped with pier (PIER_SIGSTORE_TRUSTED_ROOT still wins); prints the keys ' +
        'that changed. Run it from cron; a failure leaves the root in use unchanged',
    )
    .option('--mirror-url <url>', `the TUF repository (default ${DEFAULT_MIRROR_URL})`)
    .option(
      '--tuf-root <file>',
      "the TUF root.json to trust first, for a mirror other than Sigstore's public-good one",
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: { mirrorUrl?: string; tufRoot?: string; json?: boolean }, cmd: Command) => {
        const config = configFrom(cmd);
        const location = await requireIndex(config);
        process.stderr.write(`pier: index at ${location.where}\n`);
        if (config.sigstoreTrustedRoot !== null)
          process.stderr.write(
            `warning: PIER_SIGSTORE_TRUSTED_ROOT (${config.sigstoreTrustedRoot}) is set: ` +
              'pier serve keeps using it, not the refreshed root\n',
          );
        const result = await refreshTrustRoot({
          dataDir: config.dataDir,
          mirrorUrl: opts.mirrorUrl,
          tufRootPath: opts.tufRoot,
        });
        if (opts.json) console.log(JSON.stringify(refreshJson(result), null, 2));
        else console.log(formatRefresh(result));
      },
    );
}
