// The backend a test file runs on. The embedded default (SQLite and a folder) unless the runner
// names another through PIER_TEST_DATABASE_URL / PIER_TEST_STORAGE_URL.
export function backendEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.PIER_TEST_DATABASE_URL)
    env.PIER_DATABASE_URL = process.env.PIER_TEST_DATABASE_URL;
  if (process.env.PIER_TEST_STORAGE_URL) env.PIER_STORAGE_URL = process.env.PIER_TEST_STORAGE_URL;
  return env;
}
