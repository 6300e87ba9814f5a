// The storage a benchmark's pier runs on: the embedded default (SQLite and a folder), or
// PostgreSQL and S3 — a real PostgreSQL server with its durability settings left as they are,
// and s3rver — started once for the run by the same code the tests use.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './paths.js';
import { pierCli } from './processes.js';

export interface Backend {
  name: 'embedded' | 'postgres+s3';
  /** Settings for a new, empty, migrated index (beside PIER_DATA_DIR). */
  fresh(dataDir: string): Promise<Record<string, string>>;
}

export const EMBEDDED: Backend = { name: 'embedded', fresh: async () => ({}) };

interface Services {
  postgres: { adminUrl: string; psql: string; stop(): Promise<void> };
  s3: { endpoint: string; bucket: string; stop(): Promise<void> };
}

let started: Promise<Services> | null = null;

async function services(): Promise<Services> {
  started ??= (async () => {
    const mod = (await import(
      pathToFileURL(join(REPO_ROOT, 'scripts', 'test-services.mjs')).href
    )) as {
      startPostgres(o: { durable: boolean }): Promise<Services['postgres']>;
      startS3(): Promise<Services['s3']>;
    };
    const [postgres, s3] = await Promise.all([mod.startPostgres({ durable: true }), mod.startS3()]);
    return { postgres, s3 };
  })();
  return started;
}

export const POSTGRES_S3: Backend = {
  name: 'postgres+s3',
  async fresh(dataDir) {
    const { postgres, s3 } = await services();
    const name = `bench_${randomUUID().replace(/-/g, '')}`;
    execFileSync(postgres.psql, [postgres.adminUrl, '-qAtc', `CREATE DATABASE ${name}`], {
      stdio: 'pipe',
    });
    const url = new URL(postgres.adminUrl);
    url.pathname = `/${name}`;
    const env = {
      PIER_DATABASE_URL: url.href,
      PIER_STORAGE_URL: `s3://${s3.bucket}/${name}?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    await pierCli(dataDir, ['migrate'], env);
    return env;
  },
};

/** Stops PostgreSQL and s3rver if a benchmark started them. */
export async function stopBackends(): Promise<void> {
  if (!started) return;
  const { postgres, s3 } = await started;
  started = null;
  await Promise.all([postgres.stop(), s3.stop()]);
}
