// The generic OIDC publisher: which tokens its rules accept and refuse, and which registrations
// are refused because their rules could match too much (src/oidc/providers/generic.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  genericLookupKeys,
  genericProvider,
  MAX_RULES,
  MAX_VALUE_LENGTH,
} from '../../../src/oidc/providers/generic.js';
import { PROVIDERS } from '../../../src/oidc/providers/index.js';
import { publisherFields } from '../../../src/cli/trusted-publishing.js';
import type { GenericConfig } from '../../../src/oidc/providers/types.js';
import { withClaims } from './support.js';

const ISSUER = 'https://ci.example.com';

const TOKEN = {
  iss: ISSUER,
  aud: 'pypi.example.com',
  iat: 1736757460,
  nbf: 1736757460,
  exp: 1736757760,
  jti: 'b4a1c2d3',
  sub: 'project:acme/app',
  project_id: '4211',
  ref: 'refs/tags/v1.2.0',
  build: 77,
  protected: true,
};

function valid(rules: string, immutable = 'sub'): GenericConfig {
  const r = genericProvider.validateConfig({ rules, immutable });
  assert.ok(r.ok, JSON.stringify(r));
  return r.config;
}

const PUBLISHER = valid('sub = project:acme/app; ref ~ refs/tags/v*');

test('the generic provider is in the registry, with no built-in issuer', () => {
  assert.equal(PROVIDERS.generic, genericProvider);
  assert.equal(genericProvider.builtinIssuer, null);
  assert.deepEqual(PUBLISHER, {
    rules: [
      { claim: 'ref', op: '~', value: 'refs/tags/v*' },
      { claim: 'sub', op: '=', value: 'project:acme/app' },
    ],
    immutable: ['sub'],
  });
});

const claimCases: {
  name: string;
  claims?: Record<string, unknown>;
  rules?: string;
  immutable?: string;
  failures: string[];
}[] = [
  { name: 'the job the rules describe', failures: [] },
  { name: 'another tag matching the glob', claims: { ref: 'refs/tags/v2' }, failures: [] },
  {
    name: 'another subject',
    claims: { sub: 'project:acme/app2' },
    failures: [
      "Check failed for claim 'sub': expected 'project:acme/app', got 'project:acme/app2'",
    ],
  },
  {
    name: 'exact is case-sensitive',
    claims: { sub: 'project:ACME/app' },
    failures: ["Check failed for claim 'sub': expected 'project:acme/app', got 'project:ACME/app'"],
  },
  {
    name: 'a branch instead of a tag',
    claims: { ref: 'refs/heads/main' },
    failures: [
      "Check failed for claim 'ref': expected a value matching 'refs/tags/v*', got 'refs/heads/main'",
    ],
  },
  {
    name: "'*' does not cross '/'",
    claims: { ref: 'refs/tags/v1/evil' },
    failures: [
      "Check failed for claim 'ref': expected a value matching 'refs/tags/v*', got 'refs/tags/v1/evil'",
    ],
  },
  {
    name: 'a claim missing from the token',
    claims: { ref: undefined },
    failures: ["Missing claim 'ref'"],
  },
  { name: 'a null claim', claims: { sub: null }, failures: ["Missing claim 'sub'"] },
  {
    name: 'a number is not its string form',
    rules: 'sub = project:acme/app; build = 77',
    failures: ["Check failed for claim 'build': expected a string, got a number"],
  },
  {
    name: 'a boolean is not its string form',
    rules: 'sub = project:acme/app; protected = true',
    failures: ["Check failed for claim 'protected': expected a string, got a boolean"],
  },
  {
    name: 'an array',
    claims: { ref: ['refs/tags/v1'] },
    failures: ["Check failed for claim 'ref': expected a string, got an array"],
  },
  {
    name: 'a control character in a matching value',
    claims: { sub: 'project:acme/app\n' },
    failures: ["Check failed for claim 'sub': it contains a control character"],
  },
  {
    name: "'**' crosses '/'",
    rules: 'sub = project:acme/app; ref ~ refs/**',
    claims: { ref: 'refs/tags/v1/x' },
    failures: [],
  },
  {
    name: 'every rule is checked, failures in claim order',
    claims: { sub: 'x', ref: 'y' },
    failures: [
      "Check failed for claim 'ref': expected a value matching 'refs/tags/v*', got 'y'",
      "Check failed for claim 'sub': expected 'project:acme/app', got 'x'",
    ],
  },
  {
    name: 'two immutable claims, both pinned',
    rules: 'sub = project:acme/app; project_id = 4211',
    immutable: 'sub, project_id',
    claims: { project_id: '4212' },
    failures: ["Check failed for claim 'project_id': expected '4211', got '4212'"],
  },
];

test('claims accepted and refused', async (t) => {
  for (const c of claimCases)
    await t.test(c.name, () => {
      const config = c.rules ? valid(c.rules, c.immutable) : PUBLISHER;
      const failures = genericProvider.check(config, withClaims(TOKEN, c.claims), ISSUER);
      assert.deepEqual(
        failures.map((f) => f.message),
        c.failures,
      );
    });
});

const refusedRegistrations: {
  name: string;
  rules?: string;
  immutable?: string;
  errors: Record<string, string>;
}[] = [
  {
    name: 'no rules',
    rules: '',
    errors: {
      rules: 'Specify the claim rules: CLAIM = VALUE or CLAIM ~ GLOB, separated by ;',
    },
  },
  {
    name: 'only separators',
    rules: ' ; ;\n',
    errors: {
      rules: 'Specify the claim rules: CLAIM = VALUE or CLAIM ~ GLOB, separated by ;',
    },
  },
  {
    name: 'no immutable claim',
    immutable: '',
    errors: {
      immutable:
        'Name at least one immutable claim (one the issuer assigns and never reuses, such as sub), with an exact rule',
    },
  },
  {
    name: 'the immutable claim has only a glob',
    rules: 'sub ~ project:acme/*',
    errors: { immutable: "The immutable claim 'sub' needs an exact rule (sub = VALUE)" },
  },
  {
    name: 'the immutable claim has no rule at all',
    rules: 'ref = refs/tags/v1',
    errors: { immutable: "The immutable claim 'sub' needs an exact rule (sub = VALUE)" },
  },
  {
    name: 'a glob that matches everything: *',
    rules: 'sub = project:acme/app; ref ~ *',
    errors: { rules: "The glob on 'ref' matches every value: it needs a literal part" },
  },
  {
    name: 'a glob that matches everything: **',
    rules: 'sub = project:acme/app; ref ~ **',
    errors: { rules: "The glob on 'ref' matches every value: it needs a literal part" },
  },
  {
    name: 'a glob of only wildcards and slashes: */**',
    rules: 'sub = project:acme/app; ref ~ */**',
    errors: { rules: "The glob on 'ref' matches every value: it needs a literal part" },
  },
  {
    name: 'an empty glob',
    rules: 'sub = project:acme/app; ref ~',
    errors: { rules: "The rule on 'ref' has no value: it would match too much" },
  },
  {
    name: 'an empty exact value',
    rules: 'sub =',
    errors: { rules: "The rule on 'sub' has no value: it would match too much" },
  },
  {
    name: 'a glob without a wildcard',
    rules: 'sub = project:acme/app; ref ~ refs/tags/v1',
    errors: {
      rules: "The glob on 'ref' has no '*': write ref = refs/tags/v1 for an exact rule",
    },
  },
  ...['iss', 'aud', 'exp', 'iat', 'nbf', 'jti'].map((claim) => ({
    name: `the reserved claim '${claim}'`,
    rules: `sub = project:acme/app; ${claim} = x`,
    errors: { rules: `The claim '${claim}' says nothing about the job: it cannot be a rule` },
  })),
  {
    name: 'the reserved claim marked immutable',
    rules: 'jti = abc',
    immutable: 'jti',
    errors: { rules: "The claim 'jti' says nothing about the job: it cannot be a rule" },
  },
  {
    name: 'two rules on one claim',
    rules: 'sub = project:acme/app; sub ~ project:*',
    errors: { rules: "Two rules on the claim 'sub': one per claim" },
  },
  {
    name: 'a control character in a value',
    rules: 'sub = project:acme/app; ref = refs/tags/v1\u0000',
    errors: { rules: "The rule on 'ref' contains a control character" },
  },
  {
    name: 'a control character in the immutable names',
    immutable: 'sub\u0007',
    errors: { immutable: "'sub\u0007' is not a claim name" },
  },
  {
    name: 'not a rule',
    rules: 'sub project:acme/app',
    errors: { rules: "'sub project:acme/app' is not a rule: write CLAIM = VALUE or CLAIM ~ GLOB" },
  },
  {
    name: 'not a claim name',
    rules: 'sub = project:acme/app; a b = c',
    errors: { rules: "'a b' is not a claim name: letters, digits and _ . : - (at most 64)" },
  },
  {
    name: 'too many rules',
    rules: [
      'sub = project:acme/app',
      ...Array.from({ length: MAX_RULES }, (_v, i) => `c${i} = v`),
    ].join(';'),
    errors: { rules: `Too many rules (at most ${MAX_RULES})` },
  },
  {
    name: 'a value too long',
    rules: `sub = ${'a'.repeat(MAX_VALUE_LENGTH + 1)}`,
    errors: { rules: `The rule on 'sub' is too long (at most ${MAX_VALUE_LENGTH} characters)` },
  },
];

test('registrations refused, each because it could match too much or means nothing', async (t) => {
  for (const c of refusedRegistrations)
    await t.test(c.name, () => {
      assert.deepEqual(
        genericProvider.validateConfig({
          rules: c.rules ?? 'sub = project:acme/app',
          immutable: c.immutable ?? 'sub',
        }),
        { ok: false, errors: c.errors },
      );
    });
});

test('accepted registrations: spacing, line breaks, repeated and several immutable names', () => {
  assert.deepEqual(valid('  sub=project:acme/app \n ref~refs/tags/*  '), {
    rules: [
      { claim: 'ref', op: '~', value: 'refs/tags/*' },
      { claim: 'sub', op: '=', value: 'project:acme/app' },
    ],
    immutable: ['sub'],
  });
  assert.deepEqual(valid('sub = a=b~c', 'sub sub').rules, [
    { claim: 'sub', op: '=', value: 'a=b~c' },
  ]);
  assert.deepEqual(valid('sub = s; project_id = 1', 'sub,project_id').immutable, [
    'project_id',
    'sub',
  ]);
});

test('the lookup key is the first immutable exact rule, and the token offers it', () => {
  const two = valid('sub = project:acme/app; project_id = 4211', 'sub project_id');
  assert.equal(genericProvider.lookupKeyOfConfig(two), JSON.stringify(['project_id', '4211']));
  assert.equal(
    genericProvider.lookupKeyOfConfig(PUBLISHER),
    JSON.stringify(['sub', 'project:acme/app']),
  );
  const keys = genericLookupKeys(TOKEN);
  assert.ok(keys.includes(genericProvider.lookupKeyOfConfig(PUBLISHER)));
  assert.ok(keys.includes(genericProvider.lookupKeyOfConfig(two)));
  // Reserved, non-string and control-character claims offer no key.
  for (const claim of ['iss', 'aud', 'jti', 'build', 'protected'])
    assert.ok(!keys.some((k) => (JSON.parse(k) as string[])[0] === claim), claim);
  assert.deepEqual(genericLookupKeys({ sub: 'a\nb', iss: ISSUER }), []);
  assert.deepEqual(genericProvider.lookupKeyOfClaims({ iss: ISSUER, exp: 1 }), {
    ok: false,
    failure: { claim: 'sub', message: 'the token carries no string claim a rule could name' },
  });
  const many = Object.fromEntries(Array.from({ length: 200 }, (_v, i) => [`c${i}`, 'v']));
  assert.equal(genericLookupKeys(many).length, 64);
});

test('overlap: disjoint only when an exact rule on one claim differs, or an exact value fails a glob', () => {
  const overlaps = (a: string, b: string) => genericProvider.overlaps(valid(a), valid(b));
  assert.equal(overlaps('sub = a', 'sub = a'), true);
  assert.equal(overlaps('sub = a', 'sub = b'), false);
  assert.equal(overlaps('sub = a; ref ~ refs/tags/*', 'sub = a; ref ~ refs/heads/*'), true);
  assert.equal(overlaps('sub = a; ref = refs/tags/v1', 'sub = a; ref ~ refs/heads/*'), false);
  assert.equal(overlaps('sub = a; ref ~ refs/heads/*', 'sub = a; ref = refs/heads/main'), true);
  assert.equal(overlaps('sub = a; env = prod', 'sub = a; ref = refs/tags/v1'), true);
  // Keyed on different immutable claims, both may hold for one job.
  assert.equal(
    genericProvider.overlaps(valid('sub = a'), valid('project_id = 7', 'project_id')),
    true,
  );
  assert.equal(genericProvider.rivalsAcrossLookupKeys, true);
});

test('identity, specificity and stored configurations', () => {
  const a = valid('sub = a; ref ~ refs/tags/*');
  const b = valid('ref ~ refs/tags/* ; sub = a');
  assert.equal(genericProvider.identityOf(a), genericProvider.identityOf(b));
  assert.notEqual(genericProvider.identityOf(a), genericProvider.identityOf(valid('sub = a')));
  assert.equal(genericProvider.specificity(a), 2);
  assert.deepEqual(genericProvider.parseConfig(JSON.parse(JSON.stringify(a))), a);
  assert.equal(genericProvider.parseConfig({ rules: [], immutable: ['sub'] }), null);
  assert.equal(
    genericProvider.parseConfig({
      rules: [{ claim: 'sub', op: '~', value: 'a*' }],
      immutable: ['sub'],
    }),
    null,
    'an immutable claim without its exact rule is no stored configuration',
  );
  assert.equal(
    genericProvider.parseConfig({
      rules: [{ claim: 'sub', op: '!', value: 'a' }],
      immutable: ['sub'],
    }),
    null,
  );
  assert.equal(genericProvider.describe(a), 'Generic OIDC ref ~ refs/tags/*; sub = a');
});

test('pier publisher add: repeatable --claim, --claim-glob and --immutable', () => {
  assert.deepEqual(
    publisherFields({
      provider: 'generic',
      claim: ['sub=project:acme/app', 'project_id=42'],
      claimGlob: ['ref=refs/tags/v*'],
      immutable: ['sub', 'project_id'],
    }),
    {
      rules: 'sub = project:acme/app; project_id = 42; ref ~ refs/tags/v*',
      immutable: 'sub,project_id',
    },
  );
  assert.throws(
    () => publisherFields({ provider: 'generic', claim: ['sub'] }),
    /--claim takes NAME=VALUE, not 'sub'/,
  );
  assert.throws(
    () => publisherFields({ provider: 'generic', claimGlob: ['ref=a;b=*'] }),
    /cannot contain ';'/,
  );
  assert.deepEqual(publisherFields({ provider: 'generic' }), {
    rules: undefined,
    immutable: undefined,
  });
});
