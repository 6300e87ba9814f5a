// Everything a pier process holds: the database, the blob store and the services over them.
// The HTTP server and the CLI both start here, so they share one copy of every rule.
import { mkdirSync } from 'node:fs';
import { effectivePublicUrl, type Config } from './config.js';
import { openDatabase, type Db } from './db/connect.js';
import { migrateToLatest, schemaStatus } from './db/migrate.js';
import { openBlobStore, type BlobStore } from './storage/blob-store.js';
import { AuthService } from './auth/service.js';
import { PasswordThrottle } from './auth/password-throttle.js';
import { ProjectService } from './registry/projects.js';
import { OrganizationService } from './orgs/service.js';
import { syncTeamsFromGroups } from './orgs/groups.js';
import { NamespaceService } from './namespaces/service.js';
import { UploadService } from './registry/upload/pipeline.js';
import { ManageService } from './registry/manage.js';
import { SimpleService } from './simple/service.js';
import { JsonApi } from './simple/json-api.js';
import { IssuerService } from './oidc/issuers.js';
import { JwksCache } from './oidc/jwks.js';
import { PublisherService } from './oidc/publishers.js';
import { ExchangeService } from './oidc/exchange.js';
import { oidcAudience, trustedPublishingDisabledReason } from './oidc/audience.js';
import { ProxyService } from './proxy/service.js';
import { openWebServices, type WebServices } from './web/services.js'; // the web interface
import { AttestationService } from './attestations/service.js';
import { loadTrustRoot, type TrustRoot } from './attestations/trust-root.js';
import { SsoService } from './sso/service.js';
import { StagedService } from './registry/staged.js';

export interface Services {
  config: Config;
  db: Db;
  blobs: BlobStore;
  auth: AuthService;
  projects: ProjectService;
  /** Organisations and teams (src/orgs). */
  orgs: OrganizationService;
  /** PEP 752 namespaces (src/namespaces). */
  namespaces: NamespaceService;
  uploads: UploadService;
  manage: ManageService;
  simple: SimpleService;
  jsonApi: JsonApi;
  issuers: IssuerService;
  publishers: PublisherService;
  exchange: ExchangeService;
  /** The issuers' signing keys (the HTTP server sends the detail of failed fetches to its log). */
  jwks: JwksCache;
  /** The caching proxy of an upstream index (src/proxy); disabled without PIER_UPSTREAM_URL. */
  proxy: ProxyService;
  /** The web interface's sessions, second factor and sign-in rate limiting (src/web). */
  web: WebServices;
  /** Company sign-in with OpenID Connect (src/sso); `sso.afterSignIn` runs at each sign-in. */
  sso: SsoService;
  /** PEP 740 attestations: verified at upload, served by the Integrity API (src/attestations). */
  attestations: AttestationService;
  /** Staged releases: uploads that wait for an owner's or maintainer's approval. */
  staged: StagedService;
  /** The Sigstore trust root attestations are verified against (read once, when first asked). */
  trustRoot(): TrustRoot;
  /** The public URL (settable once the listening port is known). */
  publicUrl(): string;
  setListening(address: { host: string; port: number }): void;
  close(): Promise<void>;
}

export class SchemaMismatchError extends Error {}

/**
 * Opens the services. The embedded default (SQLite) migrates its own schema; on PostgreSQL a
 * schema that is older or newer than this pier is refused unless `migrate` is set. `migrate:
 * false` never migrates, only checks (the workers of `pier serve`, whose primary migrated).
 */
export async function openServices(
  config: Config,
  options: { migrate?: boolean } = {},
): Promise<Services> {
  if (config.databaseUrl.startsWith('sqlite:') || config.storageUrl.startsWith('file:'))
    mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(config.databaseUrl);
  try {
    if (options.migrate ?? db.dialect === 'sqlite') await migrateToLatest(db);
    else {
      const status = await schemaStatus(db);
      if (status.unknown.length > 0)
        throw new SchemaMismatchError(
          `The database schema is newer than this pier (it has ${status.unknown.join(', ')}). Upgrade pier.`,
        );
      if (status.pending.length > 0)
        throw new SchemaMismatchError(
          `The database schema is older than this pier (missing ${status.pending.join(', ')}). Run 'pier migrate' first.`,
        );
    }
  } catch (err) {
    await db.close();
    throw err;
  }
  const blobs = await openBlobStore(config.storageUrl);
  let listening: { host: string; port: number } | undefined;
  let publicUrl = effectivePublicUrl(config);
  const getPublicUrl = () => publicUrl;
  const namespaces = new NamespaceService(db.kysely);
  const projects = new ProjectService(
    db.kysely,
    {
      anyUserMayCreateProjects: config.anyUserMayCreateProjects,
      readAccess: config.readAccess,
    },
    namespaces,
  );
  const orgs = new OrganizationService(db.kysely, projects);
  const issuers = new IssuerService(db.kysely);
  const publishers = new PublisherService(db.kysely, issuers, projects, orgs, {
    anyUserMayCreateProjects: config.anyUserMayCreateProjects,
    maxPendingPerUser: config.maxPendingPublishers,
    registrationsPerDay: config.publisherRegistrationsPerDay,
  });
  const jwks = new JwksCache();
  const exchange = new ExchangeService(db.kysely, issuers, jwks, publishers, projects, {
    audience: () => oidcAudience(config.oidcAudience, publicUrl),
    disabledReason: () => trustedPublishingDisabledReason(publicUrl),
    tokenTtlSeconds: config.tokenTtl,
  });
  const auth = new AuthService(
    db.kysely,
    {
      policy: {
        passwordReads: config.basicPasswordReads,
        requireTwoFactorForAdmins: config.requireTwoFactorForAdmins,
        passwordSignIn: config.passwordSignIn,
      },
      throttle: new PasswordThrottle(db.kysely),
    },
    (p, name) => projects.require(name, p),
  );
  let trustRoot: TrustRoot | null = null;
  const getTrustRoot = () =>
    (trustRoot ??= loadTrustRoot(config.sigstoreTrustedRoot, config.dataDir));
  const attestations = new AttestationService(db.kysely, projects, getTrustRoot);
  const sso = new SsoService(db.kysely, config.ssoProviders, getPublicUrl);
  // Each sign-in through a provider makes the user's teams from its groups what they map to.
  sso.afterSignIn.push(async ({ userId, provider, groups }) => {
    await syncTeamsFromGroups(db.kysely, { userId, provider, groups });
  });
  const proxy = new ProxyService(db.kysely, blobs, config, db.hot);
  if (proxy.enabled) projects.upstreamHas = (name) => proxy.existsUpstream(name);
  const web = openWebServices(db.kysely, auth.throttle);
  const staged = new StagedService(db.kysely, blobs, projects, attestations, {
    ttlSeconds: config.stagedTtl,
    publicUrl: getPublicUrl,
    secondFactor: (user, code) => web.twoFactor.verify(user, code),
  });
  return {
    config,
    db,
    blobs,
    auth,
    projects,
    orgs,
    namespaces,
    uploads: new UploadService(
      db.kysely,
      blobs,
      projects,
      attestations,
      {
        maxUploadSize: config.maxUploadSize,
        anyUserMayCreateProjects: config.anyUserMayCreateProjects,
        allowLocalVersions: true,
      },
      staged,
    ),
    manage: new ManageService(db.kysely, blobs, projects),
    simple: new SimpleService(db.kysely, db.hot, projects, namespaces, getPublicUrl),
    jsonApi: new JsonApi(db.kysely, getPublicUrl),
    issuers,
    publishers,
    exchange,
    jwks,
    proxy,
    web,
    sso,
    attestations,
    staged,
    trustRoot: getTrustRoot,
    publicUrl: getPublicUrl,
    setListening(address) {
      listening = address;
      publicUrl = effectivePublicUrl(config, listening);
    },
    async close() {
      await proxy.drain();
      blobs.close();
      await db.close();
    },
  };
}
