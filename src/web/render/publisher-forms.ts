// The registration forms of the providers, from the registry (src/oidc/providers/index.ts): each
// provider's `fields` are the registration fields of PublisherService (`validateConfig`), so its
// field errors land next to their inputs; the validation itself is the service's, the same as
// the CLI's and the API's.
import type { Issuer } from '../../oidc/issuers.js';
import { PROVIDER_KINDS, PROVIDERS } from '../../oidc/providers/index.js';
import type { ProviderKind, RegistrationField } from '../../oidc/providers/types.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, formError, select, type PageContext } from './layout.js';

export type ProviderField = RegistrationField;

export { PROVIDER_KINDS };

export const PROVIDER_LABELS = Object.fromEntries(
  PROVIDER_KINDS.map((k) => [k, PROVIDERS[k].displayName]),
) as Readonly<Record<ProviderKind, string>>;

export const PROVIDER_FIELDS = Object.fromEntries(
  PROVIDER_KINDS.map((k) => [k, PROVIDERS[k].fields]),
) as Readonly<Record<ProviderKind, readonly ProviderField[]>>;

export function isProviderKindValue(value: string): value is ProviderKind {
  return (PROVIDER_KINDS as readonly string[]).includes(value);
}

/** The provider's registration fields from a form body. */
export function providerFields(
  kind: ProviderKind,
  read: (name: string) => string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of PROVIDER_FIELDS[kind]) out[f.name] = read(f.name);
  return out;
}

export interface PublisherFormState {
  kind: ProviderKind;
  values: Record<string, string>;
  errors: Record<string, string>;
  formError: string | null;
}

export function providerTabs(base: string, current: ProviderKind): SafeHtml {
  return html`<nav class="tabs" aria-label="Provider">
    ${PROVIDER_KINDS.map(
      (k) =>
        html`<a href="${base}?provider=${k}" ${k === current ? html` aria-current="page"` : ''}
          >${PROVIDER_LABELS[k]}</a
        >`,
    )}
  </nav>`;
}

/** The form of one provider, with each field's error next to it. */
export function publisherForm(
  ctx: PageContext,
  action: string,
  state: PublisherFormState,
  issuers: Issuer[],
  extra: SafeHtml | '' = '',
): SafeHtml {
  const kindIssuers = issuers.filter((i) => i.kind === state.kind);
  return html`<form
    method="post"
    action="${action}"
    id="publisher-form"
    data-provider="${state.kind}"
  >
    ${csrfField(ctx)}
    <input type="hidden" name="provider" value="${state.kind}" />
    ${formError(state.formError)} ${extra}
    <div class="grid-2">
      ${PROVIDER_FIELDS[state.kind].map((f) =>
        f.choices
          ? select(f.name, f.label, f.choices, {
              value: state.values[f.name] ?? '',
              error: state.errors[f.name],
              hint: f.hint,
            })
          : field(f.name, f.optional ? `${f.label} (optional)` : f.label, {
              value: state.values[f.name] ?? '',
              error: state.errors[f.name],
              placeholder: f.placeholder,
              hint: f.hint,
            }),
      )}
      ${select(
        'issuer',
        'Issuer',
        kindIssuers.map((i) => ({
          value: i.builtin ? '' : i.url,
          label: i.builtin ? `${i.url} (built in)` : i.url,
        })),
        {
          value: state.values.issuer ?? '',
          error: state.errors.issuer,
          hint: 'Tokens of any other issuer never match this publisher.',
        },
      )}
    </div>
    <button type="submit">Add</button>
  </form>`;
}
