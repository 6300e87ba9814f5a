// The provenance line of a file published through trusted publishing: the publisher, and from
// the claims the repository, workflow, environment, commit and a link to the CI run, as the
// publisher's provider reads them (src/oidc/providers/<kind>: `links`). Links are built only
// from claims that have the expected shape (numbers for run ids, hexadecimal for commits,
// path-safe names), on the web host of the publisher's issuer, and only as http(s).
import { isProviderKind } from '../../oidc/issuers.js';
import { isCommitSha } from '../../oidc/providers/core.js';
import { PROVIDERS } from '../../oidc/providers/index.js';
import { html, linkOrText, safeHttpUrl, type SafeHtml } from '../html.js';

/** As the JSON API shows it (src/simple/json-api.ts, from src/oidc/exchange.ts). */
export interface Provenance {
  publisher: {
    id: number;
    kind: string;
    issuer: string;
    description: string;
    url: string | null;
  };
  claims: Record<string, string | null>;
}

export function isProvenance(value: unknown): value is Provenance {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const p = v.publisher as Record<string, unknown> | undefined;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.kind === 'string' &&
    typeof p.issuer === 'string' &&
    typeof v.claims === 'object' &&
    v.claims !== null
  );
}

export interface ProvenanceFacts {
  repository: string | null;
  workflow: string | null;
  ref: string | null;
  environment: string | null;
  commit: string | null;
  commitUrl: string | null;
  runLabel: string | null;
  runUrl: string | null;
  publisher: string;
  publisherUrl: string | null;
}

function claim(claims: Record<string, unknown>, name: string): string | null {
  const v = claims[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

export function provenanceFacts(p: Provenance): ProvenanceFacts {
  const c = p.claims as Record<string, unknown>;
  const sha = claim(c, 'sha');
  const facts: ProvenanceFacts = {
    repository: null,
    workflow: null,
    ref: null,
    environment: claim(c, 'environment'),
    commit: sha !== null && isCommitSha(sha) ? sha : null,
    commitUrl: null,
    runLabel: null,
    runUrl: null,
    publisher: p.publisher.description,
    publisherUrl: safeHttpUrl(p.publisher.url),
  };
  if (!isProviderKind(p.publisher.kind)) return facts;
  // The provider names the repository, the workflow and the links; only http(s) links are kept.
  const links = PROVIDERS[p.publisher.kind].links(c, p.publisher.issuer);
  return {
    ...facts,
    repository: links.repository,
    workflow: links.workflow,
    ref: links.ref,
    commitUrl: facts.commit !== null ? safeHttpUrl(links.commitUrl) : null,
    runLabel: links.runLabel,
    runUrl: safeHttpUrl(links.runUrl),
  };
}

/** One line (a list of labelled parts) under a file. */
export function renderProvenance(p: Provenance): SafeHtml {
  const f = provenanceFacts(p);
  const part = (label: string, value: SafeHtml | string | null) =>
    value === null || value === ''
      ? ''
      : html`<span class="prov-part"><span class="prov-label">${label}</span> ${value}</span>`;
  const commit =
    f.commit === null
      ? null
      : f.commitUrl
        ? html`<a href="${f.commitUrl}" rel="nofollow noopener noreferrer"
            ><code>${f.commit.slice(0, 12)}</code></a
          >`
        : html`<code>${f.commit.slice(0, 12)}</code>`;
  const run =
    f.runLabel === null ? null : f.runUrl ? linkOrText(f.runUrl, f.runLabel) : html`${f.runLabel}`;
  return html`<div class="provenance" data-publisher-kind="${p.publisher.kind}">
    <span class="badge badge-tp" title="Uploaded with a token minted by trusted publishing"
      >Trusted publishing</span
    >
    ${part('repository', f.repository)} ${part('workflow', f.workflow)} ${part('ref', f.ref)}
    ${part('environment', f.environment)} ${part('commit', commit)} ${part('CI run', run)}
    <span class="prov-part prov-publisher"
      ><span class="prov-label">publisher</span>
      ${f.publisherUrl ? linkOrText(f.publisherUrl, f.publisher) : f.publisher}</span
    >
  </div>`;
}
