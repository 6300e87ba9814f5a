// The registry: the trusted-publishing providers pier knows, in the order the web form, the CLI,
// the REST API's messages and the docs list them. Each is one module (src/oidc/providers/<kind>)
// exporting one definition; everything provider-specific elsewhere is derived from this list.
// Adding a provider: its module, its line here, its kind in ProviderKind, its test file.
import { activestateProvider } from './activestate.js';
import { bitbucketProvider } from './bitbucket.js';
import { azureProvider } from './azure.js';
import { buildkiteProvider } from './buildkite.js';
import { circleciProvider } from './circleci.js';
import { genericProvider } from './generic.js';
import { forgejoProvider } from './forgejo.js';
import { githubProvider } from './github.js';
import { gitlabProvider } from './gitlab.js';
import { googleProvider } from './google.js';
import { jenkinsProvider } from './jenkins.js';
import type { CliOption, Provider, ProviderKind } from './types.js';

export { PREVERIFIED_CLAIMS } from './core.js';

/** Every provider, in display order (the compiler checks that each kind has one). */
export const PROVIDERS: { readonly [K in ProviderKind]: Provider<unknown> } = {
  github: githubProvider,
  gitlab: gitlabProvider,
  google: googleProvider,
  activestate: activestateProvider,
  buildkite: buildkiteProvider,
  generic: genericProvider,
  forgejo: forgejoProvider,
  circleci: circleciProvider,
  bitbucket: bitbucketProvider,
  jenkins: jenkinsProvider,
  azure: azureProvider,
};

/** The kinds, in display order. */
export const PROVIDER_KINDS = Object.keys(PROVIDERS) as readonly ProviderKind[];

/** Built-in issuer URLs, exactly as tokens carry them in `iss` (not every kind has one). */
export const BUILTIN_ISSUERS = Object.fromEntries(
  PROVIDER_KINDS.flatMap((k) => {
    const url = PROVIDERS[k].builtinIssuer;
    return url === null ? [] : [[k, url]];
  }),
) as Readonly<Partial<Record<ProviderKind, string>>>;

/** "github, gitlab, google or activestate". */
export function kindList(): string {
  const kinds = [...PROVIDER_KINDS];
  const last = kinds.pop();
  return kinds.length ? `${kinds.join(', ')} or ${last}` : (last ?? '');
}

/** A `pier publisher add` option and the providers that take it. */
export interface MergedCliOption {
  flags: string;
  /** commander's attribute name: '--activestate-project <x>' → 'activestateProject'. */
  attribute: string;
  description: string;
  kinds: ProviderKind[];
  repeatable: boolean;
}

export function cliAttribute(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? '';
  return long.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Every provider's `pier publisher add` options, one per flag: options that several providers
 * share (`--repository`, `--workflow`, …) are one option whose help names each provider's use.
 */
export function mergedCliOptions(): MergedCliOption[] {
  const byAttribute = new Map<string, MergedCliOption & { parts: string[] }>();
  for (const kind of PROVIDER_KINDS) {
    for (const option of PROVIDERS[kind].cli.options as readonly CliOption[]) {
      const attribute = cliAttribute(option.flags);
      const found = byAttribute.get(attribute);
      if (found) {
        if (!found.parts.includes(option.description)) found.parts.push(option.description);
        found.kinds.push(kind);
        found.repeatable ||= option.repeatable === true;
      } else
        byAttribute.set(attribute, {
          flags: option.flags,
          attribute,
          description: '',
          kinds: [kind],
          repeatable: option.repeatable === true,
          parts: [option.description],
        });
    }
  }
  return [...byAttribute.values()].map(({ parts, ...o }) => ({
    ...o,
    description: parts.join('; '),
  }));
}

/**
 * A publisher's stored configuration (`publishers.config_json`), parsed and typed by its
 * provider once, where it leaves the database. A row that is not one of the provider's
 * configurations was written by no validation: an internal error, never a match.
 */
export function readStoredConfig(provider: Provider<unknown>, json: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const config = provider.parseConfig(parsed);
  if (config === null)
    throw new Error(`A stored ${provider.displayName} publisher configuration is malformed`);
  return config;
}
