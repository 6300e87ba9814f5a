// The registry is the one list of providers: the web form, the CLI options, the REST API's
// validation and messages, the docs' table and the provenance line are derived from it, and
// every definition in it is whole (fields its validation knows, CLI options that become those
// fields, a stored configuration that parses back to itself).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Command } from 'commander';
import {
  registerTrustedPublishingCommands,
  publisherFields,
} from '../../../src/cli/trusted-publishing.js';
import {
  BUILTIN_ISSUERS,
  cliAttribute,
  kindList,
  mergedCliOptions,
  PROVIDER_KINDS,
  PROVIDERS,
} from '../../../src/oidc/providers/index.js';
import {
  generatedPart,
  generatedSections,
  normalizedMarkdown,
  normalizedTable,
  providerSections,
  providersTable,
} from '../../../src/oidc/providers/docs.js';
import type { ProviderKind } from '../../../src/oidc/providers/types.js';
import { PROVIDER_FIELDS, PROVIDER_LABELS } from '../../../src/web/render/publisher-forms.js';
import { identityRules, unsupportedKind } from '../../../src/attestations/identity.js';
import type { Actor } from '../../../src/audit/log.js';

/** The provider's example registration, as a user types it. */
const example = (kind: ProviderKind): Record<string, string> =>
  PROVIDERS[kind].example as Record<string, string>;

function publisherAddCommand(): Command {
  const program = new Command();
  const unused = (() => {
    throw new Error('not run');
  }) as never;
  registerTrustedPublishingCommands(program, unused, { principal: { kind: 'operator' } } as Actor);
  const publisher = program.commands.find((c) => c.name() === 'publisher')!;
  return publisher.commands.find((c) => c.name() === 'add')!;
}

test('every registered provider is whole: its kind, its issuer, a valid registration', () => {
  assert.ok(PROVIDER_KINDS.length >= 4);
  assert.equal(
    new Set(PROVIDER_KINDS.map((k) => PROVIDERS[k].displayName)).size,
    PROVIDER_KINDS.length,
  );
  for (const kind of PROVIDER_KINDS) {
    const p = PROVIDERS[kind];
    assert.equal(p.kind, kind);
    // A self-hosted forge (Forgejo) has none: each instance is registered.
    assert.equal(BUILTIN_ISSUERS[kind], p.builtinIssuer ?? undefined);
    assert.ok(p.fields.length > 0 && p.rules.length > 0, kind);
    assert.equal(p.validateConfig(example(kind)).ok, true, kind);
  }
});

test('the web form shows exactly each provider’s registration fields, which its validation knows', () => {
  for (const kind of PROVIDER_KINDS) {
    const p = PROVIDERS[kind];
    assert.equal(PROVIDER_LABELS[kind], p.displayName);
    assert.deepEqual(
      PROVIDER_FIELDS[kind].map((f) => f.name),
      p.fields.map((f) => f.name),
    );
    assert.deepEqual(
      p.fields.map((f) => f.name).sort(),
      Object.keys(example(kind)).sort(),
      `${kind}: the form's fields are the registration's`,
    );
    // Every error of an empty registration lands next to one of the form's fields (the GitHub
    // owner id is optional in the form: the service looks it up before validating).
    const empty = p.validateConfig({});
    assert.equal(empty.ok, false, kind);
    if (!empty.ok)
      for (const name of Object.keys(empty.errors))
        assert.ok(
          p.fields.some((f) => f.name === name),
          `${kind}: the error for '${name}' lands next to a field of the form`,
        );
    for (const f of p.fields.filter((f) => !f.optional && !f.choices)) {
      const without = p.validateConfig({ ...example(kind), [f.name]: '' });
      assert.ok(!without.ok && without.errors[f.name], `${kind}: '${f.name}' is required`);
    }
  }
});

test('pier publisher add has every provider’s options, and each becomes that provider’s fields', () => {
  const add = publisherAddCommand();
  const attributes = add.options.map((o) => o.attributeName());
  for (const option of mergedCliOptions())
    assert.ok(attributes.includes(option.attribute), `--${option.attribute} is an option`);
  const provider = add.options.find((o) => o.attributeName() === 'provider')!;
  assert.deepEqual(provider.argChoices, [...PROVIDER_KINDS]);
  for (const kind of PROVIDER_KINDS) {
    const p = PROVIDERS[kind];
    for (const o of p.cli.options) {
      const attribute = cliAttribute(o.flags);
      const merged = mergedCliOptions().find((m) => m.attribute === attribute)!;
      assert.ok(merged.kinds.includes(kind) && merged.description.includes(o.description));
    }
    // The docs' example of the options, parsed by commander, is a valid registration.
    const example = p.cli.example.replace(/\[[^\]]*\]/g, '').trim();
    const values = example.split(/\s+/);
    const parsed = publisherAddCommand().parseOptions(['--provider', kind, ...values]);
    assert.deepEqual(parsed.unknown, [], `${kind}: ${example}`);
    const fields = publisherFields({ provider: kind, ...cliFlags(kind, values) });
    const names = p.fields.map((f) => f.name);
    for (const name of Object.keys(fields))
      assert.ok(names.includes(name), `${kind}: the option becomes the field '${name}'`);
  }
  assert.throws(
    () => publisherFields({ provider: 'travis' }),
    /Unknown provider 'travis': use github/,
  );
});

function cliFlags(_kind: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < values.length; i += 2) out[cliAttribute(values[i]!)] = values[i + 1]!;
  return out;
}

test('a stored configuration parses back to itself; anything else is refused', () => {
  for (const kind of PROVIDER_KINDS) {
    const p = PROVIDERS[kind];
    const result = p.validateConfig(example(kind));
    assert.ok(result.ok);
    const stored = JSON.parse(JSON.stringify(result.config)) as unknown;
    assert.deepEqual(p.parseConfig(stored), result.config, kind);
    assert.equal(p.parseConfig(null), null);
    assert.equal(p.parseConfig([]), null);
    assert.equal(p.parseConfig('x'), null);
    const first = p.fields.find((f) => !f.optional)!.name;
    assert.equal(p.parseConfig({ ...(stored as object), [first]: 7 }), null, `${kind}: ${first}`);
    assert.equal(p.parseConfig({ ...(stored as object), [first]: undefined }), null);
  }
});

test('the REST API’s and the CLI’s messages name every provider', () => {
  for (const kind of PROVIDER_KINDS) assert.ok(kindList().includes(kind));
});

test('attestation policies and provenance links come from each definition', () => {
  for (const kind of PROVIDER_KINDS) {
    const p = PROVIDERS[kind];
    const rules = identityRules(kind);
    if (p.attestation.shape === 'unsupported') {
      assert.equal(rules, null);
      assert.equal(unsupportedKind(kind), p.attestation.reason);
    } else {
      assert.ok(rules && rules[0]!.field === 'issuer', kind);
      assert.equal(unsupportedKind(kind), null);
    }
    const links = p.links({}, p.builtinIssuer ?? 'https://codeberg.org/api/actions');
    assert.equal(links.commitUrl, null);
    assert.equal(links.runUrl, null);
  }
});

test('docs/trusted-publishing.md holds the table the registry generates', () => {
  const doc = readFileSync(
    new URL('../../../../docs/trusted-publishing.md', import.meta.url),
    'utf8',
  );
  const part = generatedPart(doc);
  assert.ok(part !== null, 'the providers table markers are in the document');
  assert.equal(
    normalizedTable(part),
    normalizedTable(providersTable()),
    'the table drifted from the registry: run node build/src/oidc/providers/docs.js --write',
  );
  for (const kind of PROVIDER_KINDS) assert.ok(part.includes(`\`${kind}\``), kind);
});

test('docs/trusted-publishing.md has the section the registry generates for each provider', () => {
  const doc = readFileSync(
    new URL('../../../../docs/trusted-publishing.md', import.meta.url),
    'utf8',
  );
  const part = generatedSections(doc);
  assert.ok(part !== null, 'the provider sections markers are in the document');
  assert.equal(
    normalizedMarkdown(part),
    normalizedMarkdown(providerSections()),
    'the provider sections drifted from the registry: run node build/src/oidc/providers/docs.js --write',
  );
  for (const kind of PROVIDER_KINDS) {
    assert.ok(part.includes(`(\`--provider ${kind}\`)`), kind);
    for (const rule of PROVIDERS[kind].rules) assert.ok(part.includes(`\`${rule.claim}\``));
  }
});
