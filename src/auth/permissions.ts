// Who may do what: pure functions over the principal, the project and the principal's role in
// it, so each rule is tested as a table. The services load the data and call these.
import type { Project } from '../db/schema.js';
import {
  principalScope,
  principalUser,
  scopeIncludes,
  type Principal,
  type Scope,
} from './principal.js';

export type Role = 'owner' | 'maintainer';
export const ROLES: readonly Role[] = ['owner', 'maintainer'];

export interface ProjectAccess {
  project: Pick<Project, 'id' | 'private' | 'status'>;
  /** The principal's user's effective role in the project (effectiveRole), if any. */
  role: Role | null;
}

/** A member's standing in an organisation: its owners are owners of every project it owns. */
export type OrgRole = 'owner' | 'member';
export const ORG_ROLES: readonly OrgRole[] = ['owner', 'member'];

/** Where a user's roles in one project come from. */
export interface RoleSources {
  /** The user's own role in the project (project_roles). */
  own: Role | null;
  /**
   * The user's role in the organisation that owns the project (null: not a member, or the
   * project belongs to no organisation).
   */
  org: OrgRole | null;
  /** The roles in the project of the teams of that organisation the user is in. */
  teams: readonly Role[];
}

/**
 * A user's effective role in a project: the strongest of their own role, their teams' roles in
 * it, and `owner` for an owner of the organisation that owns it. Membership alone gives none.
 * Every check of a user's role in a project goes through this.
 */
export function effectiveRole({ own, org, teams }: RoleSources): Role | null {
  if (org === 'owner' || own === 'owner' || teams.includes('owner')) return 'owner';
  if (own === 'maintainer' || teams.includes('maintainer')) return 'maintainer';
  return null;
}

function hasScope(p: Principal, need: Scope): boolean {
  const scope = principalScope(p);
  return scope !== null && scopeIncludes(scope, need);
}

/** A token limited to projects covers only those; every other principal covers all. */
export function coversProject(p: Principal, projectId: number): boolean {
  return p.kind !== 'token' || p.projectIds === null || p.projectIds.has(projectId);
}

/** Whether a credential reaches every project: a token limited to projects does not. */
export function coversAllProjects(p: Principal): boolean {
  return p.kind !== 'token' || p.projectIds === null;
}

/** An administrator's user behind an admin-scoped credential, limited to projects or not. */
function actsAsAdministrator(p: Principal): boolean {
  const user = principalUser(p);
  return user !== null && user.is_admin === 1 && hasScope(p, 'admin');
}

/**
 * Site-wide actions (users, passwords, issuers, every publisher, the whole audit log): the
 * operator, or an administrator with an admin-scoped credential that is not limited to projects.
 * An administrator's token limited to projects acts as an administrator on those projects only.
 */
export function isSiteAdmin(p: Principal): boolean {
  if (p.kind === 'operator') return true;
  return actsAsAdministrator(p) && coversAllProjects(p);
}

/**
 * `/metrics` (routes, counts, timings) is for whoever may read the index, or for the addresses
 * the operator allowed: public when reads are, unless an allow-list is configured; otherwise a
 * credential of a user (or the operator), never a token minted for a trusted publisher.
 */
export function mayReadMetrics(
  p: Principal,
  opts: {
    readAccess: 'public' | 'authenticated';
    allowListed: boolean;
    allowListConfigured: boolean;
  },
): boolean {
  if (opts.allowListed) return true;
  if (opts.readAccess === 'public' && !opts.allowListConfigured) return true;
  if (p.kind === 'operator' || p.kind === 'user') return true;
  return p.kind === 'token' && p.token.publisher_id === null && p.user !== null;
}

/** Reading the index as a whole (the project list) needs credentials in authenticated mode. */
export function mayReadIndex(p: Principal, readAccess: 'public' | 'authenticated'): boolean {
  return readAccess === 'public' || p.kind !== 'anonymous';
}

export function mayReadProject(
  p: Principal,
  { project, role }: ProjectAccess,
  readAccess: 'public' | 'authenticated',
): boolean {
  if (!mayReadIndex(p, readAccess)) return false;
  if (project.private !== 1) return true;
  if (p.kind === 'operator') return true;
  if (!hasScope(p, 'read') || !coversProject(p, project.id)) return false;
  const user = principalUser(p);
  if (user?.is_admin === 1) return true;
  if (p.kind === 'token' && p.token.publisher_id !== null) return true; // covered above
  return role !== null;
}

/**
 * PEP 792: a quarantined project's files are offered nowhere — not on its Simple page, in the
 * JSON API, on its web page, nor for download.
 */
export function projectOffersFiles(project: Pick<Project, 'status'>): boolean {
  return project.status !== 'quarantined';
}

/** PEP 792: archived and quarantined projects take no uploads. */
export function projectAcceptsUploads(project: Pick<Project, 'status'>): boolean {
  return project.status === 'active' || project.status === 'deprecated';
}

/** A token minted for a trusted publisher by the OIDC exchange. */
export function isTrustedPublisherToken(p: Principal): boolean {
  return p.kind === 'token' && p.token.publisher_id !== null;
}

/**
 * Trusted-publishing-only projects (crates.io's `trustpub_only`): uploads come from the
 * project's trusted publishers, never from an API token or a password, whoever holds it. The
 * operator (the `pier` command on the server: `pier import`) is not a credential and keeps its
 * right.
 */
export function projectTakesUploadsFrom(
  project: Pick<Project, 'trusted_publishing_only'>,
  p: Principal,
): boolean {
  return (
    project.trusted_publishing_only !== 1 || p.kind === 'operator' || isTrustedPublisherToken(p)
  );
}

/**
 * Whether a trusted publisher's link to a project (its `access`, `upload` or `read`) grants a
 * minted token of `scope` there: every link grants reading (trusted access for installs); only
 * an `upload` link grants uploading. Used at the mint (src/oidc/exchange.ts) and whenever a
 * minted token is used (src/auth/service.ts).
 */
export function linkGrants(access: string, scope: string): boolean {
  return scope === 'read' || access === 'upload';
}

/**
 * Whether the principal may upload to any project at all: checked before an upload's form is
 * read, so that a credential that can never upload costs no more than its headers.
 */
export function mayUploadAtAll(p: Principal): boolean {
  return hasScope(p, 'upload');
}

export function mayUpload(p: Principal, { project, role }: ProjectAccess): boolean {
  if (!hasScope(p, 'upload') || !coversProject(p, project.id)) return false;
  if (p.kind === 'operator') return true;
  // A token minted for a trusted publisher covers exactly its publisher's projects.
  if (p.kind === 'token' && p.token.publisher_id !== null) return p.projectIds !== null;
  const user = principalUser(p);
  return user !== null && (user.is_admin === 1 || role !== null);
}

/** Creating a project by uploading to a new name, or explicitly. */
export function mayCreateProjects(p: Principal, anyUserMayCreateProjects: boolean): boolean {
  if (p.kind === 'operator') return true;
  if (!hasScope(p, 'upload')) return false;
  // A token limited to projects never creates one, and a minted token has no user.
  if (p.kind === 'token' && p.projectIds !== null) return false;
  const user = principalUser(p);
  if (user === null) return false;
  return user.is_admin === 1 || user.may_create_projects === 1 || anyUserMayCreateProjects;
}

/**
 * PEP 752: creating a project in a reserved namespace without a grant is an administrator's
 * explicit choice (the operator, or an administrator's own credential); a trusted publisher's
 * token never makes it, whoever registered the publisher.
 */
export function mayCreateInAnyNamespace(p: Principal): boolean {
  if (p.kind === 'operator') return true;
  if (p.kind === 'token' && p.token.publisher_id !== null) return false;
  return principalUser(p)?.is_admin === 1;
}

/** Yank and unyank: owners and maintainers, with an admin-scoped credential. */
export function mayYank(p: Principal, access: ProjectAccess): boolean {
  return mayManage(p, access, 'maintainer');
}

/** Delete files and releases, change roles, visibility and publishers: owners. */
export function mayAdministerProject(p: Principal, access: ProjectAccess): boolean {
  return mayManage(p, access, 'owner');
}

function mayManage(p: Principal, { project, role }: ProjectAccess, least: Role): boolean {
  if (p.kind === 'operator') return true;
  if (!hasScope(p, 'admin') || !coversProject(p, project.id)) return false;
  if (p.kind === 'token' && p.token.publisher_id !== null) return false;
  // The project is covered (above): an administrator's limited token manages it as one.
  if (actsAsAdministrator(p)) return true;
  return role === 'owner' || (least === 'maintainer' && role === 'maintainer');
}

// ---------------------------------------------------------------- organisations (src/orgs)

/**
 * Creating an organisation, and naming its first owner: an administrator's decision (the
 * operator, or an administrator with an admin-scoped credential for every project), since an
 * organisation's name takes one from the user names too.
 */
export function mayCreateOrganization(p: Principal): boolean {
  return isSiteAdmin(p);
}

/**
 * Registering or removing an organisation-wide trusted publisher (one trust rule for every
 * project an organisation owns, or those matching a name pattern): a site administrator only.
 * Not the organisation's owners: such a publisher also covers every project moved into the
 * organisation later, whose own owners never agreed to trust that job, and its pattern can
 * reach projects whose maintainers the organisation's owners do not administer one by one.
 */
export function mayManageOrganizationPublishers(p: Principal): boolean {
  return isSiteAdmin(p);
}

/**
 * Changing an organisation (its members, teams, team roles, group mappings and pending
 * publishers): its owners, with an admin-scoped credential of their own that is not limited
 * to projects, and site administrators. A minted token never does.
 */
export function mayAdministerOrganization(p: Principal, role: OrgRole | null): boolean {
  if (isSiteAdmin(p)) return true;
  if (!hasScope(p, 'admin') || !coversAllProjects(p)) return false;
  if (isTrustedPublisherToken(p)) return false;
  return principalUser(p) !== null && role === 'owner';
}

/** Seeing an organisation's members, teams and projects: its members and administrators. */
export function mayReadOrganization(p: Principal, role: OrgRole | null): boolean {
  if (p.kind === 'operator') return true;
  if (!hasScope(p, 'read') || isTrustedPublisherToken(p)) return false;
  if (principalUser(p)?.is_admin === 1) return true;
  return role !== null;
}

/**
 * Moving a project into an organisation takes both sides: an owner of the project and an owner
 * of the organisation (PyPI's rule), or an administrator.
 */
export function mayTransferProjectToOrganization(
  p: Principal,
  access: ProjectAccess,
  orgRole: OrgRole | null,
): boolean {
  return mayAdministerProject(p, access) && mayAdministerOrganization(p, orgRole);
}

/**
 * Staged releases (docs/trusted-publishing.md): whether an upload lands in a staged release
 * instead of the index. Every upload to a project with the `stage_uploads` policy; a trusted
 * publisher's uploads when its link to the project is `stage_only`. The operator's own uploads
 * (`pier import`) are never staged: the operator is the approver.
 */
export function uploadIsStaged(
  project: Pick<Project, 'stage_uploads'>,
  p: Principal,
  publisherLink: { stage_only: number } | null,
): boolean {
  if (p.kind === 'operator') return false;
  if (project.stage_uploads === 1) return true;
  return isTrustedPublisherToken(p) && publisherLink?.stage_only === 1;
}

/**
 * Approving or rejecting a staged release: owners and maintainers (and administrators), with an
 * admin-scoped credential of a person. A token minted for a trusted publisher never decides,
 * whoever registered the publisher: the point of staging is a human's decision.
 */
export function mayDecideStaged(p: Principal, access: ProjectAccess): boolean {
  return mayManage(p, access, 'maintainer');
}

/**
 * The preview of a staged release (its Simple index and files): the project's owners and
 * maintainers (and administrators) with any credential of theirs that reads the project; never
 * a minted token, nor anyone else who may read the project.
 */
export function mayPreviewStaged(p: Principal, { project, role }: ProjectAccess): boolean {
  if (p.kind === 'operator') return true;
  if (!hasScope(p, 'read') || !coversProject(p, project.id)) return false;
  if (isTrustedPublisherToken(p)) return false;
  const user = principalUser(p);
  if (user === null) return false;
  return user.is_admin === 1 || role !== null;
}

/**
 * Whether a decision on a staged release needs the deciding user's second factor: whenever the
 * user has one enrolled, whatever the credential (password, session or API token). The
 * operator has no second factor at the server's command line.
 */
export function decisionNeedsSecondFactor(p: Principal): boolean {
  const user = principalUser(p);
  return user !== null && user.totp_enabled_at !== null && user.totp_secret !== null;
}
