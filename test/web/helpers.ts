// Helpers of the web interface's tests: a small HTTP client with a cookie jar (for the tests
// that need no browser), and Debian's Chromium driven by playwright-core.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import type { TestServer } from '../support/server.js';
import { OPERATOR } from '../support/server.js';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium. `trustCert`: a server certificate (PEM) Chromium accepts by its public key
 * (`--ignore-certificate-errors-spki-list`), the browser's way to trust the tests' private CA for
 * that one key; every other certificate is still verified.
 */
export async function launchChromium(
  trustCert?: string,
  extraArgs: readonly string[] = [],
): Promise<Browser> {
  const args = [...CHROMIUM_ARGS, ...extraArgs];
  if (trustCert) {
    const cert = new X509Certificate(readFileSync(trustCert));
    const spki = createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    args.push(`--ignore-certificate-errors-spki-list=${spki}`);
  }
  return chromium.launch({ executablePath: '/usr/bin/chromium', args });
}

export interface Page {
  status: number;
  text: string;
  location: string | null;
  headers: Headers;
  setCookies: string[];
}

/** The CSRF token of the first form of a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF field in the page:\n${html.slice(0, 2000)}`);
  return m[1]!;
}

/** A browser without JavaScript: GET and POST with cookies, no redirect followed. */
export class WebClient {
  readonly cookies = new Map<string, string>();
  lastCsrf: string | null = null;

  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private async request(path: string, init: RequestInit): Promise<Page> {
    const res = await fetch(`${this.base}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: this.cookieHeader() },
    });
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.lastCsrf = m[1]!;
    return {
      status: res.status,
      text,
      location: res.headers.get('location'),
      headers: res.headers,
      setCookies,
    };
  }

  get(path: string): Promise<Page> {
    return this.request(path, { method: 'GET' });
  }

  /** POSTs a form; `_csrf` is the last page's token unless the fields give one (or null: none). */
  post(path: string, fields: Record<string, string | null> = {}): Promise<Page> {
    const body = new URLSearchParams();
    const withCsrf = { _csrf: this.lastCsrf, ...fields };
    for (const [k, v] of Object.entries(withCsrf)) if (v !== null) body.append(k, v);
    return this.request(path, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** Signs in (GET the form for its CSRF token, POST it); returns the answer to the POST. */
  async signIn(username: string, password: string): Promise<Page> {
    await this.get('/login');
    return this.post('/login', { username, password, next: '/' });
  }
}

/** A user with a password, added by the operator. */
export async function addUser(
  server: TestServer,
  username: string,
  opts: { admin?: boolean; mayCreateProjects?: boolean } = {},
): Promise<string> {
  const password = `${username}-password-1`;
  await server.services.auth.addUser(OPERATOR, { username, password, ...opts });
  return password;
}
