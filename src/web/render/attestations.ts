// A file's PEP 740 attestations on the project page: each one's predicate, the identity its
// verified certificate carries (repository, workflow, ref, commit, or the service account), and
// a link to its transparency-log entry; and a release's provenance status.
import { PREDICATE_TYPES } from '../../attestations/shape.js';
import {
  STATUS_TEXT,
  DEGRADED,
  type ProjectProvenance,
  type ProvenanceStatus,
} from '../../attestations/status.js';
import type { StoredAttestation } from '../../attestations/service.js';
import { html, linkOrText, safeHttpUrl, type SafeHtml } from '../html.js';

const PREDICATE_NAMES: Record<string, string> = {
  [PREDICATE_TYPES[0]]: 'Publish attestation',
  [PREDICATE_TYPES[1]]: 'SLSA provenance',
};

/**
 * The log entry's page: Sigstore's search for the public-good Rekor, the log's own API otherwise.
 * Null when the log or the index is unknown.
 */
export function logEntryUrl(logUrl: string | null, logIndex: string | null): string | null {
  if (logUrl === null || logIndex === null || !/^[0-9]{1,20}$/.test(logIndex)) return null;
  if (logUrl.replace(/\/+$/, '') === 'https://rekor.sigstore.dev')
    return `https://search.sigstore.dev/?logIndex=${logIndex}`;
  return safeHttpUrl(`${logUrl.replace(/\/+$/, '')}/api/v1/log/entries?logIndex=${logIndex}`);
}

function identityLine(a: StoredAttestation): string {
  const { fields, san } = a.identity;
  if (a.publisher.kind === 'Google') return san;
  const config = fields.buildConfigUri ?? fields.buildSignerUri ?? san;
  return config;
}

export function renderAttestations(list: readonly StoredAttestation[]): SafeHtml | '' {
  if (list.length === 0) return '';
  return html`<div class="attestations">
    ${list.map((a) => {
      const entry = logEntryUrl(a.identity.logUrl, a.identity.logIndex);
      const commit = a.identity.fields.sourceRepositoryDigest;
      return html`<div class="attestation" data-predicate-type="${a.predicateType}">
        <span class="badge badge-tp" title="${a.predicateType}"
          >${PREDICATE_NAMES[a.predicateType] ?? a.predicateType}</span
        >
        <span class="prov-part"
          ><span class="prov-label">verified identity</span> <code>${identityLine(a)}</code></span
        >
        ${commit ? html`<span class="prov-part"><span class="prov-label">commit</span> <code>${commit.slice(0, 12)}</code></span>` : ''}
        ${
          a.identity.logIndex !== null
            ? html`<span class="prov-part"
                ><span class="prov-label">transparency log</span>
                ${entry ? linkOrText(entry, `entry ${a.identity.logIndex}`) : `entry ${a.identity.logIndex}`}</span
              >`
            : ''
        }
      </div>`;
    })}
  </div>`;
}

export function renderProvenanceStatus(status: ProvenanceStatus | null): SafeHtml | '' {
  if (status === null || status === 'none') return '';
  const degraded = DEGRADED.includes(status);
  return html`<p
    class="provenance-status ${degraded ? 'degraded' : 'full'}"
    data-status="${status}"
  >
    <span class="prov-label">Provenance:</span> ${STATUS_TEXT[status]}
  </p>`;
}

/**
 * The project's provenance, above its releases: nothing when none was ever attested; a warning
 * when a release degraded it (the `provenance-degraded` audit event has the details).
 */
export function renderProjectProvenance(
  p: ProjectProvenance,
  auditUrl: string | null,
): SafeHtml | '' {
  if (p.status === 'none') return '';
  if (p.status === 'full')
    return html`<p class="project-provenance full" data-project-status="full">
      <span class="prov-label">Project provenance:</span> the latest release is attested by the same
      publisher as the releases before it
    </p>`;
  return html`<p class="project-provenance degraded" data-project-status="degraded" role="alert">
    <span class="prov-label">Project provenance degraded</span> by release ${p.version}:
    ${STATUS_TEXT[p.release!]}.${auditUrl ? html` <a href="${auditUrl}">See the audit log</a>.` : ''}
  </p>`;
}
