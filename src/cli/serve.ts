// `pier serve`: open the services, listen, and shut down gracefully on SIGINT/SIGTERM
// (stop accepting, let requests in flight finish, close the database).
import type { Config } from '../config.js';
import { openServices } from '../services.js';
import { buildApp } from '../http/app.js';
import { startDigestWorker } from '../registry/upload/digests.js';
import { createFirstAdministrator, firstStartMessage } from './first-start.js';

export async function serve(config: Config): Promise<void> {
  const started = Date.now();
  const s = await openServices(config);
  // A trust root that cannot be read (PIER_SIGSTORE_TRUSTED_ROOT) stops the start, not an upload.
  let trustRoot;
  try {
    trustRoot = s.trustRoot();
  } catch (err) {
    await s.close();
    throw err;
  }
  // The first start of an empty index creates an administrator; its password goes to a file.
  const passwordFile = await createFirstAdministrator(s.auth, config.dataDir);
  if (passwordFile !== null) process.stderr.write(firstStartMessage(passwordFile));
  await s.blobs.sweep(60 * 60 * 1000).catch(() => 0);
  startDigestWorker();
  const app = await buildApp(s);
  let stopping = false;
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  if (address && typeof address === 'object')
    s.setListening({ host: config.host, port: address.port });
  app.log.info(
    {
      url: s.publicUrl(),
      database: s.db.describe,
      storage: s.blobs.describe,
      // Credentials were taken out of the URL when the configuration was read.
      upstream: config.upstreamUrl,
      sigstore_trust_root: trustRoot.source,
      sigstore_trust_root_newest_key: trustRoot.newestKey?.toISOString() ?? null,
      startup_ms: Date.now() - started,
    },
    'pier is serving',
  );
  process.stderr.write(`pier is serving ${s.publicUrl()}/simple/ (database ${s.db.describe})\n`);

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    // Requests in flight get 30 seconds to finish.
    const deadline = setTimeout(() => {
      app.log.warn('requests still in flight after 30 s; exiting');
      process.exit(1);
    }, 30_000);
    deadline.unref();
    try {
      await app.close();
    } finally {
      await s.close();
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
