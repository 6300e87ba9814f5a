// A ready-to-copy CI configuration for each trusted publisher, pointing at this index's upload
// URL (`<public URL>/legacy/`): each provider's template (src/oidc/providers/<kind>: `template`),
// with the upload URL as that platform's configuration reads it.
import { isLoopbackLiteral } from '../../oidc/issuers.js';
import { PROVIDERS } from '../../oidc/providers/index.js';
import type { PublisherView } from '../../oidc/publishers.js';

export { PYPA_ACTION } from '../../oidc/providers/github.js';
export { yamlScalar } from '../../oidc/providers/core.js';

/** What the rendered configuration depends on besides the publisher. */
export interface WorkflowSettings {
  /** This index's public URL. */
  publicUrl: string;
  /** The OIDC audience CI tokens are minted for. */
  audience: string;
  /** The GitHub Action reference (`owner/repo@ref`) to use, or null for the pypa action. */
  actionRef: string | null;
}

/**
 * Whether a CI runner could reach a URL: a loopback address (127.0.0.0/8, ::1, localhost) names
 * the runner itself, never this index.
 */
export function runnerCanReach(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return !(isLoopbackLiteral(host) || host === 'localhost' || host.endsWith('.localhost'));
}

/** The variable a runner's configuration reads the upload URL from, when pier's is loopback. */
export const UPLOAD_URL_VARIABLE = 'PIER_REPOSITORY_URL';

export interface Workflow {
  /** Where the file goes in the repository, or null when there is none to write. */
  path: string | null;
  /** The file's text (or, without a path, instructions). */
  text: string;
  language: 'yaml' | 'text';
  /** Set when this index's public URL is one a runner cannot reach: what to do about it. */
  unreachable: string | null;
}

export function workflowFor(p: PublisherView, settings: WorkflowSettings): Workflow {
  const provider = PROVIDERS[p.kind];
  const url = `${settings.publicUrl.replace(/\/+$/, '')}/legacy/`;
  const reachable = runnerCanReach(url);
  // A loopback public URL: the platform's variable for the address runners do reach.
  const uploadUrl = reachable
    ? url
    : (provider.template.variable(UPLOAD_URL_VARIABLE) ??
      `this index's upload URL (as the runner reaches it)`);
  const template = provider.template.render(p.config, {
    uploadUrl,
    audience: settings.audience,
    actionRef: settings.actionRef,
  });
  return {
    ...template,
    unreachable: reachable
      ? null
      : `This index's public URL (${settings.publicUrl}) is a loopback address: a CI runner cannot reach it. ` +
        `The index must be reachable by the runner: set PIER_PUBLIC_URL to the address runners use, ` +
        `or define the CI variable ${UPLOAD_URL_VARIABLE} as <that address>/legacy/.`,
  };
}
