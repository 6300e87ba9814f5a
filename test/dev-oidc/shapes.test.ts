// Every provider whose module declares a development token shape: `pier dev-oidc --kind KIND`
// serves it, and the publisher its start-up text prints (`pier publisher add … --provider KIND …`)
// matches its tokens under that provider's own rules, while a token of another job does not.
// The variables it exports are enough for `pier publish`'s own detection (src/client/ambient.ts)
// to fetch such a token the way the platform's jobs do (GitHub's GET, Google's metadata server,
// Azure DevOps' POST). A provider that adds a `dev` shape is covered here without a line of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { defaultAmbientContext, detectAmbientToken } from '../../src/client/ambient.js';
import { devKinds, devShape, startDevOidc, type JobSettings } from '../../src/dev-oidc/index.js';
import { publisherFields } from '../../src/cli/trusted-publishing.js';
import { cliAttribute, PROVIDERS } from '../../src/oidc/providers/index.js';
import type { ProviderKind } from '../../src/oidc/providers/types.js';

/**
 * `--name value` pairs as printed (values bare or single-quoted), by commander's attribute; a
 * flag printed more than once (a repeatable option such as --claim) gives the list.
 */
function parsePrinted(flags: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const flag of flags) {
    const m = /^(--[a-z0-9-]+) (.*)$/.exec(flag);
    assert.ok(m, `a printed flag with a value: ${flag}`);
    const raw = m[2]!;
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
    const attribute = cliAttribute(m[1]!);
    const before = out[attribute];
    out[attribute] = before === undefined ? value : [before, value].flat();
  }
  return out;
}

async function tokenOf(kind: ProviderKind, job: JobSettings = {}) {
  const server = await startDevOidc({ kind, ...job });
  try {
    const payload = decodeJwt(await server.mintToken('pier-test'));
    return { server, payload, flags: devShape(kind)!.publisherFlags(server.claims) };
  } finally {
    await server.close();
  }
}

function publisherOf(kind: ProviderKind, flags: string[]) {
  const p = PROVIDERS[kind];
  const fields = publisherFields({ provider: kind, ...parsePrinted(flags) });
  const result = p.validateConfig(fields);
  assert.ok(result.ok, `${kind}: the printed publisher is valid: ${JSON.stringify(result)}`);
  return result.config;
}

test('the kinds dev-oidc imitates are the registry providers that declare a shape', () => {
  const kinds = devKinds();
  assert.ok(kinds.includes('github') && kinds.includes('gitlab') && kinds.includes('forgejo'));
  for (const kind of Object.keys(PROVIDERS) as ProviderKind[])
    assert.equal(kinds.includes(kind), PROVIDERS[kind].dev !== undefined, kind);
});

for (const kind of devKinds()) {
  test(`--kind ${kind}: the printed publisher matches the tokens; another job's does not`, async () => {
    const p = PROVIDERS[kind];
    const shape = devShape(kind)!;
    const { server, payload, flags } = await tokenOf(kind);
    assert.equal(payload.iss, server.url);
    const config = publisherOf(kind, flags);
    assert.deepEqual(p.check(config, payload, server.url), [], `${kind}: the token matches`);

    // Only the exported variables: pier publish finds the job's token as on the platform.
    const dev = await startDevOidc({ kind });
    try {
      const found = await detectAmbientToken('pier-test', defaultAmbientContext(dev.env()));
      assert.ok(found, `${kind}: pier publish finds a token in ${JSON.stringify(dev.env())}`);
      const expected = { actions: 'github', 'gce-metadata': 'google', 'azure-devops': 'azure' };
      assert.equal(found.platform, expected[dev.tokenRequest], kind);
      const fetched = decodeJwt(found.token);
      assert.equal(fetched.iss, dev.url);
      assert.equal(fetched.aud, shape.fixedAudience ?? 'pier-test');
      assert.equal(found.audience, shape.fixedAudience);
      const devConfig = publisherOf(kind, shape.publisherFlags(dev.claims));
      assert.deepEqual(
        p.check(devConfig, fetched, dev.url),
        [],
        `${kind}: the fetched one matches`,
      );
    } finally {
      await dev.close();
    }
    const key = p.lookupKeyOfClaims(payload);
    assert.ok(key.ok, `${kind}: the token has a lookup key`);
    const keys = 'keys' in key ? key.keys : [key.key];
    assert.ok(keys.includes(p.lookupKeyOfConfig(config)), `${kind}: found by its lookup key`);

    // With an environment, the printed publisher names it, and still matches; a platform
    // without deployment environments refuses the flag, saying so.
    const refusal = shape.checkJob({ environment: 'release' });
    if (refusal !== null)
      assert.match(refusal, /^--environment\b.*: \S/); // names the flag, then why
    else {
      const released = await tokenOf(kind, { environment: 'release' });
      const releaseConfig = publisherOf(kind, released.flags);
      assert.deepEqual(p.check(releaseConfig, released.payload, released.server.url), []);
    }

    // A token of another job (another repository, where the shape has one) is refused by the
    // first publisher, or not found by its lookup key at all. A platform without repositories
    // refuses the flag, saying so.
    const elsewhere = shape.checkJob({ repository: 'other-org/other-repo' });
    if (elsewhere !== null) return assert.match(elsewhere, /^--repository\b.*: \S/);
    const other = await tokenOf(kind, { repository: 'other-org/other-repo' });
    const jobClaims = (claims: Readonly<Record<string, unknown>>) => JSON.stringify(claims);
    if (jobClaims(other.server.claims) !== jobClaims(server.claims)) {
      const otherKey = p.lookupKeyOfClaims(other.payload);
      const otherKeys = !otherKey.ok ? [] : 'keys' in otherKey ? otherKey.keys : [otherKey.key];
      const found = otherKeys.includes(p.lookupKeyOfConfig(config));
      assert.ok(
        !found || p.check(config, other.payload, other.server.url).length > 0,
        `${kind}: another repository's token does not match`,
      );
    }
  });
}
