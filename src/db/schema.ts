// The database schema as Kysely sees it. Times are integer milliseconds since the epoch,
// booleans are 0/1 integers and JSON is text, so that SQLite and PostgreSQL store the same values.
import type { Generated, Selectable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** Lowercased username, unique: 'Alice' and 'alice' are the same account. */
  username_key: string;
  password_hash: string | null;
  is_admin: number;
  may_create_projects: number;
  disabled: number;
  created_at: number;
  // --- the web interface's second factor (src/web/totp.ts, migration 0004-web) ---
  /** Base32 TOTP secret: set at enrolment, in use once totp_enabled_at is set. */
  totp_secret: string | null;
  totp_enabled_at: number | null;
  /** The last TOTP time step accepted: a code is never accepted twice. */
  totp_last_step: number | null;
}

export interface ProjectsTable {
  id: Generated<number>;
  /** Display name, as last uploaded. */
  name: string;
  /** PEP 503 normalized name, unique. */
  normalized_name: string;
  /** PyPI's "ultranormalized" form, for the too-similar rule. */
  similarity_key: string;
  private: number;
  /** PEP 792 status: active, archived, quarantined, deprecated. */
  status: string;
  /** 1: uploads only from the project's trusted publishers (no API token, no password). */
  trusted_publishing_only: Generated<number>;
  created_at: number;
  /** Serial of the project's last change (see the journal). */
  last_serial: number;
  /** 1: uploads must carry a PEP 740 attestation that verifies (migration 0008-attestations). */
  require_attestations: Generated<number>;
  /** The organisation that owns the project, if any (migration 0011-organizations). */
  organization_id: number | null;
  /** 1: every upload is staged until an owner or maintainer approves it (0012-staged-releases). */
  stage_uploads: Generated<number>;
}

export interface ProjectRolesTable {
  project_id: number;
  user_id: number;
  /** owner | maintainer */
  role: string;
  created_at: number;
}

export interface ReleasesTable {
  id: Generated<number>;
  project_id: number;
  /** Normalized version string: str(packaging.version.Version). */
  version: string;
  /** canonicalize_version: trailing zeros stripped; identifies the release. */
  canonical_version: string;
  is_prerelease: number;
  requires_python: string | null;
  summary: string | null;
  /** The core metadata of the release's first upload, as JSON. */
  metadata_json: string;
  yanked: number;
  yanked_reason: string | null;
  created_at: number;
}

export interface FilesTable {
  id: Generated<number>;
  project_id: number;
  release_id: number;
  filename: string;
  /** sdist | bdist_wheel */
  packagetype: string;
  python_version: string;
  requires_python: string | null;
  size: number;
  md5: string;
  sha256: string;
  blake2_256: string;
  blob_key: string;
  /** Hashes of the wheel's METADATA (PEP 658), null for sdists. */
  metadata_sha256: string | null;
  metadata_blake2_256: string | null;
  comment: string | null;
  uploaded_at: number;
  uploader_user_id: number | null;
  uploader_token_id: number | null;
  /** For trusted publishing uploads: the publisher and the claims identifying the run (JSON). */
  provenance_json: string | null;
}

export interface FileMetadataTable {
  file_id: number;
  content: Uint8Array;
}

/** Every filename ever accepted, kept after deletion: filenames are never reusable. */
export interface FilenameRegistryTable {
  filename: string;
  blake2_256: string;
  created_at: number;
}

export interface TokensTable {
  id: Generated<number>;
  user_id: number | null;
  /** Set for tokens minted by a trusted-publishing exchange. */
  publisher_id: number | null;
  name: string;
  /** SHA-256 (hex) of the whole token. */
  token_hash: string;
  /** The first characters of the token, to recognise it in lists. */
  display_prefix: string;
  /** read | upload | admin */
  scope: string;
  /** 1 when the token is limited to the projects in token_projects. */
  project_limited: number;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** For minted tokens: the claims that identify the CI run (JSON). */
  claims_json: string | null;
}

export interface TokenProjectsTable {
  token_id: number;
  project_id: number;
  /** For minted tokens: the publisher that trusts this project (null: tokens.publisher_id). */
  publisher_id: number | null;
}

/** Failed exchanges of tokens that could not be verified, counted per issuer and reason. */
export interface OidcExchangeFailuresTable {
  /** '' when the token named no registered issuer. */
  issuer_url: string;
  code: string;
  count: number;
  last_at: number;
}

/** Registration attempts of trusted publishers (rate limiting), per user and per address. */
export interface PublisherRegistrationsTable {
  id: Generated<number>;
  /** user | ip */
  kind: string;
  key: string;
  at: number;
}

export interface JournalTable {
  id: Generated<number>;
  project_id: number | null;
  action: string;
  at: number;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  action: string;
  /** Who acted, as shown to people: 'alice', 'token 12 (alice)', 'cli', 'publisher 3'. */
  actor: string;
  actor_user_id: number | null;
  actor_token_id: number | null;
  project_id: number | null;
  project_name: string | null;
  ip: string | null;
  details_json: string;
}

export interface OidcIssuersTable {
  id: Generated<number>;
  url: string;
  /** github | gitlab | google | activestate */
  kind: string;
  /** 1 for a plain-HTTP loopback issuer registered with --insecure (development and tests). */
  insecure: number;
  /** Base of the provider's REST API for owner-id lookups, when not derived from the URL. */
  api_url: string | null;
  created_at: number;
}

export interface PublishersTable {
  id: Generated<number>;
  kind: string;
  /** The issuer this publisher trusts, as an exact string: tokens of any other issuer never match. */
  issuer_url: string;
  /** Indexed key to find candidates from a token (provider-specific, e.g. owner/repo). */
  lookup_key: string;
  /** The trust rule as a canonical string (kind, issuer and the provider's identity). */
  identity_key: string;
  config_json: string;
  /** For a pending publisher: the project it will create. */
  pending_name: string | null;
  pending_normalized_name: string | null;
  added_by_user_id: number | null;
  created_at: number;
  /**
   * A pending publisher of an organisation: the project it creates belongs to it (0011); an
   * organisation-wide publisher: the organisation whose projects it trusts (0013).
   */
  organization_id: number | null;
  /** An organisation-wide publisher: the glob its projects' normalized names match (0013). */
  org_wide_pattern: string | null;
}

export interface PublisherProjectsTable {
  publisher_id: number;
  project_id: number;
  created_at: number;
  /** What the job's token may do in the project: `upload` (and read), or `read` only. */
  access: Generated<string>;
  /** 1: the publisher's uploads to this project are staged (migration 0012-staged-releases). */
  stage_only: Generated<number>;
}

export interface OidcJtisTable {
  issuer_url: string;
  jti: string;
  expires_at: number;
}

// --- the web interface (src/web, migration 0004-web) ---
export interface WebSessionsTable {
  id: Generated<number>;
  /** SHA-256 (hex) of the session cookie's random token. */
  token_hash: string;
  user_id: number;
  csrf_token: string;
  /** 1 between a correct password and the TOTP code. */
  pending_2fa: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  /** The company sign-in provider that started the session, or null (migration 0010-sso). */
  sso_provider: string | null;
}

export interface LoginFailuresTable {
  id: Generated<number>;
  /** user | ip */
  kind: string;
  key: string;
  at: number;
}

/** A PEP 752 namespace (src/namespaces, migration 0006-namespaces). */
export interface NamespacesTable {
  id: Generated<number>;
  /** As the administrator reserved it. */
  name: string;
  /** PEP 503 normalized, unique: what project names are matched against. */
  normalized_name: string;
  created_at: number;
}

/** A namespace's owners: the users with an active grant for it. */
export interface NamespaceOwnersTable {
  namespace_id: number;
  user_id: number;
  created_at: number;
}

// --- company sign-in (src/sso, migration 0010-sso) ---
export interface SsoIdentitiesTable {
  id: Generated<number>;
  user_id: number;
  provider: string;
  issuer: string;
  subject: string;
  /** JSON array of strings: the groups claim of the latest sign-in. */
  groups_json: Generated<string>;
  disabled_by_provider: Generated<number>;
  created_at: number;
  last_sign_in_at: number | null;
}

// --- the upstream proxy (src/proxy, migration 0007-proxy) ---
export interface UpstreamPagesTable {
  normalized_name: string;
  found: number;
  files_json: string;
  etag: string | null;
  checked_at: number;
}

export interface UpstreamBlobsTable {
  sha256: string;
  blob_key: string;
  size: number;
  created_at: number;
}

export interface UpstreamExcludesTable {
  pattern: string;
  added_by: string | null;
  created_at: number;
}

// --- PEP 740 attestations (src/attestations, migration 0008-attestations) ---
export interface FileAttestationsTable {
  id: Generated<number>;
  file_id: number;
  position: number;
  predicate_type: string;
  publisher_id: number | null;
  publisher_json: string;
  identity_json: string;
  attestation_json: string;
  created_at: number;
}

// --- organisations and teams (src/orgs, migration 0011-organizations) ---
export interface OrganizationsTable {
  id: Generated<number>;
  name: string;
  /** Lowercased name, unique; never the username_key of a user (src/orgs/names.ts). */
  name_key: string;
  created_at: number;
}

export interface OrganizationMembersTable {
  organization_id: number;
  user_id: number;
  /** owner | member */
  role: string;
  created_at: number;
}

export interface TeamsTable {
  id: Generated<number>;
  organization_id: number;
  name: string;
  name_key: string;
  created_at: number;
}

export interface TeamMembersTable {
  team_id: number;
  user_id: number;
  /** '' for a membership added by hand, else the identity provider whose groups gave it. */
  source: string;
  created_at: number;
}

export interface TeamProjectRolesTable {
  team_id: number;
  project_id: number;
  /** owner | maintainer */
  role: string;
  created_at: number;
}

export interface GroupTeamMappingsTable {
  provider: string;
  group_name: string;
  team_id: number;
  created_at: number;
}

// --- staged releases (src/registry/staged, migration 0012-staged-releases) ---
export type StagedState = 'open' | 'approved' | 'rejected' | 'expired';

/** A staged release: PEP 694's publishing session, one per project and version. */
export interface StagedReleasesTable {
  id: Generated<number>;
  /** Random; names the session and its preview index in URLs. */
  token: string;
  project_id: number;
  version: string;
  canonical_version: string;
  state: StagedState;
  staged_by: string;
  staged_by_token_id: number | null;
  staged_by_publisher_id: number | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  decided_by_user_id: number | null;
  /** JSON list of the filenames it held (kept once its files are gone). */
  filenames_json: Generated<string>;
}

/** A file of a staged release: the columns of `files`, and what approval needs to publish it. */
export interface StagedFilesTable {
  id: Generated<number>;
  staged_release_id: number;
  filename: string;
  packagetype: string;
  python_version: string;
  requires_python: string | null;
  size: number;
  md5: string;
  sha256: string;
  blake2_256: string;
  blob_key: string;
  metadata_sha256: string | null;
  metadata_blake2_256: string | null;
  metadata_content: Uint8Array | null;
  comment: string | null;
  uploaded_at: number;
  uploader_user_id: number | null;
  uploader_token_id: number | null;
  provenance_json: string | null;
  release_metadata_json: string;
  attestations_json: string | null;
}

export interface Database {
  users: UsersTable;
  sso_identities: SsoIdentitiesTable;
  projects: ProjectsTable;
  project_roles: ProjectRolesTable;
  releases: ReleasesTable;
  files: FilesTable;
  file_metadata: FileMetadataTable;
  filename_registry: FilenameRegistryTable;
  tokens: TokensTable;
  token_projects: TokenProjectsTable;
  journal: JournalTable;
  audit_events: AuditEventsTable;
  oidc_issuers: OidcIssuersTable;
  publishers: PublishersTable;
  publisher_projects: PublisherProjectsTable;
  oidc_jtis: OidcJtisTable;
  web_sessions: WebSessionsTable; // the web interface
  login_failures: LoginFailuresTable; // the web interface
  oidc_exchange_failures: OidcExchangeFailuresTable;
  publisher_registrations: PublisherRegistrationsTable;
  namespaces: NamespacesTable; // PEP 752
  namespace_owners: NamespaceOwnersTable; // PEP 752
  upstream_pages: UpstreamPagesTable; // the upstream proxy
  upstream_blobs: UpstreamBlobsTable; // the upstream proxy
  upstream_excludes: UpstreamExcludesTable; // the upstream proxy
  file_attestations: FileAttestationsTable; // PEP 740
  organizations: OrganizationsTable; // src/orgs
  organization_members: OrganizationMembersTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  team_project_roles: TeamProjectRolesTable;
  group_team_mappings: GroupTeamMappingsTable;
  staged_releases: StagedReleasesTable; // staged releases
  staged_files: StagedFilesTable; // staged releases
}

export type User = Selectable<UsersTable>;
export type Project = Selectable<ProjectsTable>;
export type Release = Selectable<ReleasesTable>;
export type FileRow = Selectable<FilesTable>;
export type TokenRow = Selectable<TokensTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type PublisherRow = Selectable<PublishersTable>;
export type IssuerRow = Selectable<OidcIssuersTable>;
export type WebSessionRow = Selectable<WebSessionsTable>;
export type Organization = Selectable<OrganizationsTable>;
export type Team = Selectable<TeamsTable>;
export type StagedReleaseRow = Selectable<StagedReleasesTable>;
export type StagedFileRow = Selectable<StagedFilesTable>;
