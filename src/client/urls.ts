// The URLs the client derives from the upload URL: the root of the upload host (where PyPI serves
// its trusted-publishing endpoints; tp-discovery.ts finds PEP 807's), where the project's Simple
// page is (for --skip-existing), and the one transport rule: HTTPS, or plain HTTP to a loopback
// address.
import { isIP } from 'node:net';
import { normalizeProjectName } from '../packaging/names.js';
import { PublishError } from './errors.js';

export const PYPI_UPLOAD_URL = 'https://upload.pypi.org/legacy/';

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) {
    if (host === '::1' || /^0*:(0*:){0,6}0*1$/.test(host)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    return mapped !== null && (mapped[1] ?? '').startsWith('127.');
  }
  return false;
}

/**
 * Parses a URL the client will send credentials or tokens to. HTTPS always; plain HTTP only
 * to a loopback address (a development index). `what` names the setting in the message.
 */
export function secureUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PublishError('usage', `${what} '${text}' is not a URL`, {
      hints: [`Give an absolute URL, e.g. ${PYPI_UPLOAD_URL}`],
    });
  }
  if (url.username || url.password)
    throw new PublishError('usage', `${what} must not contain credentials`, {
      hints: ['Pass an API token with --token or PIER_TOKEN instead.'],
    });
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:')
    throw new PublishError(
      'usage',
      `${what} ${url.href} is plain HTTP: tokens and packages are sent only over HTTPS (plain HTTP is allowed for a loopback address)`,
      { hints: [`Use https://${url.host}${url.pathname}`] },
    );
  throw new PublishError('usage', `${what} ${url.href} is not an http(s) URL`);
}

/** The root of the upload host, where `/_/oidc/…` live: scheme, host and port only. */
export function oidcBaseUrl(uploadUrl: URL): string {
  return `${uploadUrl.protocol}//${uploadUrl.host}`;
}

/**
 * The Simple index that belongs to an upload URL: `…/legacy/` becomes `…/simple/`, PyPI's
 * `upload.pypi.org` becomes `pypi.org` (TestPyPI keeps its host); any other path maps to
 * `/simple/` at the root of the host.
 */
export function simpleIndexUrl(uploadUrl: URL): string {
  const url = new URL(uploadUrl.href);
  url.search = '';
  url.hash = '';
  if (url.hostname === 'upload.pypi.org') url.hostname = 'pypi.org';
  const legacy = /^(.*\/)legacy\/?$/.exec(url.pathname);
  url.pathname = legacy ? `${legacy[1]}simple/` : '/simple/';
  return url.href;
}

/** `<index>/<normalized name>/`, the project's Simple page (PEP 503). */
export function projectPageUrl(indexUrl: string, project: string): string {
  const base = indexUrl.endsWith('/') ? indexUrl : `${indexUrl}/`;
  return `${base}${encodeURIComponent(normalizeProjectName(project))}/`;
}
