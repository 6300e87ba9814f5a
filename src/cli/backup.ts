// `pier backup FOLDER [--with-blobs] [--json]`: a consistent copy of the running index
// (src/backup.ts), restored with `pier transfer --data-dir FOLDER` (docs/operations.md).
import type { Command } from 'commander';
import type { Services } from '../services.js';
import { backupIndex, BackupError } from '../backup.js';
import { forTerminal, jsonForTerminal } from './terminal.js';
import { pierVersion } from './version.js';

export function registerBackupCommand(
  program: Command,
  openIndex: (cmd: Command) => Promise<Services>,
): void {
  program
    .command('backup <folder>')
    .description(
      'copy the database, consistently and while pier serves, into FOLDER/pier.sqlite3 with a manifest of the files it refers to (checked in the store); restore with pier transfer --data-dir FOLDER',
    )
    .option(
      '--with-blobs',
      'also copy every file into FOLDER/files, verifying its sha256 (default: check that each exists with its size)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (folder: string, opts: { withBlobs?: boolean; json?: boolean }, cmd: Command) => {
      const source = await openIndex(cmd);
      const started = Date.now();
      try {
        const result = await backupIndex(
          source,
          folder,
          { withBlobs: opts.withBlobs === true, pierVersion: pierVersion() },
          (e) => {
            if (e.stage === 'table') console.error(`${e.table}: ${e.rows} rows`);
            else if (e.stage === 'again')
              console.error(
                `${e.deleted} files were deleted after the snapshot: taking the backup again`,
              );
            else if (e.done === e.total || e.done % 1000 === 0)
              console.error(
                `files: ${e.done}/${e.total} ${opts.withBlobs ? 'copied and verified' : 'checked'}`,
              );
          },
        );
        const seconds = (Date.now() - started) / 1000;
        if (opts.json) return console.log(jsonForTerminal({ ...result, seconds }, 2));
        const rows = Object.values(result.tables).reduce((a, b) => a + b, 0);
        console.log(
          forTerminal(
            `backed up ${rows} rows and ${result.blobs} files (${result.bytes} bytes, ${result.with_blobs ? 'copied and verified' : 'checked in the store'}) as of ${result.taken_at} to ${result.folder} in ${seconds.toFixed(1)} s`,
          ),
        );
      } catch (err) {
        if (err instanceof BackupError)
          for (const problem of err.problems.slice(0, 100)) console.error(forTerminal(problem));
        if (err instanceof BackupError && err.problems.length > 100)
          console.error(`… and ${err.problems.length - 100} more`);
        throw err;
      } finally {
        await source.close();
      }
    });
}
