// @backends: runs on the embedded default and on PostgreSQL with S3.
// `pier import` brings a pypiserver folder and a devpi export over through the upload pipeline:
// upload times, yanks and hashes are kept, refused files are listed with their reasons, files
// from before today's rules need --legacy, and a second import changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runPier, startServer, type TestServer } from '../support/server.js';
import { sample } from '../support/fixtures.js';
import { makeWheel } from '../support/dists.js';
import { createVenv, pipInstall } from '../support/python.js';
import { tempDir } from '../support/tmp.js';
import type { ImportReport } from '../../src/registry/import/importer.js';

const JSON_SIMPLE = 'application/vnd.pypi.simple.v1+json';
const OLD = new Date('2020-01-02T03:04:05Z');

interface SimpleFile {
  filename: string;
  hashes: { sha256: string };
  'upload-time': string;
  yanked: boolean | string;
}

async function simpleFiles(server: TestServer, name: string): Promise<SimpleFile[]> {
  const res = await fetch(`${server.url}/simple/${name}/`, { headers: { accept: JSON_SIMPLE } });
  assert.equal(res.status, 200, `simple page of ${name}`);
  return ((await res.json()) as { files: SimpleFile[] }).files;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function runImport(server: TestServer, args: string[]): Promise<ImportReport> {
  const r = await runPier(['import', ...args, '--owner', 'alice', '--json'], server.env());
  assert.ok(r.stdout.length > 0, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ImportReport;
}

function outcomes(report: ImportReport): Record<string, string> {
  return Object.fromEntries(report.files.map((f) => [basename(f.file), f.outcome]));
}

/** A wheel as bdist_wheel wrote them before 2021: Metadata-Version 2.0, the name as written. */
async function legacyWheel(dir: string): Promise<string> {
  const wheel = await makeWheel({
    name: 'Legacy.Pkg',
    version: '2.0',
    metadata:
      'Metadata-Version: 2.0\nName: Legacy.Pkg\nVersion: 2.0\nSummary: old\nProvides-Extra: test\n\nOld.\n',
  });
  const path = join(dir, 'Legacy.Pkg-2.0-py3-none-any.whl');
  writeFileSync(path, wheel.content);
  return path;
}

test('a pypiserver folder: times and hashes kept, refusals listed, --legacy, idempotent, pip installs', async () => {
  const server = await startServer();
  try {
    await server.userWithToken('alice');
    const dir = tempDir('pier-pypiserver-');
    mkdirSync(join(dir, 'pier_sample'));
    const files = sample('sample');
    const wheel = join(dir, 'pier_sample', basename(files.wheel));
    const sdist = join(dir, basename(files.sdist));
    writeFileSync(wheel, readFileSync(files.wheel));
    writeFileSync(sdist, readFileSync(files.sdist));
    for (const p of [wheel, sdist]) utimesSync(p, OLD, OLD);
    writeFileSync(join(dir, 'README.txt'), 'not a distribution');
    writeFileSync(join(dir, '.hidden.whl'), 'skipped');
    const legacy = await legacyWheel(dir);

    const first = await runImport(server, [dir, '--from', 'pypiserver']);
    assert.deepEqual(outcomes(first), {
      [basename(wheel)]: 'imported',
      [basename(sdist)]: 'imported',
      'README.txt': 'refused',
      [basename(legacy)]: 'refused',
    });
    assert.deepEqual(first.counts, { imported: 2, present: 0, refused: 2 });
    const reason = (name: string) => first.files.find((f) => basename(f.file) === name)?.reason;
    assert.match(reason('README.txt')!, /Not a distribution/);
    assert.match(reason(basename(legacy))!, /'2.0' is not a valid metadata version/);

    const listed = await simpleFiles(server, 'pier-sample');
    assert.deepEqual(
      listed.map((f) => f.filename).sort(),
      [basename(sdist), basename(wheel)].sort(),
    );
    for (const f of listed) {
      assert.equal(
        f.hashes.sha256,
        sha256(join(dir, f.filename.endsWith('.whl') ? 'pier_sample' : '', f.filename)),
      );
      assert.equal(f['upload-time'], '2020-01-02T03:04:05Z');
      assert.equal(f.yanked, false);
    }

    // Again: nothing changes, and what is there is reported as such.
    const before = await simpleFiles(server, 'pier-sample');
    const second = await runImport(server, [dir]);
    assert.deepEqual(second.counts, { imported: 0, present: 2, refused: 2 });
    assert.deepEqual(await simpleFiles(server, 'pier-sample'), before);
    const text = await runPier(['import', dir, '--owner', 'alice'], server.env());
    assert.match(text.stdout, /present {3}pier_sample\/.*: already present/);
    assert.match(text.stdout, /0 imported, 2 already present, 2 refused\n$/);
    assert.equal(text.code, 1, 'refusals make the exit status non-zero');

    // --legacy brings the old wheel over, recorded as imported; the owner owns the project.
    const third = await runImport(server, [dir, '--legacy']);
    assert.equal(outcomes(third)[basename(legacy)], 'imported');
    assert.equal((await simpleFiles(server, 'legacy-pkg'))[0]!.filename, basename(legacy));
    const audit = await runPier(['audit', '--action', 'import', '--json'], server.env());
    assert.match(audit.stdout, /"legacy":true/);
    const role = await server.services.db.kysely
      .selectFrom('project_roles')
      .innerJoin('users', 'users.id', 'project_roles.user_id')
      .innerJoin('projects', 'projects.id', 'project_roles.project_id')
      .select(['users.username', 'project_roles.role'])
      .where('projects.normalized_name', '=', 'legacy-pkg')
      .execute();
    assert.deepEqual(role, [{ username: 'alice', role: 'owner' }]);

    const venv = await createVenv();
    const pip = await pipInstall(venv, `${server.url}/simple/`, ['pier_sample==1.0.0']);
    assert.equal(pip.code, 0, pip.stderr);
  } finally {
    await server.close();
  }
});

test('a devpi export: upload times from the log, yanks and recorded hashes kept', async () => {
  const server = await startServer();
  try {
    await server.userWithToken('alice');
    const dir = tempDir('pier-devpi-');
    const files = sample('other');
    const later = sample('later');
    const rel = (f: string) => `alice/dev/+f/${basename(f)}`;
    for (const f of [files.wheel, files.sdist, later.wheel]) {
      mkdirSync(join(dir, 'alice', 'dev', '+f'), { recursive: true });
      writeFileSync(join(dir, rel(f)), readFileSync(f));
    }
    const entry = (f: string, project: string, version: string, hash: string) => ({
      type: 'releasefile',
      projectname: project,
      version,
      relpath: rel(f),
      entrymapping: {
        hash_spec: `sha256=${hash}`,
        last_modified: 'Fri, 01 Mar 2019 10:00:00 GMT',
        log: [{ what: 'upload', who: 'alice', when: [2019, 3, 1, 9, 30, 0], dst: 'alice/dev' }],
      },
    });
    const index = {
      dumpversion: '2',
      users: { alice: {} },
      indexes: {
        'alice/dev': {
          indexconfig: { type: 'stage', bases: [] },
          projects: {
            pier_other: { '0.1.0': { name: 'pier_other', version: '0.1.0', yanked: 'broken' } },
            pier_sample: { '1.1.0': { name: 'pier_sample', version: '1.1.0' } },
          },
          files: [
            entry(files.wheel, 'pier_other', '0.1.0', sha256(files.wheel)),
            {
              ...entry(files.sdist, 'pier_other', '0.1.0', sha256(files.sdist)),
              entrymapping: {
                hash_spec: `sha256=${sha256(files.sdist)}`,
                last_modified: 'Fri, 01 Mar 2019 10:00:00 GMT',
              },
            },
            entry(later.wheel, 'pier_sample', '1.1.0', '0'.repeat(64)),
            { type: 'doczip', projectname: 'pier_other', relpath: rel(files.wheel) },
          ],
        },
      },
    };
    writeFileSync(join(dir, 'dataindex.json'), JSON.stringify(index));

    const report = await runImport(server, [dir]);
    assert.equal(report.format, 'devpi');
    assert.deepEqual(report.counts, { imported: 2, present: 0, refused: 2 });
    const bad = report.files.find((f) => f.file === rel(later.wheel))!;
    assert.match(bad.reason!, /digest supplied does not match/);
    assert.match(
      report.files.find((f) => f.outcome === 'refused' && f !== bad)!.reason!,
      /doczip, not a distribution/,
    );
    const res = await fetch(`${server.url}/simple/pier-sample/`, {
      headers: { accept: JSON_SIMPLE },
    });
    assert.equal(res.status, 404, 'a refused file creates nothing');

    const listed = await simpleFiles(server, 'pier-other');
    const byName = Object.fromEntries(listed.map((f) => [f.filename, f]));
    assert.equal(byName[basename(files.wheel)]!['upload-time'], '2019-03-01T09:30:00Z');
    assert.equal(byName[basename(files.sdist)]!['upload-time'], '2019-03-01T10:00:00Z');
    for (const f of listed) {
      assert.equal(f.yanked, 'broken');
      assert.equal(
        f.hashes.sha256,
        sha256(f.filename.endsWith('.whl') ? files.wheel : files.sdist),
      );
    }
    const again = await runImport(server, [dir]);
    assert.deepEqual(again.counts, { imported: 0, present: 2, refused: 2 });
  } finally {
    await server.close();
  }
});
