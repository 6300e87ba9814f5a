// One server process of `pier serve`: the HTTP app on the services, listening, and its graceful
// stop (stop accepting, let requests in flight finish for up to 30 s, close the database).
// Used alone (one process) and by each worker of src/cluster.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { buildApp, type AppOptions } from '../http/app.js';
import { startDigestWorker } from '../registry/upload/digests.js';

export const DRAIN_TIMEOUT_MS = 30_000;

export interface RunningServer {
  app: FastifyInstance;
  port: number;
  /** Stops gracefully; resolves once requests in flight are answered and the services closed. */
  stop(reason: string): Promise<void>;
}

export async function startHttpServer(
  s: Services,
  options: AppOptions & { started: number },
): Promise<RunningServer> {
  const { config } = s;
  // A trust root that cannot be read (PIER_SIGSTORE_TRUSTED_ROOT) stops the start, not an upload.
  let trustRoot;
  try {
    trustRoot = s.trustRoot();
  } catch (err) {
    await s.close();
    throw err;
  }
  startDigestWorker();
  const app = await buildApp(s, options);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = address && typeof address === 'object' ? address.port : config.port;
  s.setListening({ host: config.host, port });
  app.log.info(
    {
      url: s.publicUrl(),
      database: s.db.describe,
      storage: s.blobs.describe,
      // Credentials were taken out of the URL when the configuration was read.
      upstream: config.upstreamUrl,
      sigstore_trust_root: trustRoot.source,
      sigstore_trust_root_newest_key: trustRoot.newestKey?.toISOString() ?? null,
      startup_ms: Date.now() - options.started,
    },
    'pier is serving',
  );
  let stopping: Promise<void> | null = null;
  return {
    app,
    port,
    stop(reason) {
      stopping ??= (async () => {
        app.log.info({ signal: reason }, 'shutting down');
        const deadline = setTimeout(() => {
          app.log.warn(`requests still in flight after ${DRAIN_TIMEOUT_MS / 1000} s; exiting`);
          process.exit(1);
        }, DRAIN_TIMEOUT_MS);
        deadline.unref();
        try {
          await app.close();
        } finally {
          await s.close();
        }
      })();
      return stopping;
    },
  };
}
