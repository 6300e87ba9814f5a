// Who may do what, as a table over principals, roles and projects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenRow, User } from '../../src/db/schema.js';
import type { Principal, Scope } from '../../src/auth/principal.js';
import {
  isSiteAdmin,
  mayAdministerProject,
  mayCreateProjects,
  mayReadProject,
  mayUpload,
  mayUploadAtAll,
  mayYank,
  type Role,
} from '../../src/auth/permissions.js';

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

const P = {
  anonymous: { kind: 'anonymous' } as Principal,
  operator: { kind: 'operator', name: 'op' } as Principal,
  user: { kind: 'user', user: user() } as Principal,
  admin: { kind: 'user', user: user({ is_admin: 1 }) } as Principal,
  creator: { kind: 'user', user: user({ may_create_projects: 1 }) } as Principal,
  read: { kind: 'token', token: tokenRow('read'), user: user(), projectIds: null } as Principal,
  upload: { kind: 'token', token: tokenRow('upload'), user: user(), projectIds: null } as Principal,
  adminScope: {
    kind: 'token',
    token: tokenRow('admin'),
    user: user(),
    projectIds: null,
  } as Principal,
  limitedTo1: {
    kind: 'token',
    token: tokenRow('admin', { project_limited: 1 }),
    user: user({ is_admin: 1 }),
    projectIds: new Set([1]),
  } as Principal,
  limitedTo2: {
    kind: 'token',
    token: tokenRow('admin', { project_limited: 1 }),
    user: user({ is_admin: 1 }),
    projectIds: new Set([2]),
  } as Principal,
  adminUserUploadToken: {
    kind: 'token',
    token: tokenRow('upload'),
    user: user({ is_admin: 1 }),
    projectIds: null,
  } as Principal,
  minted: {
    kind: 'token',
    token: tokenRow('upload', { user_id: null, publisher_id: 3 }),
    user: null,
    projectIds: new Set([1]),
  } as Principal,
};

const publicProject = { id: 1, private: 0, status: 'active' };
const privateProject = { id: 1, private: 1, status: 'active' };

type K = keyof typeof P;

test('mayUpload', () => {
  const rows: [K, Role | null, boolean][] = [
    ['anonymous', null, false],
    ['operator', null, true],
    ['user', null, false],
    ['user', 'maintainer', true],
    ['admin', null, true],
    ['read', 'owner', false],
    ['upload', 'owner', true],
    ['upload', null, false],
    ['limitedTo1', null, true],
    ['limitedTo2', 'owner', false],
    ['minted', null, true],
  ];
  for (const [who, role, expected] of rows)
    assert.equal(
      mayUpload(P[who], { project: publicProject, role }),
      expected,
      `${who} as ${role}`,
    );
  const minted2 = { ...P.minted, projectIds: new Set([2]) } as Principal;
  assert.equal(
    mayUpload(minted2, { project: publicProject, role: null }),
    false,
    'a minted token covers only its projects',
  );
});

test('mayUploadAtAll: checked before the form is read, never narrower than mayUpload', () => {
  const rows: [K, boolean][] = [
    ['anonymous', false],
    ['operator', true],
    ['user', true],
    ['admin', true],
    ['read', false],
    ['upload', true],
    ['adminScope', true],
    ['limitedTo1', true],
    ['limitedTo2', true],
    ['minted', true],
  ];
  for (const [who, expected] of rows) assert.equal(mayUploadAtAll(P[who]), expected, who);
  // Whoever may upload somewhere passes the early check: it refuses only the hopeless.
  for (const who of Object.keys(P) as K[])
    for (const role of [null, 'owner', 'maintainer'] as const)
      if (mayUpload(P[who], { project: publicProject, role }))
        assert.ok(mayUploadAtAll(P[who]), `${who} as ${role}`);
});

test('mayReadProject', () => {
  const rows: [K, typeof publicProject, Role | null, 'public' | 'authenticated', boolean][] = [
    ['anonymous', publicProject, null, 'public', true],
    ['anonymous', publicProject, null, 'authenticated', false],
    ['read', publicProject, null, 'authenticated', true],
    ['anonymous', privateProject, null, 'public', false],
    ['user', privateProject, null, 'public', false],
    ['user', privateProject, 'maintainer', 'public', true],
    ['read', privateProject, 'owner', 'public', true],
    ['admin', privateProject, null, 'public', true],
    ['limitedTo2', privateProject, null, 'public', false],
    ['minted', privateProject, null, 'public', true],
  ];
  for (const [who, project, role, mode, expected] of rows)
    assert.equal(
      mayReadProject(P[who], { project, role }, mode),
      expected,
      `${who} ${project.private} ${role} ${mode}`,
    );
});

test('mayCreateProjects', () => {
  const rows: [K, boolean, boolean][] = [
    ['anonymous', true, false],
    ['user', false, false],
    ['user', true, true],
    ['creator', false, true],
    ['admin', false, true],
    ['read', true, false],
    ['upload', true, true],
    ['limitedTo1', true, false],
    ['minted', true, false],
    ['operator', false, true],
  ];
  for (const [who, anyUser, expected] of rows)
    assert.equal(mayCreateProjects(P[who], anyUser), expected, `${who} ${anyUser}`);
});

test('mayYank and mayAdministerProject', () => {
  const rows: [K, Role | null, boolean, boolean][] = [
    ['user', 'maintainer', true, false],
    ['user', 'owner', true, true],
    ['upload', 'owner', false, false],
    ['adminScope', 'owner', true, true],
    ['adminScope', null, false, false],
    ['admin', null, true, true],
    ['adminUserUploadToken', null, false, false],
    ['limitedTo1', null, true, true],
    ['limitedTo2', 'owner', false, false],
    ['minted', 'owner', false, false],
    ['operator', null, true, true],
  ];
  for (const [who, role, yank, administer] of rows) {
    assert.equal(mayYank(P[who], { project: publicProject, role }), yank, `yank ${who} ${role}`);
    assert.equal(
      mayAdministerProject(P[who], { project: publicProject, role }),
      administer,
      `administer ${who} ${role}`,
    );
  }
});

test('isSiteAdmin: site-wide actions need an unlimited credential', () => {
  const adminAdminScope = {
    kind: 'token',
    token: tokenRow('admin'),
    user: user({ is_admin: 1 }),
    projectIds: null,
  } as Principal;
  const rows: [string, Principal, boolean][] = [
    ['operator', P.operator, true],
    ['an administrator signed in', P.admin, true],
    ["an administrator's unlimited admin token", adminAdminScope, true],
    ["an administrator's admin token limited to projects", P.limitedTo1, false],
    [
      "an administrator's admin token limited to no project",
      { ...P.limitedTo1, projectIds: new Set<number>() } as Principal,
      false,
    ],
    ["an administrator's upload token", P.adminUserUploadToken, false],
    ["a user's admin token", P.adminScope, false],
    ['a user', P.user, false],
    ['a minted token', P.minted, false],
    ['anonymous', P.anonymous, false],
  ];
  for (const [who, principal, expected] of rows)
    assert.equal(isSiteAdmin(principal), expected, who);
});
