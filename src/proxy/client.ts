// The upstream index, reached over HTTP(S) with verified TLS (its CA configurable), bounded in
// time and size. Pages follow redirects only within the upstream's own origin; credentials are
// sent to that origin alone and never logged.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { UpstreamError } from './model.js';

export interface UpstreamClientOptions {
  /** The Simple root, ending in '/'. */
  url: string;
  username: string | null;
  password: string | null;
  /** PEM file of trusted CAs (added to nothing: it replaces the system's for this upstream). */
  caFile: string | null;
  timeoutMs: number;
  maxPageBytes: number;
}

export type PageResult =
  | {
      kind: 'page';
      body: Buffer;
      contentType: string | undefined;
      etag: string | null;
      url: string;
    }
  | { kind: 'not-modified' }
  | { kind: 'missing' };

export const PAGE_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1';

const MAX_REDIRECTS = 3;

export class UpstreamClient {
  private readonly origin: string;
  private readonly ca: Buffer | undefined;
  private readonly authorization: string | undefined;
  /** Requests made to the upstream (pages and files), for metrics and tests. */
  requests = 0;

  constructor(readonly options: UpstreamClientOptions) {
    this.origin = new URL(options.url).origin;
    this.ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.authorization =
      options.username !== null
        ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
        : undefined;
  }

  /** The URL of a project's page at the upstream. */
  pageUrl(normalizedName: string): string {
    return new URL(`${normalizedName}/`, this.options.url).href;
  }

  async page(normalizedName: string, etag: string | null): Promise<PageResult> {
    const headers: Record<string, string> = { accept: PAGE_ACCEPT };
    if (etag) headers['if-none-match'] = etag;
    const deadline = Date.now() + this.options.timeoutMs;
    const { response, url } = await this.get(this.pageUrl(normalizedName), headers, deadline, true);
    const status = response.statusCode ?? 0;
    if (status === 304) {
      response.resume();
      return { kind: 'not-modified' };
    }
    if (status === 404 || status === 410) {
      response.resume();
      return { kind: 'missing' };
    }
    if (status !== 200) {
      response.resume();
      throw new UpstreamError('status', `the upstream answered ${status}`);
    }
    const body = await readBounded(response, this.options.maxPageBytes, deadline);
    const tag = response.headers.etag;
    return {
      kind: 'page',
      body,
      contentType: response.headers['content-type'],
      etag: tag ?? null,
      url,
    };
  }

  /**
   * A file's bytes as a stream. Redirects may leave the upstream's origin (indexes serve files from
   * elsewhere: pypi.org from files.pythonhosted.org) but never downgrade HTTPS; the bytes are
   * checked against the listed SHA-256 by the caller.
   */
  async file(url: string): Promise<IncomingMessage> {
    const deadline = Date.now() + this.options.timeoutMs;
    const { response } = await this.get(url, {}, deadline, false);
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      response.resume();
      throw new UpstreamError('status', `the upstream answered ${status} for a file`);
    }
    return response;
  }

  private async get(
    start: string,
    headers: Record<string, string>,
    deadline: number,
    sameOriginOnly: boolean,
  ): Promise<{ response: IncomingMessage; url: string }> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const response = await this.once(url, headers, deadline);
      const status = response.statusCode ?? 0;
      if (![301, 302, 303, 307, 308].includes(status)) return { response, url };
      response.resume();
      const location = response.headers.location;
      if (!location || hop >= MAX_REDIRECTS)
        throw new UpstreamError('redirect', 'the upstream redirected too often');
      const next = new URL(location, url);
      if (sameOriginOnly && next.origin !== this.origin)
        throw new UpstreamError(
          'redirect',
          `the upstream redirected to another origin (${next.origin})`,
        );
      if (new URL(url).protocol === 'https:' && next.protocol !== 'https:')
        throw new UpstreamError('redirect', 'the upstream redirected to plain HTTP');
      if (next.protocol !== 'https:' && next.protocol !== 'http:')
        throw new UpstreamError('redirect', 'the upstream redirected to a non-HTTP URL');
      url = next.href;
    }
  }

  private once(
    url: string,
    headers: Record<string, string>,
    deadline: number,
  ): Promise<IncomingMessage> {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const all: Record<string, string> = { 'user-agent': 'pier (upstream proxy)', ...headers };
    if (this.authorization && target.origin === this.origin) all.authorization = this.authorization;
    this.requests++;
    return new Promise((resolve, reject) => {
      const remaining = Math.max(1, deadline - Date.now());
      const req = send(target, {
        method: 'GET',
        headers: all,
        ...(target.protocol === 'https:' && this.ca ? { ca: this.ca } : {}),
      });
      const timer = setTimeout(() => {
        req.destroy(
          new UpstreamError(
            'timeout',
            `the upstream did not answer within ${this.options.timeoutMs} ms`,
          ),
        );
      }, remaining);
      req.once('response', (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(
          err instanceof UpstreamError
            ? err
            : new UpstreamError(
                'unreachable',
                `the upstream could not be reached (${(err as NodeJS.ErrnoException).code ?? err.message})`,
              ),
        );
      });
      req.end();
    });
  }
}

/** The whole body, refused beyond `max` bytes or past the deadline. */
function readBounded(response: IncomingMessage, max: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      response.destroy();
      return reject(
        new UpstreamError('too-large', `the upstream's page is larger than ${max} bytes`),
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () => {
        response.destroy();
        reject(new UpstreamError('timeout', 'the upstream did not send its page in time'));
      },
      Math.max(1, deadline - Date.now()),
    );
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        clearTimeout(timer);
        response.destroy();
        reject(new UpstreamError('too-large', `the upstream's page is larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    response.once('error', () => {
      clearTimeout(timer);
      reject(new UpstreamError('unreachable', 'the upstream broke off its page'));
    });
    response.once('aborted', () => {
      clearTimeout(timer);
      reject(new UpstreamError('unreachable', 'the upstream broke off its page'));
    });
  });
}
