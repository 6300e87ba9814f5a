// The hottest request of a package index — an anonymous GET of a public project's Simple page
// (every `pip install` in every CI job) — answered before Fastify's routing, hooks and reply
// machinery. Profiling showed those cost pier more than half of a 304's time. The answer is the
// same as the Fastify route's (src/simple/answer.ts builds both) and the freshness check the same
// (the project's current serial, read from the database); anything that is not the plain case —
// credentials, a private, unknown or non-normalized project, another method or query, an index
// that requires authentication, a shutdown in progress, an error — goes to Fastify, which answers
// it with every rule. A name pier does not host is answered here too when its proxied page is
// cached, fresh and rendered (src/proxy/fast-page.ts holds the rules of that).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Services } from '../services.js';
import { simpleAnswer, type SimpleAnswer } from '../simple/answer.js';
import type { ProjectHead, RenderedPage } from '../simple/service.js';
import { FastProxiedPages, type FastProxiedAnswer } from '../proxy/fast-page.js';
import { normalizeProjectName } from '../packaging/names.js';
import { UPSTREAM_HEADER } from './routes/proxy.js';

const PAGE_RE = /^\/simple\/([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\/(?:\?format=([^&]*))?$/;

export interface FastPathHooks {
  /** Called after each answer, to record metrics and logs as Fastify's hooks would. */
  answered(req: IncomingMessage, status: number, started: number): void;
  closing(): boolean;
}

export function createFastSimple(s: Services, hooks: FastPathHooks) {
  const enabled = s.config.readAccess === 'public';
  const proxied = s.proxy.enabled ? new FastProxiedPages(s.proxy, s.config.upstreamOffline) : null;
  /**
   * Whether it answered the request (false hands it to Fastify untouched): at once when it can
   * (SQLite, the page in memory), else a promise.
   */
  return function fastSimple(
    req: IncomingMessage,
    res: ServerResponse,
  ): boolean | Promise<boolean> {
    if (
      !enabled ||
      req.method !== 'GET' ||
      req.headers.authorization !== undefined ||
      hooks.closing()
    )
      return false;
    const m = PAGE_RE.exec(req.url ?? '');
    if (!m) return false;
    return answer(req, res, m);
  };

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    m: RegExpExecArray,
  ): boolean | Promise<boolean> {
    const started = performance.now();
    let format: string | undefined;
    try {
      format = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    } catch {
      return false;
    }
    const name = m[1]!;
    const head = s.simple.head(name);
    // On SQLite with the page in memory, everything is synchronous: no promise is made.
    if (!(head instanceof Promise)) {
      if (head) {
        const page = s.simple.cachedPage(head);
        if (page) return send(req, res, name, head, page, format, started);
      } else {
        const answer = upstreamPage(name);
        if (!(answer instanceof Promise))
          return answer ? sendProxied(req, res, answer, format, started) : false;
      }
    }
    return (async () => {
      const current = await head;
      if (!current) {
        const answer = await upstreamPage(name);
        return answer ? sendProxied(req, res, answer, format, started) : false;
      }
      return send(req, res, name, current, await s.simple.page(current), format, started);
    })();
  }

  /** A name pier does not host: its cached proxied page, when it may be answered here. */
  function upstreamPage(
    name: string,
  ): FastProxiedAnswer | undefined | Promise<FastProxiedAnswer | undefined> {
    // A name that is not normalized is redirected by the route.
    if (!proxied || normalizeProjectName(name) !== name) return undefined;
    return proxied.answer(name);
  }

  function sendProxied(
    req: IncomingMessage,
    res: ServerResponse,
    answer: FastProxiedAnswer,
    format: string | undefined,
    started: number,
  ): boolean | Promise<boolean> {
    const reply = negotiate(req, answer.bodies, format);
    const tagged = (r: SimpleAnswer) => ({ ...r, headers: withUpstream(r.headers, answer.state) });
    if (reply instanceof Promise) return reply.then((r) => write(req, res, tagged(r), started));
    return write(req, res, tagged(reply), started);
  }

  function send(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    head: ProjectHead,
    page: RenderedPage,
    format: string | undefined,
    started: number,
  ): boolean | Promise<boolean> {
    if (head.private === 1 || head.normalized_name !== name) return false;
    const reply = negotiate(req, page, format);
    // A promise only the first time a page is asked for in a compressed coding.
    if (reply instanceof Promise) return reply.then((r) => write(req, res, r, started));
    return write(req, res, reply, started);
  }

  function negotiate(req: IncomingMessage, page: RenderedPage, format: string | undefined) {
    return simpleAnswer(
      page,
      {
        accept: req.headers.accept,
        format,
        ifNoneMatch: req.headers['if-none-match'],
        acceptEncoding: req.headers['accept-encoding'],
      },
      null,
      true,
    );
  }

  function write(
    req: IncomingMessage,
    res: ServerResponse,
    reply: SimpleAnswer,
    started: number,
  ): true {
    if (reply.reason) res.writeHead(reply.status, reply.reason, reply.headers);
    else res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? undefined);
    hooks.answered(req, reply.status, started);
    return true;
  }
}

/** A page's shared headers plus X-Pier-Upstream, built once per set of headers and state. */
const upstreamTagged = new WeakMap<object, Map<string, Readonly<Record<string, string>>>>();

function withUpstream(
  headers: Readonly<Record<string, string>>,
  state: string,
): Readonly<Record<string, string>> {
  let byState = upstreamTagged.get(headers);
  if (!byState) {
    byState = new Map();
    upstreamTagged.set(headers, byState);
  }
  let h = byState.get(state);
  if (!h) {
    h = Object.freeze({ ...headers, [UPSTREAM_HEADER]: state });
    byState.set(state, h);
  }
  return h;
}
