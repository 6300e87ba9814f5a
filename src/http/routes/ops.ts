// Operations: health and metrics.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Services } from '../../services.js';
import type { Metrics } from '../metrics.js';

export function registerOpsRoutes(app: FastifyInstance, s: Services, metrics: Metrics): void {
  app.get('/healthz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(s.db.kysely);
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    }
    return { status: 'ok' };
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  // The landing page `/` is the web interface's home page (src/web/routes/browse.ts).
}
