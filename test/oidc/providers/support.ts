// Shared by the provider tests: one test per claim rule of a provider's table, each a table of
// cases (a token and a publisher, changed from a realistic one, and the failures expected).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PREVERIFIED_CLAIMS } from '../../../src/oidc/providers/index.js';
import type { Claims, Provider } from '../../../src/oidc/providers/types.js';

export interface RuleCase<C> {
  name: string;
  /** Changes to the token; a value of `undefined` removes the claim. */
  claims?: Record<string, unknown>;
  /** Changes to the publisher. */
  config?: Partial<C>;
  /** The issuer the publisher is registered under, when not the default. */
  issuer?: string;
  /** The messages `check` returns, in table order ([] = accepted). */
  failures: string[];
}

export function withClaims(
  base: Claims,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const claims: Record<string, unknown> = { ...base, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete claims[name];
  return claims;
}

/**
 * One test per rule of the provider's table, named after the rule, running that rule's cases;
 * plus a test that no case table names a claim the table does not have.
 */
export function ruleTests<C>(
  provider: Provider<C>,
  base: { claims: Claims; config: C; issuer: string },
  cases: Record<string, RuleCase<C>[]>,
): void {
  for (const rule of provider.rules) {
    test(`${provider.displayName} rule '${rule.claim}' (${rule.kind}): ${rule.check}`, async (t) => {
      const table = cases[rule.claim];
      assert.ok(table && table.length > 0, `no cases for the rule '${rule.claim}'`);
      assert.ok(
        table.some((c) => c.failures.length === 0) && table.some((c) => c.failures.length > 0),
        `the rule '${rule.claim}' needs accepted and refused cases`,
      );
      for (const c of table) {
        await t.test(c.name, () => {
          const claims = withClaims(base.claims, c.claims);
          const config = { ...base.config, ...c.config };
          const failures = provider.check(config, claims, c.issuer ?? base.issuer);
          assert.deepEqual(
            failures.map((f) => f.message),
            c.failures,
          );
          const ruled = provider.rules.map((r) => r.claim);
          for (const f of failures)
            assert.ok(ruled.includes(f.claim), `'${f.claim}' is a rule's claim`);
        });
      }
    });
  }
  test(`${provider.displayName}: every case table belongs to a rule`, () => {
    const claims = provider.rules.map((r) => r.claim);
    for (const name of Object.keys(cases))
      assert.ok(claims.includes(name), `no rule for '${name}'`);
  });
}

/** Every claim of a documented token is in the table, deliberately unchecked, or preverified. */
export function assertClassified(provider: Provider<unknown>, token: Claims): void {
  const ruled = provider.rules.map((r) => r.claim);
  for (const claim of Object.keys(token)) {
    const places = [
      ruled.includes(claim),
      provider.uncheckedClaims.includes(claim) ||
        provider.uncheckedPrefixes.some((p) => claim.startsWith(p)),
      PREVERIFIED_CLAIMS.includes(claim),
    ].filter(Boolean).length;
    assert.equal(places, 1, `the claim '${claim}' is classified ${places} times`);
  }
}

/**
 * The cases of the protected-ref rule (src/oidc/providers/protected-ref.ts), shared by GitHub and
 * GitLab: both send `ref_protected` as the string "true" or "false".
 */
export function protectedRefCases<C extends { protectedRef?: string }>(): RuleCase<C>[] {
  const only = { protectedRef: 'true' } as Partial<C>;
  return [
    {
      name: 'an unprotected ref, the publisher asks nothing',
      claims: { ref_protected: 'false' },
      failures: [],
    },
    {
      name: 'no claim, the publisher asks nothing',
      claims: { ref_protected: undefined },
      failures: [],
    },
    {
      name: 'a protected ref, protected refs only',
      claims: { ref_protected: 'true' },
      config: only,
      failures: [],
    },
    {
      name: 'an unprotected ref, protected refs only',
      claims: { ref_protected: 'false' },
      config: only,
      failures: [
        "Check failed for claim 'ref_protected': expected 'true' (protected branches and tags only), got 'false'",
      ],
    },
    {
      name: 'no claim, protected refs only',
      claims: { ref_protected: undefined },
      config: only,
      failures: [
        "Missing claim 'ref_protected': the publisher accepts protected branches and tags only",
      ],
    },
    {
      name: 'a boolean instead of the string',
      claims: { ref_protected: true },
      config: only,
      failures: ["Check failed for claim 'ref_protected': expected a string, got a boolean"],
    },
    {
      name: "'TRUE' is not 'true'",
      claims: { ref_protected: 'TRUE' },
      config: only,
      failures: [
        "Check failed for claim 'ref_protected': expected 'true' (protected branches and tags only), got 'TRUE'",
      ],
    },
    {
      name: "'true' with a newline",
      claims: { ref_protected: 'true\n' },
      config: only,
      failures: ["Check failed for claim 'ref_protected': it contains a control character"],
    },
  ];
}

/** Registering protected refs only: stored, described, and its own identity (GitHub, GitLab). */
export function protectedRefRegistrationTest<C extends { protectedRef?: string }>(
  provider: Provider<C>,
  valid: Record<string, string | undefined>,
  publisher: C,
): void {
  test(`${provider.displayName}: protected refs only — registered, described, and its own identity`, () => {
    const only = provider.validateConfig({ ...valid, protectedRef: 'true' });
    assert.ok(only.ok);
    assert.equal(only.config.protectedRef, 'true');
    assert.match(provider.describe(only.config), /, protected refs only$/);
    const any = provider.validateConfig({ ...valid, protectedRef: 'false' });
    assert.ok(any.ok);
    assert.equal('protectedRef' in (any.config as object), false, 'stored as before when off');
    assert.deepEqual(provider.validateConfig({ ...valid, protectedRef: 'yes' }), {
      ok: false,
      errors: { protectedRef: "Must be 'true' (protected branches and tags only) or 'false'" },
    });
    // Off, the identity is the one stored before the rule existed; on, it is another publisher.
    assert.equal(
      provider.identityOf({ ...publisher, protectedRef: '' }),
      provider.identityOf(publisher),
    );
    assert.notEqual(provider.identityOf(only.config), provider.identityOf(any.config));
  });
}
