/**
 * PEP 752 (implicit namespaces for package repositories, accepted 2026-06-29): which project
 * names a namespace covers, which reservations may coexist, who may create a project in one, and
 * what the JSON API says about them. Pure functions over plain data: the service
 * (src/namespaces/service.ts) loads the grants and asks.
 *
 * Spec: peps/pep-0752.rst, "Naming", "Semantics", "Uploads" and "Repository Metadata".
 */
import { isValidProjectName, normalizeProjectName } from '../packaging/names.js';

/**
 * The most hyphens a namespace may have. The PEP says repositories SHOULD impose a depth limit
 * ("if the depth limit is 1 then the namespace foo-bar would be allowed but foo-bar-baz could
 * not be granted"); two allows `acme-cloud-storage` and keeps parents and children few.
 */
export const MAX_NAMESPACE_DEPTH = 2;

/** A reservation as the rules see it: its normalized name and the ids of its owners. */
export interface Grant {
  name: string;
  ownerIds: readonly number[];
}

export type NamespaceNameCheck = { ok: true; normalized: string } | { ok: false; reason: string };

/**
 * "A namespace MUST be a valid project name and normalized internally e.g. foo.bar would become
 * foo-bar", within the depth limit.
 */
export function checkNamespaceName(name: string): NamespaceNameCheck {
  if (!isValidProjectName(name))
    return { ok: false, reason: `The namespace '${name}' is not a valid project name.` };
  const normalized = normalizeProjectName(name);
  if (namespaceDepth(normalized) > MAX_NAMESPACE_DEPTH)
    return {
      ok: false,
      reason: `The namespace '${name}' is too deep: at most ${MAX_NAMESPACE_DEPTH} hyphens.`,
    };
  return { ok: true, normalized };
}

/** The number of hyphens of a normalized namespace. */
export function namespaceDepth(normalized: string): number {
  return normalized.split('-').length - 1;
}

/**
 * "A namespace grant bestows ownership over: 1. a project that exactly matches the namespace
 * itself; 2. projects that start with the namespace followed by a hyphen" — `acme` covers `acme`
 * and `acme-tools` but not `acmetools`. Both sides are compared normalized (`Acme.Tools` is
 * `acme-tools`).
 */
export function namespaceCovers(namespace: string, projectName: string): boolean {
  const ns = normalizeProjectName(namespace);
  const name = normalizeProjectName(projectName);
  return name === ns || name.startsWith(`${ns}-`);
}

/**
 * Every namespace that could cover a name: its hyphen-separated prefixes, shortest first
 * (`acme-cloud-sdk` → `acme`, `acme-cloud`, `acme-cloud-sdk`). A covering grant is one of these,
 * so the service looks them up by key instead of scanning every grant.
 */
export function candidateNamespaces(projectName: string): string[] {
  const parts = normalizeProjectName(projectName).split('-');
  return parts.map((_, i) => parts.slice(0, i + 1).join('-')).filter((c) => c !== '');
}

/** The reserved namespaces (by name) that cover a project name, shortest first. */
export function coveringNamespaces<T extends { name: string }>(
  projectName: string,
  grants: readonly T[],
): T[] {
  return grants
    .filter((g) => namespaceCovers(g.name, projectName))
    .sort((a, b) => a.name.length - b.name.length);
}

/**
 * The predicate for readers of other indexes (the upstream proxy's guard): a name in a reserved
 * namespace belongs to this index alone, whether or not a project of that name exists yet.
 */
export function isInReservedNamespace(
  projectName: string,
  namespaces: readonly (string | { name: string })[],
): boolean {
  return namespaces.some((n) => namespaceCovers(typeof n === 'string' ? n : n.name, projectName));
}

/**
 * "Grants MUST NOT overlap ownership ... An overlap is determined by comparing the normalized
 * proposed namespace with the normalized namespace of every existing root grant. Every comparison
 * must append a hyphen to the end of the proposed and existing namespace." Checked both ways: a
 * child (`acme-cloud`) overlaps its parent (`acme`) as the parent overlaps the child.
 */
export function namespacesOverlap(a: string, b: string): boolean {
  const x = `${normalizeProjectName(a)}-`;
  const y = `${normalizeProjectName(b)}-`;
  return x.startsWith(y) || y.startsWith(x);
}

export type ReservationCheck =
  { ok: true } | { ok: false; code: 'taken' | 'overlap'; namespace: string };

/**
 * Whether `proposed` may be reserved for `ownerId`: not reserved already, and every overlapping
 * grant is owned by the same owner ("if there is an existing grant for foo-bar then a new grant
 * for foo would only be possible for the owner of the former").
 */
export function checkReservation(
  proposed: string,
  ownerId: number,
  existing: readonly Grant[],
): ReservationCheck {
  const normalized = normalizeProjectName(proposed);
  const same = existing.find((g) => g.name === normalized);
  if (same) return { ok: false, code: 'taken', namespace: same.name };
  const foreign = existing.find(
    (g) => namespacesOverlap(g.name, normalized) && !g.ownerIds.includes(ownerId),
  );
  if (foreign) return { ok: false, code: 'overlap', namespace: foreign.name };
  return { ok: true };
}

/** Who is creating a project: the user who will own it, and whether an administrator acts. */
export interface Creator {
  ownerId: number | null;
  /** An administrator's explicit choice may create a project in anyone's namespace. */
  admin: boolean;
}

export type CreationCheck = { ok: true } | { ok: false; namespace: string };

/**
 * "Uploads MUST fail with a 409 Conflict HTTP status code if the name of a package being uploaded
 * matches a reserved namespace and the project owner does not have an active grant for the
 * namespace." The owner needs a grant for every namespace covering the name (for `acme-cloud-x`
 * both `acme` and `acme-cloud`, when both are reserved); the refusal names the first it lacks.
 * Only new names are checked: "Repositories SHOULD have an exception to this rule for projects
 * that existed before the namespace was reserved", so the callers ask only when creating.
 */
export function checkCreation(
  projectName: string,
  grants: readonly Grant[],
  creator: Creator,
): CreationCheck {
  if (creator.admin) return { ok: true };
  for (const g of coveringNamespaces(projectName, grants))
    if (creator.ownerId === null || !g.ownerIds.includes(creator.ownerId))
      return { ok: false, namespace: g.name };
  return { ok: true };
}

/** The 409's reason, in the PEP's words. */
export function creationRefusal(projectName: string, namespace: string): string {
  return `The name '${projectName}' matches the reserved namespace '${namespace}', and the project owner does not have an active grant for the namespace.`;
}

/** One entry of the project detail's `namespaces` array. */
export interface ProjectNamespace {
  name: string;
  owned: boolean;
}

/**
 * The project detail's `namespaces` key: null when no active grant matches, else one mapping per
 * matching namespace, `owned` when one of the project's owners is one of the grant's owners
 * (false only for a project that existed before the namespace was reserved).
 */
export function projectNamespaces(
  projectName: string,
  grants: readonly Grant[],
  projectOwnerIds: readonly number[],
): ProjectNamespace[] | null {
  const matching = coveringNamespaces(projectName, grants);
  if (matching.length === 0) return null;
  return matching.map((g) => ({
    name: g.name,
    owned: g.ownerIds.some((id) => projectOwnerIds.includes(id)),
  }));
}

/** "A namespace's parent refers to the namespace without the trailing hyphenated component." */
export function parentOf(namespace: string): string | null {
  const i = namespace.lastIndexOf('-');
  return i < 0 ? null : namespace.slice(0, i);
}

export interface NamespaceDetail {
  name: string;
  parent: string | null;
  children: string[];
}

/**
 * `/namespace/<namespace>`: its parent if that is reserved too, and its reserved direct children
 * ("if the namespace is foo and there are active grants for foo-bar and foo-bar-baz then this
 * would be ["foo-bar"]"), sorted.
 */
export function namespaceDetail(namespace: string, all: readonly string[]): NamespaceDetail {
  const parent = parentOf(namespace);
  return {
    name: namespace,
    parent: parent !== null && all.includes(parent) ? parent : null,
    children: all.filter((n) => parentOf(n) === namespace).sort(),
  };
}
