// `pier serve`: open the services, listen, and shut down gracefully on SIGINT/SIGTERM
// (stop accepting, let requests in flight finish, close the database).
import type { Config } from '../config.js';
import { openServices } from '../services.js';
import { buildApp } from '../http/app.js';
import { startDigestWorker } from '../registry/upload/digests.js';
import { PierError } from '../errors.js';

const OPERATOR = { principal: { kind: 'operator' as const, name: 'first start' }, ip: null };

export async function serve(config: Config): Promise<void> {
  const started = Date.now();
  const s = await openServices(config);
  // The first start of an empty index creates an administrator and shows its password once.
  if ((await s.auth.countUsers()) === 0) {
    const created = await s.auth
      .addUser(OPERATOR, { username: 'admin', admin: true })
      .catch((err: unknown) => {
        // Another process starting on the same new database created it first.
        if (err instanceof PierError && err.status === 409) return null;
        throw err;
      });
    if (created?.generatedPassword)
      process.stderr.write(
        `\nThis is a new index. An administrator account was created:\n` +
          `  username: admin\n  password: ${created.generatedPassword}\n` +
          `It is shown only now. Create tokens with: pier token create --user admin --scope admin\n\n`,
      );
  }
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
