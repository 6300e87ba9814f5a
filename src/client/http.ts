// HTTP for the publish client, on node:http and node:https: keep-alive connections, request
// bodies streamed with a known length, bounded response bodies, and transport failures sorted
// into "retry", "the certificate is not trusted" and "give up". TLS is always verified against
// Node's CA store plus NODE_EXTRA_CA_CERTS; nothing here can turn verification off.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export const USER_AGENT = `pier-publish (node ${process.versions.node}; ${process.platform})`;

export interface HttpResponse {
  status: number;
  /** The reason phrase (empty on HTTP/2 or when the server sends none). */
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestBody {
  /** Exact number of bytes `chunks()` yields (sent as Content-Length). */
  length: number;
  /** A fresh iteration of the body for each attempt. */
  chunks(): AsyncIterable<Buffer> | Iterable<Buffer>;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | RequestBody;
  /** Milliseconds without any activity on the socket before giving up (default 60 s). */
  idleTimeoutMs?: number;
  /** Largest response body kept (default 16 MiB); the rest is discarded. */
  maxResponseBytes?: number;
  /** Called as body bytes are handed to the socket. */
  onProgress?: (sent: number) => void;
}

/** A request that got no HTTP response. `retryable` is true for transient network failures. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    message: string,
    readonly code: string,
    readonly kind: 'tls' | 'retryable' | 'fatal',
    options: { cause?: unknown } = {},
  ) {
    super(message);
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** OpenSSL's and Node's codes for a certificate the client cannot trust. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Failures worth another attempt: the connection broke or the network hiccupped. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'IDLE_TIMEOUT',
]);

export function classifyTransportError(err: unknown, url: URL): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN';
  const reason = e?.message ?? String(err);
  if (TLS_CODES.has(code))
    return new TransportError(
      `the TLS certificate of ${url.host} is not trusted (${code}: ${reason})`,
      code,
      'tls',
      { cause: err },
    );
  if (code === 'BODY_READ_FAILED')
    return new TransportError(`sending to ${url.host} stopped: ${reason}`, code, 'fatal', {
      cause: err,
    });
  const kind = RETRYABLE_CODES.has(code) ? 'retryable' : 'fatal';
  return new TransportError(`cannot reach ${url.host}: ${reason} (${code})`, code, kind, {
    cause: err,
  });
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 4 }),
};

/** Closes idle keep-alive connections (the process may then exit at once). */
export function closeConnections(): void {
  agents.http.destroy();
  agents.https.destroy();
  agents.http = new http.Agent({ keepAlive: true, maxSockets: 4 });
  agents.https = new https.Agent({ keepAlive: true, maxSockets: 4 });
}

/**
 * Resolves when the request can take more body ('drain') or will take none ('close', 'error').
 * Every listener it adds is removed when the first of them fires: a body sent in many chunks
 * waits here once per chunk, and listeners left behind would pile up on the request (the
 * `events.once` of each losing event keeps its own and an 'error' listener until it fires).
 */
export function drainedOrClosed(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
    // The request's own 'error' listener reports the failure; this one only stops the wait.
    req.on('error', done);
  });
}

async function writeBody(
  req: http.ClientRequest,
  body: RequestBody,
  onProgress?: (sent: number) => void,
): Promise<void> {
  let sent = 0;
  const chunks = body.chunks();
  const iterator =
    Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  for (;;) {
    let step: IteratorResult<Buffer>;
    try {
      step = await iterator.next();
    } catch (err) {
      // The body could not be read (the file changed or vanished): not a network failure.
      throw Object.assign(new Error((err as Error).message), { code: 'BODY_READ_FAILED' });
    }
    if (step.done) break;
    if (req.destroyed) {
      await iterator.return?.();
      return;
    }
    sent += step.value.length;
    if (!req.write(step.value)) await drainedOrClosed(req);
    onProgress?.(sent);
  }
  req.end();
}

async function readBody(res: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of res as Readable) {
    const buf = chunk as Buffer;
    if (kept < max) {
      const slice = buf.subarray(0, max - kept);
      chunks.push(slice);
      kept += slice.length;
    }
  }
  return Buffer.concat(chunks, kept);
}

/** One request. Resolves with any HTTP response; rejects with a `TransportError`. */
export function request(target: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
  const url = typeof target === 'string' ? new URL(target) : target;
  const secure = url.protocol === 'https:';
  const body = options.body;
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    ...options.headers,
  };
  if (body !== undefined)
    headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(classifyTransportError(err, url));
    };
    const req = (secure ? https : http).request(url, {
      method: options.method ?? 'GET',
      headers,
      agent: secure ? agents.https : agents.http,
    });
    req.setTimeout(options.idleTimeoutMs ?? 60_000, () => {
      const err = Object.assign(new Error(`no answer from ${url.host} for a while`), {
        code: 'IDLE_TIMEOUT',
      });
      req.destroy(err);
    });
    req.on('error', fail);
    req.on('response', (res) => {
      readBody(res, options.maxResponseBytes ?? 16 * 1024 * 1024).then((buf) => {
        if (settled) return;
        settled = true;
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: buf,
        });
      }, fail);
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) {
      req.end(body);
      options.onProgress?.(body.length);
    } else
      writeBody(req, body, options.onProgress).catch((err: unknown) => {
        // A server that answers before reading the whole body (a refusal) closes the
        // connection: the answer matters more than the write error.
        if (!req.destroyed) req.destroy(err as Error);
      });
  });
}

/** The body as text, or as `message`/`detail` of a JSON body; one line, at most 500 characters. */
export function responseReason(res: HttpResponse): string {
  const text = res.body.toString('utf8').trim();
  let reason = text;
  if (/json/i.test(String(res.headers['content-type'] ?? ''))) {
    try {
      const doc = JSON.parse(text) as Record<string, unknown>;
      const picked = [doc.message, doc.detail, doc.title].find(
        (v): v is string => typeof v === 'string' && v !== '',
      );
      if (picked) reason = picked;
    } catch {
      // not JSON after all: keep the text
    }
  } else if (/html/i.test(String(res.headers['content-type'] ?? ''))) {
    reason = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim() ?? '';
  }
  reason = reason.replace(/\s+/g, ' ');
  return reason.length > 500 ? `${reason.slice(0, 500)}…` : reason;
}

/** `400 Bad Request: <reason>`: the status, then the index's reason (status text or body). */
export function describeResponse(res: HttpResponse): string {
  const reason = responseReason(res);
  const statusText = res.statusText.trim();
  const head = `${res.status}${statusText ? ` ${statusText}` : ''}`;
  if (!reason || head.includes(reason)) return head;
  return `${head}: ${reason}`;
}
