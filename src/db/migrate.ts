// Schema migrations, applied in name order. The embedded default migrates itself on start;
// `pier migrate` applies them explicitly (and on PostgreSQL `pier serve` refuses a schema it
// does not know, rather than changing a shared database behind other processes' backs).
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db, DialectName } from './connect.js';
import { initial } from './migrations/0001-initial.js';
import { trustedPublishing } from './migrations/0002-trusted-publishing.js';
import { oneSdistPerRelease } from './migrations/0003-one-sdist-per-release.js';
import { web } from './migrations/0004-web.js'; // the web interface (src/web)
import { publisherMatching } from './migrations/0005-publisher-matching.js';
import { namespaces } from './migrations/0006-namespaces.js'; // PEP 752 (src/namespaces)
import { proxy } from './migrations/0007-proxy.js'; // the upstream proxy (src/proxy)
import { attestations } from './migrations/0008-attestations.js'; // PEP 740 (src/attestations)
import { publishingPolicies } from './migrations/0009-publishing-policies.js';
import { sso } from './migrations/0010-sso.js'; // company sign-in (src/sso)
import { organizations } from './migrations/0011-organizations.js'; // src/orgs
import { stagedReleases } from './migrations/0012-staged-releases.js'; // src/registry/staged
import { organizationPublishers } from './migrations/0013-organization-publishers.js'; // src/oidc/org-wide

export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001-initial': initial(dialect),
    '0002-trusted-publishing': trustedPublishing(dialect),
    '0003-one-sdist-per-release': oneSdistPerRelease,
    '0004-web': web(dialect),
    '0005-publisher-matching': publisherMatching(dialect),
    '0006-namespaces': namespaces(dialect),
    '0007-proxy': proxy,
    '0008-attestations': attestations(dialect),
    '0009-publishing-policies': publishingPolicies,
    '0010-sso': sso(dialect),
    '0011-organizations': organizations(dialect),
    '0012-staged-releases': stagedReleases(dialect),
    '0013-organization-publishers': organizationPublishers(),
  };
}

function migrator(db: Db): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(db.dialect) };
  return new Migrator({ db: db.kysely, provider });
}

export interface SchemaStatus {
  applied: string[];
  pending: string[];
  /** Migrations recorded in the database that this version of pier does not know. */
  unknown: string[];
}

export async function schemaStatus(db: Db): Promise<SchemaStatus> {
  const infos = await migrator(db).getMigrations();
  const known = new Set(Object.keys(migrations(db.dialect)));
  const applied = infos.filter((m) => m.executedAt !== undefined).map((m) => m.name);
  const pending = infos.filter((m) => m.executedAt === undefined).map((m) => m.name);
  let recorded: string[] = [];
  try {
    const rows = await db.kysely
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .execute();
    recorded = rows.map((r) => (r as { name: string }).name);
  } catch {
    recorded = [];
  }
  return { applied, pending, unknown: recorded.filter((n) => !known.has(n)) };
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const status = await schemaStatus(db);
  if (status.unknown.length > 0)
    throw new Error(
      `the database has migrations this version of pier does not know (${status.unknown.join(', ')}); ` +
        'run a newer pier',
    );
  // Two processes starting together on a new SQLite file both try to migrate it; SQLite has no
  // lock for that, so the loser of the race waits and finds the work done.
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator(db).migrateToLatest();
    if (!error)
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (attempt >= 5) throw error instanceof Error ? error : new Error(String(error));
    await new Promise((r) => setTimeout(r, 100 * attempt));
    if ((await schemaStatus(db)).pending.length === 0) return [];
  }
}
