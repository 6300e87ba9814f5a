// The organisation rules as tables: a user's effective role in a project (effectiveRole) and
// who may create, read, change an organisation and move a project into one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenRow, User } from '../../src/db/schema.js';
import type { Principal, Scope } from '../../src/auth/principal.js';
import {
  effectiveRole,
  mayAdministerOrganization,
  mayAdministerProject,
  mayCreateOrganization,
  mayManageOrganizationPublishers,
  mayReadOrganization,
  mayTransferProjectToOrganization,
  mayUpload,
  mayYank,
  type OrgRole,
  type Role,
  type RoleSources,
} from '../../src/auth/permissions.js';

test('effectiveRole: the strongest of own, teams and organisation ownership', () => {
  const cases: [RoleSources, Role | null][] = [
    [{ own: null, org: null, teams: [] }, null],
    // Membership alone gives no role in a project.
    [{ own: null, org: 'member', teams: [] }, null],
    [{ own: null, org: 'owner', teams: [] }, 'owner'],
    [{ own: 'maintainer', org: null, teams: [] }, 'maintainer'],
    [{ own: 'owner', org: null, teams: [] }, 'owner'],
    [{ own: null, org: 'member', teams: ['maintainer'] }, 'maintainer'],
    [{ own: null, org: 'member', teams: ['maintainer', 'owner'] }, 'owner'],
    [{ own: 'maintainer', org: 'member', teams: ['owner'] }, 'owner'],
    [{ own: 'owner', org: 'member', teams: ['maintainer'] }, 'owner'],
    [{ own: 'maintainer', org: 'owner', teams: [] }, 'owner'],
    [{ own: 'maintainer', org: 'member', teams: ['maintainer', 'maintainer'] }, 'maintainer'],
  ];
  for (const [sources, want] of cases)
    assert.equal(effectiveRole(sources), want, JSON.stringify(sources));
});

const user = (over: Partial<User> = {}): User =>
  ({
    id: 1,
    username: 'u',
    username_key: 'u',
    password_hash: null,
    is_admin: 0,
    may_create_projects: 0,
    disabled: 0,
    created_at: 0,
    ...over,
  }) as User;
const tokenRow = (scope: Scope, over: Partial<TokenRow> = {}): TokenRow => ({
  id: 9,
  user_id: 1,
  publisher_id: null,
  name: 't',
  token_hash: 'h',
  display_prefix: 'p',
  scope,
  project_limited: 0,
  created_at: 0,
  expires_at: null,
  revoked_at: null,
  last_used_at: null,
  claims_json: null,
  ...over,
});
const token = (
  scope: Scope,
  over: Partial<TokenRow> = {},
  u = user(),
  ids: number[] | null = null,
) =>
  ({
    kind: 'token',
    token: tokenRow(scope, over),
    user: over.user_id === null ? null : u,
    projectIds: ids === null ? null : new Set(ids),
  }) as Principal;

const P: Record<string, Principal> = {
  anonymous: { kind: 'anonymous' },
  operator: { kind: 'operator', name: 'op' },
  user: { kind: 'user', user: user() },
  admin: { kind: 'user', user: user({ is_admin: 1 }) },
  readToken: token('read'),
  uploadToken: token('upload'),
  adminToken: token('admin'),
  adminTokenLimited: token('admin', { project_limited: 1 }, user(), [1]),
  siteAdminTokenLimited: token('admin', { project_limited: 1 }, user({ is_admin: 1 }), [1]),
  minted: token('upload', { user_id: null, publisher_id: 3 }, user(), [1]),
};

test('mayCreateOrganization: administrators only', () => {
  const yes = ['operator', 'admin'];
  for (const [name, p] of Object.entries(P))
    assert.equal(mayCreateOrganization(p), yes.includes(name), name);
});

test('mayManageOrganizationPublishers: administrators only, never an organisation’s owners', () => {
  const yes = ['operator', 'admin'];
  for (const [name, p] of Object.entries(P))
    assert.equal(mayManageOrganizationPublishers(p), yes.includes(name), name);
});

test('mayAdministerOrganization: its owners with an admin credential for everything, and admins', () => {
  const table: [string, OrgRole | null, boolean][] = [
    ['anonymous', 'owner', false],
    ['operator', null, true],
    ['admin', null, true],
    ['user', 'owner', true],
    ['user', 'member', false],
    ['user', null, false],
    ['readToken', 'owner', false],
    ['uploadToken', 'owner', false],
    ['adminToken', 'owner', true],
    ['adminToken', 'member', false],
    // A token limited to projects manages those projects, never the organisation.
    ['adminTokenLimited', 'owner', false],
    ['siteAdminTokenLimited', 'owner', false],
    ['minted', 'owner', false],
  ];
  for (const [name, role, want] of table)
    assert.equal(mayAdministerOrganization(P[name]!, role), want, `${name} as ${role}`);
});

test('mayReadOrganization: members, owners and administrators', () => {
  const table: [string, OrgRole | null, boolean][] = [
    ['anonymous', null, false],
    ['anonymous', 'member', false],
    ['operator', null, true],
    ['admin', null, true],
    ['user', null, false],
    ['user', 'member', true],
    ['user', 'owner', true],
    ['readToken', 'member', true],
    ['uploadToken', null, false],
    ['minted', 'member', false],
  ];
  for (const [name, role, want] of table)
    assert.equal(mayReadOrganization(P[name]!, role), want, `${name} as ${role}`);
});

test('mayTransferProjectToOrganization: an owner of both sides', () => {
  const project = { id: 1, private: 0, status: 'active' };
  const table: [string, Role | null, OrgRole | null, boolean][] = [
    ['user', 'owner', 'owner', true],
    ['user', 'maintainer', 'owner', false],
    ['user', 'owner', 'member', false],
    ['user', null, 'owner', false],
    ['user', 'owner', null, false],
    ['admin', null, null, true],
    ['operator', null, null, true],
    ['adminToken', 'owner', 'owner', true],
    ['uploadToken', 'owner', 'owner', false],
    ['adminTokenLimited', 'owner', 'owner', false],
    ['minted', 'owner', 'owner', false],
  ];
  for (const [name, role, orgRole, want] of table)
    assert.equal(
      mayTransferProjectToOrganization(P[name]!, { project, role }, orgRole),
      want,
      `${name}: project ${role}, organisation ${orgRole}`,
    );
});

test('an effective role from a team works in the existing project rules', () => {
  const project = { id: 1, private: 0, status: 'active' };
  const fromTeam = effectiveRole({ own: null, org: 'member', teams: ['maintainer'] });
  assert.equal(mayUpload(P.uploadToken!, { project, role: fromTeam }), true);
  assert.equal(mayYank(P.adminToken!, { project, role: fromTeam }), true);
  assert.equal(mayAdministerProject(P.adminToken!, { project, role: fromTeam }), false);
  const orgOwner = effectiveRole({ own: null, org: 'owner', teams: [] });
  assert.equal(mayAdministerProject(P.adminToken!, { project, role: orgOwner }), true);
  const member = effectiveRole({ own: null, org: 'member', teams: [] });
  assert.equal(mayUpload(P.uploadToken!, { project, role: member }), false);
});
