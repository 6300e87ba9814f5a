// The OIDC audience and whether trusted publishing may run. The audience defaults to the public
// URL's host (with its port) and, when the index lives under a path, that path, so tokens minted
// for one index are useless at another, even at a sibling under the same host; it may never be
// PyPI's ('pypi', 'testpypi'), so a token meant for PyPI is never accepted here.
// Trusted publishing refuses to run while the public URL is plain HTTP on anything but a
// loopback address: clients only exchange over HTTPS anyway.
import { isLoopbackLiteral } from './issuers.js';

/**
 * The audience of an index at `publicUrl` when none is configured: `host[:port]` for an index at
 * the root, `host[:port]/path` for one under a path (`https://pkgs.example.com/team-a/` gives
 * `pkgs.example.com/team-a`), so that two indexes under one host never accept each other's tokens.
 */
export function defaultAudience(publicUrl: string): string {
  const url = new URL(publicUrl);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.host}${path}`;
}

export function oidcAudience(configured: string | null, publicUrl: string): string {
  return configured ?? defaultAudience(publicUrl);
}

export function trustedPublishingDisabledReason(publicUrl: string): string | null {
  const url = new URL(publicUrl);
  if (url.protocol === 'https:') return null;
  if (isLoopbackLiteral(url.hostname) || url.hostname === 'localhost') return null;
  return `the public URL ${publicUrl} is plain HTTP; serve pier over HTTPS (PIER_TLS_CERT or a TLS proxy with PIER_PUBLIC_URL=https://…)`;
}
