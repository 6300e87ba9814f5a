// The OIDC audience and whether trusted publishing may run. The audience defaults to the public
// URL's host (with its port), so tokens minted for one index are useless at another; it may
// never be PyPI's ('pypi', 'testpypi'), so a token meant for PyPI is never accepted here.
// Trusted publishing refuses to run while the public URL is plain HTTP on anything but a
// loopback address: clients only exchange over HTTPS anyway.
import { isLoopbackLiteral } from './issuers.js';

export function oidcAudience(configured: string | null, publicUrl: string): string {
  return configured ?? new URL(publicUrl).host;
}

export function trustedPublishingDisabledReason(publicUrl: string): string | null {
  const url = new URL(publicUrl);
  if (url.protocol === 'https:') return null;
  if (isLoopbackLiteral(url.hostname) || url.hostname === 'localhost') return null;
  return `the public URL ${publicUrl} is plain HTTP; serve pier over HTTPS (PIER_TLS_CERT or a TLS proxy with PIER_PUBLIC_URL=https://…)`;
}
