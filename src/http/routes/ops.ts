// Operations: health, metrics, and a landing page that tells people how to use the index.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Services } from '../../services.js';
import type { Metrics } from '../metrics.js';
import { escapeHtml } from '../../simple/render.js';

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

  app.get('/', async (_request, reply) => {
    const base = escapeHtml(s.publicUrl());
    return reply.type('text/html; charset=utf-8').send(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pier</title></head>
<body>
<h1>pier</h1>
<p>A Python package index.</p>
<p>Install: <code>pip install --index-url ${base}/simple/ PACKAGE</code></p>
<p>Upload: <code>twine upload --repository-url ${base}/legacy/ dist/*</code></p>
</body></html>
`);
  });
}
