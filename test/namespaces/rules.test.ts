// PEP 752's rules as tables of cases, each rule with cases it accepts and cases it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  candidateNamespaces,
  checkCreation,
  checkNamespaceName,
  checkReservation,
  creationRefusal,
  isInReservedNamespace,
  namespaceCovers,
  namespaceDetail,
  namespacesOverlap,
  parentOf,
  projectNamespaces,
  type Grant,
} from '../../src/namespaces/rules.js';

// "the namespace foo would match the normalized project name foo-bar but not foobar"
const COVERS: [namespace: string, project: string, covered: boolean][] = [
  ['acme', 'acme', true], // the namespace root itself
  ['acme', 'acme-tools', true],
  ['acme', 'acme-cloud-storage', true],
  ['acme', 'Acme_Tools', true], // PEP 503 normalization of the project name
  ['acme', 'ACME.tools', true],
  ['acme', 'acme--tools', true], // a run of separators is one hyphen
  ['Acme.Corp', 'acme-corp-sdk', true], // and of the namespace
  ['acme-corp', 'acme_corp', true],
  ['acme', 'acmetools', false], // no hyphen after the prefix
  ['acme', 'acm', false],
  ['acme', 'my-acme-tools', false], // a prefix, not a substring
  ['acme', 'acme1', false],
  ['acme-cloud', 'acme', false], // a child does not cover its parent
  ['acme-cloud', 'acme-tools', false],
];

test('a namespace covers its own name and names that start with it and a hyphen', () => {
  for (const [ns, name, covered] of COVERS)
    assert.equal(namespaceCovers(ns, name), covered, `${ns} covers ${name}: ${covered}`);
});

test('the predicate for the upstream proxy: is a name in any reserved namespace', () => {
  const reserved = ['acme', 'globex-internal'];
  const cases: [string, boolean][] = [
    ['acme', true],
    ['Acme.Tools', true],
    ['globex-internal-api', true],
    ['globex', false],
    ['globex-api', false],
    ['acmetools', false],
    ['requests', false],
  ];
  for (const [name, expected] of cases) {
    assert.equal(isInReservedNamespace(name, reserved), expected, name);
    assert.equal(
      isInReservedNamespace(
        name,
        reserved.map((n) => ({ name: n })),
      ),
      expected,
      `${name} (grants)`,
    );
  }
  assert.equal(isInReservedNamespace('acme', []), false);
});

test('candidate namespaces are the hyphen-separated prefixes of the normalized name', () => {
  const cases: [string, string[]][] = [
    ['acme', ['acme']],
    ['Acme_Cloud.SDK', ['acme', 'acme-cloud', 'acme-cloud-sdk']],
    ['a-b-c-d', ['a', 'a-b', 'a-b-c', 'a-b-c-d']],
  ];
  for (const [name, expected] of cases) assert.deepEqual(candidateNamespaces(name), expected);
  // Every namespace that covers a name is a candidate, and only those.
  for (const [ns, name, covered] of COVERS)
    assert.equal(
      candidateNamespaces(name).includes(checkName(ns)),
      covered,
      `${ns} is a candidate for ${name}: ${covered}`,
    );
});

function checkName(ns: string): string {
  const r = checkNamespaceName(ns);
  assert.ok(r.ok);
  return r.normalized;
}

test('a namespace must be a valid project name, is normalized, and has a depth limit', () => {
  const accepted: [string, string][] = [
    ['acme', 'acme'],
    ['Foo.Bar', 'foo-bar'], // "foo.bar would become foo-bar"
    ['acme_cloud-storage', 'acme-cloud-storage'], // two hyphens: the limit
    ['a', 'a'],
  ];
  for (const [name, normalized] of accepted)
    assert.deepEqual(checkNamespaceName(name), { ok: true, normalized }, name);
  const refused: [string, RegExp][] = [
    ['-acme', /not a valid project name/],
    ['acme-', /not a valid project name/],
    ['ac me', /not a valid project name/],
    ['', /not a valid project name/],
    ['acmé', /not a valid project name/],
    ['acme-cloud-storage-eu', /too deep: at most 2 hyphens/],
  ];
  for (const [name, reason] of refused) {
    const r = checkNamespaceName(name);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.reason, reason);
  }
});

test('grants overlap when one, with a hyphen appended, starts with the other', () => {
  const cases: [string, string, boolean][] = [
    ['foo', 'foo-bar', true], // "an existing grant for foo-bar, then a new grant for foo"
    ['foo-bar', 'foo', true], // and the other way round
    ['foo', 'foo', true],
    ['foo', 'Foo_Bar-baz', true],
    ['foo', 'foobar', false], // the appended hyphen is why
    ['foo-bar', 'foo-baz', false],
    ['bar', 'foo-bar', false],
  ];
  for (const [a, b, expected] of cases)
    assert.equal(namespacesOverlap(a, b), expected, `${a} / ${b}`);
});

test('a reservation may not take a reserved namespace nor overlap another owner', () => {
  const existing: Grant[] = [
    { name: 'foo-bar', ownerIds: [1] },
    { name: 'globex', ownerIds: [2, 3] },
  ];
  const cases: [string, number, ReturnType<typeof checkReservation>][] = [
    ['foo', 1, { ok: true }], // "only possible for the owner of the former"
    ['foo', 2, { ok: false, code: 'overlap', namespace: 'foo-bar' }],
    ['foo-bar-baz', 1, { ok: true }],
    ['foo-bar-baz', 2, { ok: false, code: 'overlap', namespace: 'foo-bar' }],
    ['Foo.Bar', 1, { ok: false, code: 'taken', namespace: 'foo-bar' }],
    ['globex-eu', 3, { ok: true }], // any of the owners
    ['globex-eu', 1, { ok: false, code: 'overlap', namespace: 'globex' }],
    ['foobar', 2, { ok: true }],
    ['initech', 4, { ok: true }],
  ];
  for (const [proposed, owner, expected] of cases)
    assert.deepEqual(checkReservation(proposed, owner, existing), expected, proposed);
});

test('creating a project in a reserved namespace takes a grant, or an administrator', () => {
  const grants: Grant[] = [
    { name: 'acme', ownerIds: [1, 2] },
    { name: 'acme-cloud', ownerIds: [2] },
  ];
  const cases: [string, { ownerId: number | null; admin: boolean }, string | null][] = [
    ['acme-tools', { ownerId: 1, admin: false }, null],
    ['acme', { ownerId: 2, admin: false }, null],
    ['acme-cloud-sdk', { ownerId: 2, admin: false }, null], // a grant for both namespaces
    ['requests', { ownerId: 9, admin: false }, null], // outside any namespace
    ['acmetools', { ownerId: 9, admin: false }, null],
    ['acme-tools', { ownerId: 9, admin: true }, null], // an administrator's explicit choice
    ['acme-tools', { ownerId: null, admin: true }, null],
    ['acme-tools', { ownerId: 9, admin: false }, 'acme'],
    ['Acme.Tools', { ownerId: 9, admin: false }, 'acme'],
    ['acme', { ownerId: 9, admin: false }, 'acme'],
    ['acme-tools', { ownerId: null, admin: false }, 'acme'], // no owner has no grant
    ['acme-cloud-sdk', { ownerId: 1, admin: false }, 'acme-cloud'], // only the parent's
  ];
  for (const [name, creator, refusedBy] of cases)
    assert.deepEqual(
      checkCreation(name, grants, creator),
      refusedBy === null ? { ok: true } : { ok: false, namespace: refusedBy },
      `${name} by ${JSON.stringify(creator)}`,
    );
  assert.equal(
    creationRefusal('acme-tools', 'acme'),
    "The name 'acme-tools' matches the reserved namespace 'acme', and the project owner does not have an active grant for the namespace.",
  );
});

test("the project detail's namespaces: null, or each matching namespace and whether owned", () => {
  const grants: Grant[] = [
    { name: 'acme', ownerIds: [1] },
    { name: 'acme-cloud', ownerIds: [2] },
  ];
  const cases: [string, number[], ReturnType<typeof projectNamespaces>][] = [
    ['requests', [1], null],
    ['acmetools', [1], null],
    ['acme-tools', [1], [{ name: 'acme', owned: true }]],
    ['acme-tools', [3], [{ name: 'acme', owned: false }]], // existed before the reservation
    ['acme-tools', [], [{ name: 'acme', owned: false }]],
    [
      'acme-cloud-sdk',
      [2],
      [
        { name: 'acme', owned: false },
        { name: 'acme-cloud', owned: true },
      ],
    ],
    [
      'Acme_Cloud-SDK',
      [1, 2],
      [
        { name: 'acme', owned: true },
        { name: 'acme-cloud', owned: true },
      ],
    ],
  ];
  for (const [name, owners, expected] of cases)
    assert.deepEqual(projectNamespaces(name, grants, owners), expected, name);
});

test('namespace detail: the reserved parent, and the reserved direct children', () => {
  assert.equal(parentOf('foo-bar-baz'), 'foo-bar');
  assert.equal(parentOf('foo'), null);
  const all = ['foo', 'foo-bar', 'foo-bar-baz', 'foo-qux', 'foobar', 'zed-x'];
  assert.deepEqual(namespaceDetail('foo', all), {
    name: 'foo',
    parent: null,
    children: ['foo-bar', 'foo-qux'], // "this would be ["foo-bar"]": direct children only
  });
  assert.deepEqual(namespaceDetail('foo-bar', all), {
    name: 'foo-bar',
    parent: 'foo',
    children: ['foo-bar-baz'],
  });
  assert.deepEqual(namespaceDetail('foo-bar-baz', all), {
    name: 'foo-bar-baz',
    parent: 'foo-bar',
    children: [],
  });
  // "the parent namespace if it exists": zed is not reserved.
  assert.deepEqual(namespaceDetail('zed-x', all), { name: 'zed-x', parent: null, children: [] });
});
