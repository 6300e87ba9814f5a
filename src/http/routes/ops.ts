// Operations: health and metrics.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import proxyAddr from '@fastify/proxy-addr';
import type { Services } from '../../services.js';
import type { MetricsSource } from '../metrics.js';
import { mayReadMetrics } from '../../auth/permissions.js';
import { forbidden, unauthorized } from '../../errors.js';
import { principalOf } from '../principal.js';

export function registerOpsRoutes(app: FastifyInstance, s: Services, metrics: MetricsSource): void {
  app.get('/healthz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(s.db.kysely);
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    }
    return { status: 'ok' };
  });

  // PIER_METRICS_ALLOW, matched against the client's address (after PIER_TRUSTED_PROXIES).
  const allowed = proxyAddr.compile(s.config.metricsAllow);
  app.get('/metrics', async (request, reply) => {
    const p = await principalOf(s.auth, request);
    const rule = {
      readAccess: s.config.readAccess,
      allowListed: s.config.metricsAllow.length > 0 && allowed(request.ip, 0),
      allowListConfigured: s.config.metricsAllow.length > 0,
    };
    if (!mayReadMetrics(p, rule)) {
      if (p.kind === 'anonymous') throw unauthorized('Authentication required to read metrics');
      throw forbidden('This credential may not read metrics');
    }
    return reply.type(metrics.contentType).send(await metrics.text());
  });
  // The landing page `/` is the web interface's home page (src/web/routes/browse.ts).
}
