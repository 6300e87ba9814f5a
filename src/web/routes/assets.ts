// The stylesheet and the progressive-enhancement script, served by pier itself (the
// Content-Security-Policy allows no other source).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PIER_CSS } from '../assets/pier.css.js';
import { PIER_JS } from '../assets/pier.js.js';

function asset(body: string, type: string) {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` };
}

export function registerAssetRoutes(web: FastifyInstance): void {
  for (const [path, a] of [
    ['/static/pier.css', asset(PIER_CSS, 'text/css; charset=utf-8')],
    ['/static/pier.js', asset(PIER_JS, 'text/javascript; charset=utf-8')],
  ] as const) {
    web.get(path, async (request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      reply.header('etag', a.etag);
      if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.type(a.type).send(a.body);
    });
  }
}
