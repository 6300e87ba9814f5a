// How errors reach clients: the status code, the one-line reason in the HTTP status text (twine
// shows only that) and in the body (HTTP/2 has no status text): JSON shaped like PyPI's for
// clients that ask for JSON (uv), plain text otherwise.
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A reason phrase Node will send: Latin-1 printable characters only, others become '?'. */
export function statusText(message: string): string {
  return message.replace(/[^\t\x20-\x7e\xa0-\xff]/g, '?');
}

export function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  if (!/json/i.test(accept)) return false;
  // A client that lists JSON explicitly (uv: "application/json;q=0.9, text/plain;q=0.8") gets it.
  const q = (type: RegExp) => {
    let best = -1;
    for (const part of accept.split(',')) {
      const [media, ...params] = part.trim().split(';');
      if (!media || !type.test(media.trim())) continue;
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      best = Math.max(best, qp ? Number(qp.slice(2)) : 1);
    }
    return best;
  };
  return (
    q(/^application\/(.+\+)?json$/i) > 0 &&
    q(/^application\/(.+\+)?json$/i) >= q(/^text\/(plain|html)$/i)
  );
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
  options: { json?: boolean } = {},
): FastifyReply {
  reply.code(status);
  reply.raw.statusMessage = statusText(message);
  if (status === 401) reply.header('www-authenticate', 'Basic realm="pier", charset="UTF-8"');
  if (options.json || wantsJson(request)) {
    return reply.type('application/json').send({
      message,
      code: `${status} ${message}`,
      title: STATUS_CODES[status] ?? 'Error',
      ...extra,
    });
  }
  return reply.type('text/plain; charset=utf-8').send(`${message}\n`);
}
