// The registration forms of the four providers. Field names are the registration fields of
// PublisherService (src/oidc/providers/*: validateConfig), so its field errors land next to
// their inputs; the validation itself is the service's, the same as the CLI's and the API's.
import type { Issuer } from '../../oidc/issuers.js';
import type { ProviderKind } from '../../oidc/providers/types.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, field, formError, select, type PageContext } from './layout.js';

export interface ProviderField {
  name: string;
  label: string;
  placeholder?: string;
  hint?: string;
  optional?: boolean;
  /** A choice among values instead of a text input. */
  choices?: { value: string; label: string }[];
}

const PROTECTED_REF_FIELD: ProviderField = {
  name: 'protectedRef',
  label: 'Refs',
  choices: [
    { value: '', label: 'any ref' },
    { value: 'true', label: 'protected branches and tags only' },
  ],
  hint: 'With protected refs only, a job on an unprotected branch cannot publish (pier).',
};

export const PROVIDER_KINDS: readonly ProviderKind[] = [
  'github',
  'gitlab',
  'google',
  'activestate',
];

export const PROVIDER_LABELS: Record<ProviderKind, string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  google: 'Google',
  activestate: 'ActiveState',
};

export const PROVIDER_FIELDS: Record<ProviderKind, readonly ProviderField[]> = {
  github: [
    {
      name: 'owner',
      label: 'Owner',
      placeholder: 'octo-org',
      hint: 'The GitHub user or organization that owns the repository.',
    },
    { name: 'repository', label: 'Repository name', placeholder: 'octo-repo' },
    {
      name: 'workflow',
      label: 'Workflow file name',
      placeholder: 'release.yml',
      hint: 'The file under .github/workflows/ that publishes.',
    },
    {
      name: 'environment',
      label: 'Environment',
      placeholder: 'release',
      optional: true,
      hint: 'The GitHub environment of the publishing job. Strongly recommended, with required reviewers.',
    },
    {
      name: 'ownerId',
      label: "Owner's numeric id",
      placeholder: '65',
      optional: true,
      hint: "Looked up from the provider's API when left empty; enter it when pier cannot reach the provider (e.g. from https://api.github.com/users/OWNER).",
    },
    {
      name: 'ref',
      label: 'Ref pattern',
      placeholder: 'refs/tags/v*',
      optional: true,
      hint: 'Only these refs may publish (pier): * within a path segment, ** across segments.',
    },
    PROTECTED_REF_FIELD,
  ],
  gitlab: [
    {
      name: 'namespace',
      label: 'Namespace',
      placeholder: 'my-group/subgroup',
      hint: 'The GitLab user, group or subgroup.',
    },
    { name: 'project', label: 'Project name', placeholder: 'my-project' },
    { name: 'workflowPath', label: 'Top-level pipeline file path', placeholder: '.gitlab-ci.yml' },
    { name: 'environment', label: 'Environment', placeholder: 'release', optional: true },
    { name: 'ref', label: 'Ref pattern', placeholder: 'refs/tags/v*', optional: true },
    PROTECTED_REF_FIELD,
  ],
  google: [
    {
      name: 'email',
      label: 'Service account email',
      placeholder: 'publisher@project.iam.gserviceaccount.com',
    },
    {
      name: 'sub',
      label: 'Subject (unique id)',
      optional: true,
      hint: "The account's numeric id: with it, an account re-created under the same email does not match.",
    },
  ],
  activestate: [
    { name: 'organization', label: 'Organization', placeholder: 'my-org' },
    { name: 'project', label: 'ActiveState project', placeholder: 'my-project' },
    { name: 'actor', label: 'Actor (user name)', placeholder: 'my-user' },
    {
      name: 'actorId',
      label: "Actor's id",
      hint: 'The ActiveState user id of the actor (pier does not look it up).',
    },
  ],
};

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
