// Does a project's Simple page cost more when the index holds many projects? The same project
// (30 files, uploaded) in an index of 10 projects and in one of 10,000 (the others inserted
// directly into the database, each with a release and a file), under the same load: the ratio
// of their speeds must stay within 1.2.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeWheel } from '../test/support/dists.js';
import { postUpload, uploadParts } from '../test/support/upload.js';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { runLoadInProcess, type LoadResult } from './lib/load.js';
import { pierCli, startPier, uploadToken, type ServerProcess } from './lib/processes.js';

const TARGET_PROJECT = 'scale-target';
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

/** `count` other projects, each with one release and one file row, in one transaction. */
function insertProjects(dataDir: string, count: number): void {
  const db = new Database(join(dataDir, 'pier.sqlite3'));
  const now = Date.now();
  db.transaction(() => {
    const project = db.prepare(
      "insert into projects (name, normalized_name, similarity_key, private, status, created_at, last_serial) values (?, ?, ?, 0, 'active', ?, 1)",
    );
    const release = db.prepare(
      "insert into releases (project_id, version, canonical_version, is_prerelease, metadata_json, yanked, created_at) values (?, '1.0', '1', 0, '{}', 0, ?)",
    );
    const file = db.prepare(
      "insert into files (project_id, release_id, filename, packagetype, python_version, size, md5, sha256, blake2_256, blob_key, uploaded_at) values (?, ?, ?, 'bdist_wheel', 'py3', 1, ?, ?, ?, ?, ?)",
    );
    for (let i = 0; i < count; i++) {
      const name = `filler-${i}`;
      const p = project.run(name, name, `fi11er${i}`, now).lastInsertRowid;
      const r = release.run(p, now).lastInsertRowid;
      const hex = i.toString(16).padStart(64, '0');
      file.run(
        p,
        r,
        `filler_${i}-1.0-py3-none-any.whl`,
        hex.slice(0, 32),
        hex,
        hex,
        `filler-${i}`,
        now,
      );
    }
  })();
  db.close();
}

async function index(ctx: BenchContext, others: number): Promise<ServerProcess> {
  const dataDir = join(ctx.tmp, `index-${others}`);
  await pierCli(dataDir, ['migrate']);
  insertProjects(dataDir, others);
  const token = await uploadToken(dataDir);
  const pier = await startPier(dataDir);
  const files = ctx.smoke ? 3 : 30;
  for (let i = 0; i < files; i++) {
    const w = await makeWheel({ name: TARGET_PROJECT, version: `1.${i}` });
    const res = await postUpload(
      pier.url,
      token,
      await uploadParts({ ...w, fields: { name: TARGET_PROJECT, version: `1.${i}` } }),
    );
    if (res.status !== 200) throw new Error(`upload: ${res.status} ${res.body}`);
  }
  return pier;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export const projectsScale: Benchmark = {
  name: 'projects-scale',
  async run(ctx): Promise<Row[]> {
    const [few, many] = ctx.smoke ? [10, 200] : [10, 10_000];
    ctx.log(`an index of ${few} projects and one of ${many}`);
    const small = await index(ctx, few - 1);
    const large = await index(ctx, many - 1);
    try {
      const rounds = ctx.smoke ? 1 : 5;
      const load = (server: ServerProcess, durationMs: number) =>
        runLoadInProcess({
          url: `${server.url}/simple/${TARGET_PROJECT}/`,
          headers: { accept: PIP_ACCEPT },
          connections: 16,
          durationMs,
          expectStatus: 200,
          serverPid: server.pid,
        });
      await load(small, 500);
      await load(large, 500);
      const a: LoadResult[] = [];
      const b: LoadResult[] = [];
      for (let i = 0; i < rounds; i++) {
        const order = i % 2 === 0 ? [small, large] : [large, small];
        for (const server of order)
          (server === small ? a : b).push(await load(server, ctx.smoke ? 300 : 2000));
      }
      return [
        ratioRow(
          'projects-scale',
          `/simple/<name>/ in an index of ${many.toLocaleString('en-US')} projects`,
          { value: median(b.map((r) => r.requestsPerSecond)), unit: 'req/s' },
          { name: `an index of ${few} projects`, value: median(a.map((r) => r.requestsPerSecond)) },
          { op: '>=', value: 1 / 1.2 },
          null,
          {
            'req/s per round, small index': a.map((r) => Math.round(r.requestsPerSecond)),
            'req/s per round, large index': b.map((r) => Math.round(r.requestsPerSecond)),
          },
        ),
      ];
    } finally {
      await Promise.all([small.stop(), large.stop()]);
    }
  },
};
