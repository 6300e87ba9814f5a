// The rules of `pier serve --workers`: how many processes, and when a crashed one is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';
import { workerCount } from '../../src/cluster/worker-count.js';
import { MAX_DELAY_MS, restartDelayMs } from '../../src/cluster/backoff.js';
import { tempDir } from '../support/tmp.js';

const FILE_DB = 'sqlite:///srv/pier/pier.sqlite3';

test('worker count: configured, else one per core up to 64, else 1 for an in-memory database', () => {
  const cases: [string, number | null, number, number | 'refused'][] = [
    // database, configured, cores, count
    [FILE_DB, null, 2, 2],
    [FILE_DB, null, 1, 1],
    [FILE_DB, null, 128, 64],
    [FILE_DB, 3, 2, 3],
    [FILE_DB, 1, 16, 1],
    ['postgres://pier@db/pier', null, 8, 8],
    ['sqlite://:memory:', null, 8, 1],
    ['sqlite::memory:', null, 8, 1],
    ['sqlite://file::memory:?cache=shared', null, 8, 1],
    ['sqlite://:memory:', 1, 8, 1],
    ['sqlite://:memory:', 2, 8, 'refused'],
  ];
  for (const [databaseUrl, workers, cores, expected] of cases) {
    const label = `${databaseUrl}, workers ${workers}, ${cores} cores`;
    if (expected === 'refused')
      assert.throws(
        () => workerCount({ databaseUrl, workers }, cores),
        (err: unknown) =>
          err instanceof ConfigError &&
          /in-memory SQLite database belongs to one process/.test(err.message),
        label,
      );
    else assert.equal(workerCount({ databaseUrl, workers }, cores).count, expected, label);
  }
});

test('PIER_WORKERS, --workers and workers in pier.toml: a whole number from 1 to 64', () => {
  const cwd = tempDir();
  assert.equal(loadConfig({ env: {}, cwd }).workers, null);
  const withToml = tempDir();
  writeFileSync(join(withToml, 'pier.toml'), 'workers = 3\n');
  assert.equal(loadConfig({ env: {}, cwd: withToml }).workers, 3);
  assert.equal(loadConfig({ env: { PIER_WORKERS: '4' }, cwd }).workers, 4);
  assert.equal(loadConfig({ env: { PIER_WORKERS: '4' }, cwd, flags: { workers: '2' } }).workers, 2);
  for (const bad of ['0', '-1', '1.5', 'many', '65'])
    assert.throws(
      () => loadConfig({ env: { PIER_WORKERS: bad }, cwd }),
      (err: unknown) => err instanceof ConfigError && /^PIER_WORKERS: /.test(err.message),
      bad,
    );
});

test('a crashed worker is replaced at once, one dying at start after a doubling delay', () => {
  const table: [number, number][] = [
    [0, 0],
    [1, 500],
    [2, 1000],
    [3, 2000],
    [6, 16_000],
    [7, MAX_DELAY_MS],
    [50, MAX_DELAY_MS],
  ];
  for (const [early, delay] of table) assert.equal(restartDelayMs(early), delay, `${early}`);
});
