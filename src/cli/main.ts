// The `pier` command line. Management commands act directly on the configured database and
// blob store as the operator; the same operations are available to credentials through /api/.
import { forTerminal, jsonForTerminal, terminalRow } from './terminal.js';
import { providerJson } from '../sso/service.js';
import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, parseDuration, type Config } from '../config.js';
import { openServices, type Services } from '../services.js';
import { PierError } from '../errors.js';
import type { Actor } from '../audit/log.js';
import { isScope } from '../auth/principal.js';
import { ROLES, type Role } from '../auth/permissions.js';
import { PROJECT_STATUSES, projectSummary, type ProjectStatus } from '../registry/projects.js';
import { userJson } from '../auth/users.js';
import { newTokenJson, userRemovalJson } from '../auth/service.js';
import { queryAudit } from '../audit/log.js';
import { migrateToLatest, schemaStatus } from '../db/migrate.js';
import { openDatabase } from '../db/connect.js';
import { openBlobStore } from '../storage/blob-store.js';
import { transferIndex, TransferError } from '../transfer.js';
import { registerBackupCommand } from './backup.js';
import { BackupError } from '../backup.js';
import { registerUpstreamCommands } from './upstream.js';
import { registerAttestationsCommands } from './attestations.js';
import { registerTrustedPublishingCommands } from './trusted-publishing.js';
import { registerNamespaceCommands } from './namespaces.js';
import { registerOrganizationCommands } from './organizations.js';
import { registerStagedCommands } from './staged.js';
import { DevOidcError, registerDevOidcCommand } from '../dev-oidc/index.js';
import { registerPublishCommand } from '../client/command.js';
import { registerReadTokenCommand } from '../client/read-token-command.js';
import { NoIndexError, requireIndex } from './index-location.js';
import { wholeNumber } from '../client/numeric-option.js';
import { pierVersion } from './version.js';
import { ImportService, formatImportReport } from '../registry/import/importer.js';
import {
  IMPORT_FORMATS,
  ImportSourceError,
  type ImportFormat,
} from '../registry/import/sources.js';

const OPERATOR: Actor = { principal: { kind: 'operator', name: safeUsername() }, ip: null };

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

interface GlobalFlags {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
  storageUrl?: string;
}

function configFrom(cmd: Command, extra: Partial<Record<keyof Config, unknown>> = {}): Config {
  const g = cmd.optsWithGlobals() as GlobalFlags;
  return loadConfig({
    flags: {
      config: g.config,
      dataDir: g.dataDir,
      databaseUrl: g.databaseUrl,
      storageUrl: g.storageUrl,
      ...extra,
    },
  });
}

/** Opens the index a management command acts on; only `serve` and `migrate` create one. */
async function openExistingIndex(config: Config): Promise<Services> {
  const location = await requireIndex(config);
  process.stderr.write(`pier: index at ${location.where}\n`);
  return openServices(config);
}

async function withServices<T>(cmd: Command, fn: (s: Services) => Promise<T>): Promise<T> {
  const s = await openExistingIndex(configFrom(cmd));
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function buildProgram(): Command {
  const program = new Command('pier')
    .description('A self-hosted Python package index with trusted publishing')
    .option(
      '--config <file>',
      'pier.toml to read (default: ./pier.toml if present; env PIER_CONFIG)',
    )
    .option('--data-dir <dir>', 'data directory (env PIER_DATA_DIR, default ./pier-data)')
    .option('--database-url <url>', 'sqlite:///path or postgres://… (env PIER_DATABASE_URL)')
    .option('--storage-url <url>', 'file:///path or s3://bucket/prefix?… (env PIER_STORAGE_URL)')
    .version(pierVersion(), '-V, --version', 'print the version of pier')
    .helpCommand(false)
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });

  program
    .command('serve')
    .description('run the index server')
    .option('--host <host>', 'listen address (env PIER_HOST, default 127.0.0.1)')
    .option('--port <port>', 'listen port (env PIER_PORT, default 8080)')
    .option('--public-url <url>', 'URL clients reach the index at (env PIER_PUBLIC_URL)')
    .option('--read-access <mode>', 'public or authenticated (env PIER_READ_ACCESS)')
    .option(
      '--max-upload-size <size>',
      'largest accepted file, e.g. 100MiB (env PIER_MAX_UPLOAD_SIZE)',
    )
    .option(
      '--upstream-url <url>',
      "an upstream index's Simple root to proxy, e.g. https://pypi.org/simple/ (env PIER_UPSTREAM_URL)",
    )
    .option(
      '--workers <n>',
      'server processes on the port (env PIER_WORKERS; default one per core, 1 for an in-memory database)',
    )
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      // The server (HTTP framework, routes, web pages) is loaded only by the command that runs
      // it: every other command starts without it.
      const { serve } = await import('./serve.js');
      await serve(
        configFrom(cmd, {
          host: opts.host,
          port: opts.port,
          publicUrl: opts.publicUrl,
          readAccess: opts.readAccess,
          maxUploadSize: opts.maxUploadSize,
          upstreamUrl: opts.upstreamUrl,
          workers: opts.workers,
        }),
      );
    });

  program
    .command('migrate')
    .description('apply database schema migrations')
    .action(async (_opts, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.databaseUrl);
      try {
        const applied = await migrateToLatest(db);
        const status = await schemaStatus(db);
        console.log(
          applied.length
            ? `applied: ${applied.join(', ')}`
            : `the schema is up to date (${status.applied.length} migrations)`,
        );
      } finally {
        await db.close();
      }
    });

  program
    .command('transfer')
    .description(
      'copy this index into other storage (e.g. SQLite and a folder to PostgreSQL and S3, or back), verifying every file by hash',
    )
    .requiredOption(
      '--to-database-url <url>',
      'the target database (migrated here; must hold no index yet)',
    )
    .requiredOption('--to-storage-url <url>', 'the target blob storage')
    .action(async (opts: { toDatabaseUrl: string; toStorageUrl: string }, cmd: Command) => {
      const source = await openExistingIndex(configFrom(cmd));
      const targetDb = openDatabase(opts.toDatabaseUrl);
      const targetBlobs = await openBlobStore(opts.toStorageUrl);
      try {
        await migrateToLatest(targetDb);
        const started = Date.now();
        const result = await transferIndex(source, { db: targetDb, blobs: targetBlobs }, (e) => {
          if (e.stage === 'blob') {
            if (e.done === e.total || e.done % 100 === 0)
              console.error(`files: ${e.done}/${e.total} copied and verified`);
          } else console.error(`${e.table}: ${e.rows} rows`);
        });
        console.error(
          `transferred ${result.files} files and ${Object.values(result.rows).reduce((a, b) => a + b, 0)} rows to ${targetDb.describe} and ${targetBlobs.describe} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      } finally {
        targetBlobs.close();
        await targetDb.close();
        await source.close();
      }
    });

  registerBackupCommand(program, (cmd) => openExistingIndex(configFrom(cmd)));

  // ------------------------------------------------------------------ users
  const user = program.command('user').description('manage users');
  user
    .command('add <name>')
    .description('add a user (prints a generated password unless --password-stdin)')
    .option('--admin', 'make the user an administrator')
    .option('--may-create-projects', 'let the user create projects by uploading')
    .option('--password-stdin', 'read the password from standard input')
    .action(
      async (
        name: string,
        opts: { admin?: boolean; mayCreateProjects?: boolean; passwordStdin?: boolean },
        cmd: Command,
      ) => {
        const password = opts.passwordStdin ? await readStdin() : null;
        await withServices(cmd, async (s) => {
          const { user: created, generatedPassword } = await s.auth.addUser(OPERATOR, {
            username: name,
            password,
            admin: opts.admin,
            mayCreateProjects: opts.mayCreateProjects,
          });
          console.error(
            `added user '${created.username}'${created.is_admin ? ' (administrator)' : ''}`,
          );
          if (generatedPassword) console.log(generatedPassword);
        });
      },
    );
  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const users = await s.auth.listUsers();
        if (opts.json) return console.log(jsonForTerminal(users.map(userJson), 2));
        for (const u of users)
          console.log(
            forTerminal(
              [
                u.username,
                u.is_admin ? 'admin' : '',
                u.may_create_projects ? 'may-create-projects' : '',
                u.disabled ? 'disabled' : '',
              ]
                .filter(Boolean)
                .join('  '),
            ),
          );
      }),
    );
  user
    .command('set <name>')
    .description('change a user')
    .addOption(new Option('--admin', 'make an administrator'))
    .addOption(new Option('--no-admin', 'remove administrator rights'))
    .addOption(new Option('--may-create-projects', 'allow creating projects'))
    .addOption(new Option('--no-may-create-projects', 'disallow creating projects'))
    .option('--disable', 'disable the account (its tokens stop working)')
    .option('--enable', 'enable the account')
    .option('--password-stdin', 'set the password from standard input')
    .action(async (name: string, opts: Record<string, boolean | undefined>, cmd: Command) => {
      const password = opts.passwordStdin ? await readStdin() : undefined;
      await withServices(cmd, async (s) => {
        if (password !== undefined) await s.auth.setPassword(OPERATOR, name, password);
        await s.auth.updateUser(OPERATOR, name, {
          admin: cmd.getOptionValueSource('admin') === 'cli' ? opts.admin : undefined,
          mayCreateProjects:
            cmd.getOptionValueSource('mayCreateProjects') === 'cli'
              ? opts.mayCreateProjects
              : undefined,
          disabled: opts.disable ? true : opts.enable ? false : undefined,
        });
        console.error(`updated user '${name}'`);
      });
    });

  user
    .command('remove <name>')
    .description(
      'remove a user: their roles, web sessions, namespace grants and pending publishers go, their tokens are revoked (refused while they are the last owner of a project)',
    )
    .option('--json', 'print what was removed as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const r = await s.auth.removeUser(OPERATOR, name);
        if (opts.json) return console.log(jsonForTerminal(userRemovalJson(r), 2));
        console.error(
          forTerminal(
            `removed user '${r.username}'` +
              (r.roles.length
                ? `; roles: ${r.roles.map((x) => `${x.role} of ${x.project}`).join(', ')}`
                : '') +
              (r.tokensRevoked.length ? `; tokens revoked: ${r.tokensRevoked.join(', ')}` : '') +
              (r.pendingPublishersRemoved.length
                ? `; pending publishers removed: ${r.pendingPublishersRemoved.join(', ')}`
                : '') +
              (r.namespaces.length ? `; namespace grants ended: ${r.namespaces.join(', ')}` : ''),
          ),
        );
      }),
    );

  // ------------------------------------------------------------------ company sign-in
  const sso = program
    .command('sso')
    .description(
      'company sign-in (OpenID Connect providers are configured in pier.toml [sso.NAME])',
    );
  sso
    .command('list')
    .description("the configured providers (never their client secrets), or a user's identities")
    .option('--user <name>', 'list the provider identities linked to this user')
    .option('--json', 'print JSON')
    .action(async (opts: { user?: string; json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        if (opts.user !== undefined) {
          const user = await s.auth.requireUser(opts.user);
          const ids = await s.sso.identitiesOf(user.id);
          if (opts.json) return console.log(jsonForTerminal(ids, 2));
          for (const i of ids)
            console.log(
              forTerminal(
                `${i.provider}  ${i.issuer}  ${i.subject}  groups: ${i.groups.join(',') || '-'}`,
              ),
            );
          return;
        }
        const rows = s.sso.providers.map((p) => providerJson(p, s.sso.redirectUri(p.name)));
        if (opts.json) return console.log(jsonForTerminal(rows, 2));
        for (const r of rows)
          console.log(
            forTerminal(
              `${r.name}  ${r.issuer}  client ${r.client_id}  redirect ${r.redirect_uri}`,
            ),
          );
      }),
    );
  sso
    .command('link <user>')
    .description(
      "let an existing pier user sign in through a provider: links the provider's subject (the ID token's `sub`) to the user",
    )
    .requiredOption('--provider <name>', 'the provider, as named in pier.toml [sso.NAME]')
    .requiredOption('--subject <sub>', "the user's subject at the provider (its `sub` claim)")
    .action(async (name: string, opts: { provider: string; subject: string }, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.sso.link(OPERATOR, {
          username: name,
          provider: opts.provider,
          subject: opts.subject,
        });
        console.error(
          forTerminal(`linked user '${name}' to ${opts.provider} subject ${opts.subject}`),
        );
      }),
    );

  // ------------------------------------------------------------------ tokens
  const token = program.command('token').description('manage API tokens');
  registerReadTokenCommand(token);
  token
    .command('create')
    .description('create an API token and print it (it is shown only once)')
    .requiredOption('--user <name>', 'the user the token acts for')
    .option('--scope <scope>', 'read, upload or admin', 'upload')
    .option('--project <names...>', 'limit the token to these projects', [])
    .option('--expires-in <duration>', 'lifetime, e.g. 30d, 12h, 900 (default: no expiry)')
    .option('--name <text>', 'a name to recognise the token by')
    .option('--json', 'print the token and its id, user, scope, projects and expiry as JSON')
    .action(
      async (
        opts: {
          user: string;
          scope: string;
          project: string[];
          expiresIn?: string;
          name?: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (!isScope(opts.scope))
          throw new PierError(400, `Unknown scope '${opts.scope}': use read, upload or admin`);
        const expiresInSeconds =
          opts.expiresIn === undefined ? null : parseDuration(opts.expiresIn, '--expires-in');
        await withServices(cmd, async (s) => {
          const created = await s.auth.createToken(OPERATOR, {
            username: opts.user,
            name: opts.name,
            scope: opts.scope as 'read' | 'upload' | 'admin',
            projects: opts.project,
            expiresInSeconds,
          });
          if (opts.json) return console.log(jsonForTerminal(newTokenJson(created), 2));
          console.error(
            `created token ${created.id} for '${opts.user}' (scope ${created.scope}` +
              (created.projects.length ? `, projects ${created.projects.join(', ')}` : '') +
              (created.expiresAt ? `, expires ${new Date(created.expiresAt).toISOString()}` : '') +
              ')',
          );
          console.log(created.token);
        });
      },
    );
  token
    .command('list')
    .description('list tokens (never their secret)')
    .option('--user <name>', 'only this user’s tokens')
    .option('--json', 'print JSON')
    .action(async (opts: { user?: string; json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const userId = opts.user ? (await s.auth.requireUser(opts.user)).id : undefined;
        const tokens = await s.auth.listTokens({ userId });
        if (opts.json) return console.log(jsonForTerminal(tokens, 2));
        for (const t of tokens)
          console.log(
            terminalRow([
              t.id,
              `${t.prefix}…`,
              t.user ?? (t.publisherId === null ? '(removed user)' : `publisher ${t.publisherId}`),
              t.scope,
              t.projects?.join(',') ?? '*',
              t.revokedAt ? 'revoked' : t.expiresAt ? `expires ${t.expiresAt}` : '',
              t.name,
            ]),
          );
      }),
    );
  token
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>', 'the token id (pier token list)', wholeNumber({ min: 1 }))
    .action(async (id: number, _opts, cmd: Command) =>
      withServices(cmd, async (s) => {
        await s.auth.revokeToken(OPERATOR, id);
        console.error(`revoked token ${id}`);
      }),
    );

  // ------------------------------------------------------------------ projects
  const project = program.command('project').description('manage projects');
  project
    .command('create <name>')
    .description('create a project')
    .requiredOption('--owner <user>', 'its first owner')
    .option(
      '--shadow-upstream',
      'create it even though the upstream index has a project of this name (it replaces that one for everyone)',
    )
    .action(async (name: string, opts: { owner: string; shadowUpstream?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const created = await s.projects.create(OPERATOR, name, opts.owner, {
          shadowUpstream: opts.shadowUpstream === true,
        });
        console.error(`created project '${created.name}' owned by '${opts.owner}'`);
      }),
    );
  project
    .command('list')
    .description('list projects')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const projects = (await s.projects.listVisible(OPERATOR.principal)).map(projectSummary);
        if (opts.json) return console.log(jsonForTerminal(projects, 2));
        for (const p of projects)
          console.log(terminalRow([p.name, p.private ? 'private' : 'public', p.status]));
      }),
    );
  project
    .command('set <name>')
    .description('change a project')
    .option('--private', 'visible only to its members and their tokens')
    .option('--public', 'visible to every reader')
    .addOption(new Option('--status <status>', 'PEP 792 status').choices([...PROJECT_STATUSES]))
    .option(
      '--trusted-publishing-only',
      'uploads only from its trusted publishers: API tokens and passwords cannot upload',
    )
    .option('--no-trusted-publishing-only', 'API tokens of its owners and maintainers upload too')
    .option(
      '--require-attestations',
      'refuse uploads without a PEP 740 attestation from a trusted publisher',
    )
    .option('--no-require-attestations', 'accept uploads without attestations (the default)')
    .option(
      '--stage-uploads',
      'stage every upload: installers see a release once an owner or maintainer approves it',
    )
    .option('--no-stage-uploads', 'publish uploads at once (the default)')
    .action(
      async (
        name: string,
        opts: {
          private?: boolean;
          public?: boolean;
          status?: string;
          trustedPublishingOnly?: boolean;
          requireAttestations?: boolean;
          stageUploads?: boolean;
        },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          const updated = await s.projects.update(OPERATOR, name, {
            private: opts.private ? true : opts.public ? false : undefined,
            status: opts.status as ProjectStatus | undefined,
            trustedPublishingOnly: opts.trustedPublishingOnly,
            requireAttestations: opts.requireAttestations,
            stageUploads: opts.stageUploads,
          });
          console.error(
            `project '${updated.name}': ${updated.private ? 'private' : 'public'}, ${updated.status}` +
              (updated.trusted_publishing_only === 1 ? ', trusted-publishing-only' : '') +
              (updated.require_attestations === 1 ? ', attestations required' : '') +
              (updated.stage_uploads === 1 ? ', uploads staged' : ''),
          );
        }),
    );
  project
    .command('role <name> <user>')
    .description('give a user a role in a project, or remove it')
    .addOption(new Option('--role <role>', 'owner or maintainer').choices([...ROLES]))
    .option('--remove', 'remove the user from the project')
    .action(
      async (
        name: string,
        username: string,
        opts: { role?: string; remove?: boolean },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          if (opts.remove) {
            await s.projects.removeRole(OPERATOR, name, username);
            console.error(`removed '${username}' from '${name}'`);
          } else {
            if (!opts.role) throw new PierError(400, 'Give --role owner|maintainer, or --remove');
            await s.projects.setRole(OPERATOR, name, username, opts.role as Role);
            console.error(`'${username}' is now ${opts.role} of '${name}'`);
          }
        }),
    );

  // ------------------------------------------------------------------ releases
  program
    .command('yank <project> <version>')
    .description('yank a release (PEP 592): installers skip it unless pinned exactly')
    .option('--reason <text>', 'why, shown to installers')
    .action(async (name: string, version: string, opts: { reason?: string }, cmd: Command) =>
      withServices(cmd, async (s) => {
        const r = await s.manage.setYanked(OPERATOR, name, version, true, opts.reason);
        console.error(`yanked ${r.project} ${r.version}`);
      }),
    );
  program
    .command('unyank <project> <version>')
    .description('undo a yank')
    .action(async (name: string, version: string, _opts, cmd: Command) =>
      withServices(cmd, async (s) => {
        const r = await s.manage.setYanked(OPERATOR, name, version, false);
        console.error(`unyanked ${r.project} ${r.version}`);
      }),
    );
  program
    .command('delete <project> <version> [filename]')
    .description('delete a release, or one file of it (its filename can never be used again)')
    .action(
      async (name: string, version: string, filename: string | undefined, _opts, cmd: Command) =>
        withServices(cmd, async (s) => {
          const r = await s.manage.delete(OPERATOR, name, version, filename);
          console.error(
            `deleted from ${r.project} ${r.version}: ${r.deleted.join(', ') || '(no files)'}`,
          );
        }),
    );

  // ------------------------------------------------------------------ import
  program
    .command('import <folder>')
    .description(
      'bring the files of a pypiserver folder, a devpi export or a folder of distributions over, ' +
        'keeping upload times, yanks and hashes; prints one line per file and the counts',
    )
    .requiredOption('--owner <user>', 'the owner of the projects the import creates')
    .addOption(
      new Option(
        '--from <format>',
        'the layout (default: devpi when dataindex.json is there)',
      ).choices([...IMPORT_FORMATS]),
    )
    .option(
      '--legacy',
      "also accept files from before today's rules (non-normalized names, Metadata-Version 2.0)",
    )
    .option('--json', 'print the report as JSON')
    .action(
      async (
        folder: string,
        opts: { owner: string; from?: string; legacy?: boolean; json?: boolean },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          const importer = new ImportService(s.db.kysely, s.uploads);
          const report = await importer.run(OPERATOR, folder, {
            format: (opts.from as ImportFormat | undefined) ?? null,
            owner: opts.owner,
            legacy: opts.legacy ?? false,
          });
          if (opts.json) console.log(jsonForTerminal(report, 2));
          else for (const line of formatImportReport(report)) console.log(forTerminal(line));
          if (report.counts.refused > 0) process.exitCode = 1;
        }),
    );

  program
    .command('audit')
    .description('show the audit log, newest first')
    .option('--project <name>', 'only this project')
    .option('--action <action>', 'only this action (upload, yank, token-create, …)')
    .option('--limit <n>', 'how many events', wholeNumber({ min: 1 }), 100)
    .option('--json', 'print JSON lines')
    .action(
      async (
        opts: { project?: string; action?: string; limit: number; json?: boolean },
        cmd: Command,
      ) =>
        withServices(cmd, async (s) => {
          const projectId = opts.project
            ? (await s.projects.require(opts.project, OPERATOR.principal)).id
            : undefined;
          const events = await queryAudit(s.db.kysely, {
            projectId,
            action: opts.action,
            limit: opts.limit,
          });
          for (const e of events) {
            if (opts.json) console.log(jsonForTerminal(e));
            else
              console.log(
                forTerminal(
                  `${e.at}  ${e.action.padEnd(16)} ${e.actor}${e.project ? `  ${e.project}` : ''}${e.ip ? `  from ${e.ip}` : ''}  `,
                ) + jsonForTerminal(e.details),
              );
          }
        }),
    );

  registerUpstreamCommands(program, withServices, OPERATOR);
  registerAttestationsCommands(program, (cmd) => configFrom(cmd));
  registerTrustedPublishingCommands(program, withServices, OPERATOR);
  registerNamespaceCommands(program, withServices, OPERATOR);
  registerOrganizationCommands(program, withServices, OPERATOR);
  registerStagedCommands(program, withServices, OPERATOR);
  registerDevOidcCommand(program);
  registerPublishCommand(program);

  program
    .command('help [command...]')
    .description('show the help of a command, e.g. pier help publisher add')
    .action((names: string[]) => {
      let target: Command = program;
      for (const name of names) {
        const next = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!next)
          throw new PierError(
            400,
            `unknown command '${[...names.slice(0, names.indexOf(name) + 1)].join(' ')}'; see pier --help`,
          );
        target = next;
      }
      target.outputHelp();
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (
      err instanceof PierError ||
      err instanceof ConfigError ||
      err instanceof DevOidcError ||
      err instanceof NoIndexError ||
      err instanceof TransferError ||
      err instanceof BackupError ||
      err instanceof ImportSourceError
    ) {
      console.error(`error: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
