// The proxied side of the install API: Simple pages of names pier does not host (answered by
// the Simple routes through proxiedPage below) and the files those pages list, served from
// pier's own URLs (/proxy/<name>/<sha256>/<filename>, and <filename>.metadata).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { mayReadIndex } from '../../auth/permissions.js';
import { notFound, PierError, unauthorized } from '../../errors.js';
import { principalOf } from '../principal.js';
import { UpstreamError } from '../../proxy/model.js';
import type { RenderedPage } from '../../simple/service.js';
import { SHA256_RE } from '../../proxy/model.js';

export const UPSTREAM_HEADER = 'x-pier-upstream';

/** The HTTP answer to an upstream failure: 504 when it was too slow, 502 otherwise. */
export function upstreamFailure(err: UpstreamError): PierError {
  if (err.code === 'offline') return new PierError(404, err.message);
  return new PierError(err.code === 'timeout' ? 504 : 502, `Upstream index: ${err.message}`);
}

async function orUpstreamFailure<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof UpstreamError) throw upstreamFailure(err);
    throw err;
  }
}

export interface ProxiedPageAnswer {
  bodies: RenderedPage;
  state: string;
}

/** The proxied page of a name pier does not host (its model), or null when there is none. */
export function proxiedPage(s: Services, normalized: string) {
  return orUpstreamFailure(s.proxy.page(normalized));
}

/** The rendered page of a name pier does not host, or null (404) when there is none. */
export function proxiedPages(s: Services) {
  const pages = s.proxy.pages;
  return async (normalized: string): Promise<ProxiedPageAnswer | null> => {
    if (!s.proxy.enabled) return null;
    const page = await orUpstreamFailure(s.proxy.page(normalized));
    if (!page) return null;
    return { bodies: pages.rendered(page, s.publicUrl()), state: page.state };
  };
}

export function registerProxyRoutes(app: FastifyInstance, s: Services): void {
  const readAccess = s.config.readAccess;

  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const {
      name,
      sha256,
      filename: requested,
    } = request.params as {
      name: string;
      sha256: string;
      filename: string;
    };
    const p = await principalOf(s.auth, request);
    if (!mayReadIndex(p, readAccess))
      throw unauthorized('Authentication required to read this index');
    if (!s.proxy.enabled || !SHA256_RE.test(sha256)) throw notFound();
    // The guard: a name pier hosts is never answered from the upstream, whoever asks.
    if (await s.projects.find(name)) throw notFound();
    const metadata = requested.endsWith('.metadata');
    const filename = metadata ? requested.slice(0, -'.metadata'.length) : requested;
    const file = await orUpstreamFailure(s.proxy.file(name, sha256, filename, metadata));
    reply.header(UPSTREAM_HEADER, file.state);
    reply.header(
      'cache-control',
      readAccess === 'public'
        ? 'public, max-age=31536000, immutable'
        : 'private, max-age=31536000, immutable',
    );
    reply.header('access-control-allow-origin', '*');
    if (file.size !== null) reply.header('content-length', String(file.size));
    if (metadata) reply.type('text/plain; charset=utf-8');
    else {
      reply.header('etag', `"${sha256}"`).type('application/octet-stream');
      reply.header(
        'content-disposition',
        `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
      );
    }
    if (request.method === 'HEAD') {
      file.body.resume();
      return reply.send();
    }
    return reply.send(file.body);
  }

  app.route({ method: ['GET', 'HEAD'], url: '/proxy/:name/:sha256/:filename', handler: serve });
}
