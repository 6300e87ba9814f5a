// The backend a test runs on. The runner runs every test file marked `@backends` once on the
// embedded default (SQLite and a folder) and once on PostgreSQL with S3 (s3rver), both started
// once per run; here each test server gets a fresh database and a fresh bucket prefix.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export type BackendName = 'sqlite' | 'postgres';

export function backendName(): BackendName {
  return process.env.PIER_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
}

/** Settings for a new, empty index on the backend under test ({} for the embedded default). */
export function freshBackend(): { databaseUrl?: string; storageUrl?: string } {
  if (backendName() !== 'postgres') return {};
  const admin = process.env.PIER_TEST_PG_ADMIN_URL;
  const endpoint = process.env.PIER_TEST_S3_ENDPOINT;
  const bucket = process.env.PIER_TEST_S3_BUCKET;
  if (!admin || !endpoint || !bucket)
    throw new Error('PIER_TEST_BACKEND=postgres needs the services the test runner starts');
  const name = `pier_${randomUUID().replace(/-/g, '')}`;
  // A copy of the template the runner migrated with `pier migrate`.
  execFileSync(
    process.env.PIER_TEST_PSQL ?? 'psql',
    [admin, '-qAtc', `CREATE DATABASE ${name} TEMPLATE pier_template`],
    {
      stdio: 'pipe',
    },
  );
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.href,
    storageUrl: `s3://${bucket}/${name}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
  };
}

/** The same, as the environment of a `pier` process. */
export function backendEnv(): Record<string, string> {
  const b = freshBackend();
  const env: Record<string, string> = {};
  if (b.databaseUrl) env.PIER_DATABASE_URL = b.databaseUrl;
  if (b.storageUrl) env.PIER_STORAGE_URL = b.storageUrl;
  return env;
}
