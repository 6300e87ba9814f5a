// The rules of a company sign-in (src/sso/claims.ts), as tables: user names and groups read from
// the ID token's claims, and what a verified sign-in does to pier's users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  groupsFromClaims,
  inAllowedGroups,
  planSignIn,
  usernameFromClaims,
  type SignInFacts,
} from '../../src/sso/claims.js';

test('the user name claim', () => {
  const cases: [unknown, string | null][] = [
    ['alice', 'alice'],
    ['Alice.Smith', 'Alice.Smith'],
    ['alice@corp.example', 'alice'],
    ['a_b-c.d', 'a_b-c.d'],
    [undefined, null],
    [42, null],
    [['alice'], null],
    ['', null],
    ['-alice', null],
    ['alice smith', null],
    ['@corp.example', null],
    ['x'.repeat(51), null],
    ['ålice', null],
  ];
  for (const [value, expected] of cases) {
    const r = usernameFromClaims(
      value === undefined ? {} : { preferred_username: value },
      'preferred_username',
    );
    if (expected === null) {
      assert.equal(r.ok, false, JSON.stringify(value));
      if (!r.ok) assert.equal(r.code, 'bad-username');
    } else assert.deepEqual(r, { ok: true, value: expected }, JSON.stringify(value));
  }
  // The claim is the configured one, not a fixed name.
  assert.deepEqual(
    usernameFromClaims({ email: 'bob@x.example', preferred_username: 'nope!' }, 'email'),
    {
      ok: true,
      value: 'bob',
    },
  );
});

test('the groups claim', () => {
  const cases: [unknown, string[] | null][] = [
    [undefined, []],
    [null, []],
    [[], []],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
    [
      ['a', 'a', 'b'],
      ['a', 'b'],
    ],
    ['admins', ['admins']],
    [[1, 2], null],
    [['a', null], null],
    [{ a: true }, null],
    [true, null],
    // The rules of a team's group (src/orgs/groups.ts): no empty, overlong or control-character
    // group, and no more than a thousand of them.
    [['a', ''], null],
    [['a\u0000b'], null],
    [['x'.repeat(257)], null],
    [['x'.repeat(256)], ['x'.repeat(256)]],
    [Array.from({ length: 1001 }, (_, i) => `g${i}`), null],
  ];
  for (const [value, expected] of cases) {
    const r = groupsFromClaims(value === undefined ? {} : { groups: value }, 'groups');
    if (expected === null) {
      assert.equal(r.ok, false, JSON.stringify(value));
      if (!r.ok) assert.equal(r.code, 'bad-groups');
    } else assert.deepEqual(r, { ok: true, value: expected }, JSON.stringify(value));
  }
});

test('allowed groups', () => {
  const cases: [string[], string[], boolean][] = [
    [[], [], true],
    [['x'], [], true],
    [[], ['pier'], false],
    [['dev'], ['pier'], false],
    [['dev', 'pier'], ['pier'], true],
    [['Pier'], ['pier'], false],
    [['b'], ['a', 'b'], true],
  ];
  for (const [groups, allowed, expected] of cases)
    assert.equal(inAllowedGroups(groups, allowed), expected, `${groups} in ${allowed}`);
});

const provider = { displayName: 'Corp', allowedGroups: ['pier'], createUsers: true };
const facts = (f: Partial<SignInFacts>): SignInFacts => ({
  provider,
  linked: null,
  username: 'alice',
  nameTaken: false,
  groups: ['pier'],
  ...f,
});
const linked = (disabled: boolean, disabledByProvider: boolean) => ({
  userId: 7,
  disabled,
  disabledByProvider,
});

test('what a verified sign-in does', () => {
  const cases: [string, SignInFacts, Record<string, unknown>][] = [
    ['new identity, free name: create', facts({}), { ok: true, kind: 'create', username: 'alice' }],
    [
      'new identity, name of a local user: refused, nothing taken over',
      facts({ nameTaken: true }),
      { ok: false, code: 'name-taken', disableUserId: null },
    ],
    [
      'new identity, creation off: refused',
      facts({ provider: { ...provider, createUsers: false } }),
      { ok: false, code: 'no-account', disableUserId: null },
    ],
    [
      'new identity, not in an allowed group: refused before anything',
      facts({ groups: ['dev'], nameTaken: true }),
      { ok: false, code: 'not-allowed', disableUserId: null },
    ],
    [
      'linked: signs in (a taken name is its own)',
      facts({ linked: linked(false, false), nameTaken: true }),
      { ok: true, kind: 'existing', userId: 7, reenable: false },
    ],
    [
      'linked, left the allowed groups: refused and disabled',
      facts({ linked: linked(false, false), groups: [] }),
      { ok: false, code: 'not-allowed', disableUserId: 7 },
    ],
    [
      'linked, disabled by the provider, still not allowed: refused, nothing more',
      facts({ linked: linked(true, true), groups: ['dev'] }),
      { ok: false, code: 'not-allowed', disableUserId: null },
    ],
    [
      'linked, disabled by the provider, allowed again: re-enabled',
      facts({ linked: linked(true, true) }),
      { ok: true, kind: 'existing', userId: 7, reenable: true },
    ],
    [
      'linked, disabled by an administrator: refused, stays disabled',
      facts({ linked: linked(true, false) }),
      { ok: false, code: 'disabled', disableUserId: null },
    ],
    [
      'no allowed groups configured: anyone the provider vouches for',
      facts({ provider: { ...provider, allowedGroups: [] }, groups: [] }),
      { ok: true, kind: 'create', username: 'alice' },
    ],
  ];
  for (const [what, f, expected] of cases) {
    const plan = planSignIn(f) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(plan[k], v, `${what}: ${k}`);
    if (plan.ok === false) assert.match(String(plan.reason), /\S/, what);
  }
});
