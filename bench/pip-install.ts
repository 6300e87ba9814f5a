// End to end, what a user feels: `pip install` of a real dependency tree into a fresh venv, from
// pier against nginx serving a static PEP 503 index of the very same files.
//
// The wheels are this machine's own PyPI files (/opt/pypi and /opt/pypi-more, file:// Simple
// indexes): the tree is resolved once, offline, by pip itself (`--dry-run --report`), and the
// files it picks are copied into the benchmark's folder. pier gets them through `pier publish`
// (POST /legacy/); nginx serves them from a static index the benchmark writes (one page per
// project, `#sha256=` links). Where those indexes are absent, 34 small wheels are built instead
// (one requiring the other 33) and the rows say so.
//
// Each install runs Debian's python3's venv pip, isolated from the machine's settings as the
// tests run it (--isolated, PIP_CONFIG_FILE=/dev/null, no cache, a fresh HOME, the CA variables
// emptied, any host but loopback sent to a proxy that does not exist), into a venv made just
// before and not timed. Rounds alternate which index goes first; the medians are compared.
// pypiserver is neither in Debian nor among this machine's PyPI files, so its row is printed as
// not measured, with that reason.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeWheel, metadataText } from '../test/support/dists.js';
import { exec, SYSTEM_PYTHON } from '../test/support/python.js';
import { sha256 } from '../test/support/upload.js';
import {
  ratioRow,
  unmeasuredRow,
  type BenchContext,
  type Benchmark,
  type Row,
} from './lib/bench.js';
import { getJson } from './lib/http.js';
import { nginxMissing, startNginx } from './lib/nginx.js';
import { PIER_BIN } from './lib/paths.js';
import {
  machineCpu,
  startPier,
  treeCpuSeconds,
  uploadToken,
  type ServerProcess,
} from './lib/processes.js';
import { median, mean, round2 } from './lib/stats.js';

const NAME = 'pip-install';
/** The machine's own PyPI files, as its pip configuration names them. */
const LOCAL_PYPI = ['/opt/pypi/simple', '/opt/pypi-more/simple'];
/**
 * Sphinx and the MCP SDK: 49 wheels here (Sphinx's 22, then anyio, httpx, pydantic, starlette,
 * uvicorn, jsonschema, ...), every one of which pier accepts. Larger trees here (Jupyter's,
 * spaCy's) hold wheels whose METADATA pier's upload rules refuse (License-File under
 * Metadata-Version 2.1, which packaging's validation refuses too). A two-wheel tree for smoke.
 */
const REQUIREMENT = { full: ['sphinx', 'mcp'], smoke: ['jinja2'] };
const MIN_WHEELS = 30;
const BUILT_LEAVES = 33;

interface Dist {
  filename: string;
  /** Its project's name, normalized (PEP 503). */
  project: string;
  path: string;
  sha256: string;
}

interface Tree {
  requirements: string[];
  dists: Dist[];
  /** Where the files came from, for the row's case. */
  source: string;
}

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** What pip sees of this machine: nothing but loopback, no settings of its own. */
function pipEnv(home: string): Record<string, string> {
  mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    // The indexes are plain HTTP on loopback; the machine's CA settings are not pip's business.
    REQUESTS_CA_BUNDLE: '',
    CURL_CA_BUNDLE: '',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    http_proxy: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

async function makeVenv(dir: string): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  const r = await exec(SYSTEM_PYTHON, ['-m', 'venv', dir]);
  if (r.code !== 0) throw new Error(`python3 -m venv failed: ${r.stderr}`);
  return join(dir, 'bin', 'pip');
}

interface Report {
  install: {
    download_info: { url: string; archive_info?: { hash?: string } };
    metadata: { name: string };
  }[];
}

/** The tree as pip resolves it from the machine's own PyPI files, or null if they are absent. */
async function resolveLocal(ctx: BenchContext, pip: string, requirements: string[]) {
  const roots = LOCAL_PYPI.filter((r) => existsSync(join(r, 'index.html')));
  if (roots.length === 0) return null;
  const report = join(ctx.tmp, 'resolve.json');
  const r = await exec(
    pip,
    [
      '--isolated',
      'install',
      '--dry-run',
      '--quiet',
      '--no-cache-dir',
      '--only-binary',
      ':all:',
      '--report',
      report,
      '--index-url',
      `file://${roots[0]}`,
      ...roots.slice(1).flatMap((root) => ['--extra-index-url', `file://${root}`]),
      ...requirements,
    ],
    pipEnv(join(ctx.tmp, 'home-resolve')),
  );
  if (r.code !== 0) {
    ctx.log(`${requirements.join(' ')} does not resolve from ${roots.join(', ')}: ${r.stderr}`);
    return null;
  }
  const wheels = join(ctx.tmp, 'wheels');
  mkdirSync(wheels, { recursive: true });
  const dists = (JSON.parse(readFileSync(report, 'utf8')) as Report).install.map((item) => {
    const source = fileURLToPath(item.download_info.url);
    const filename = decodeURIComponent(source.slice(source.lastIndexOf('/') + 1));
    const path = join(wheels, filename);
    copyFileSync(source, path);
    const digest = sha256(readFileSync(path));
    const recorded = item.download_info.archive_info?.hash;
    if (recorded && recorded !== `sha256=${digest}`)
      throw new Error(`${source}: its sha256 is not the one its index gives`);
    return { filename, project: normalize(item.metadata.name), path, sha256: digest };
  });
  return {
    requirements,
    dists,
    source: `${dists.length} wheels from this machine's PyPI files`,
  };
}

/** A tree built here: `pier-bench-tree` requiring 33 leaves (3 in a smoke run), small wheels. */
async function buildTree(ctx: BenchContext): Promise<Tree> {
  const count = ctx.smoke ? 3 : BUILT_LEAVES;
  const wheels = join(ctx.tmp, 'wheels');
  mkdirSync(wheels, { recursive: true });
  const leaves = Array.from({ length: count }, (_, i) => `pier-bench-leaf-${i + 1}`);
  const specs = [
    {
      name: 'pier-bench-tree',
      requires: leaves.map((leaf) => `Requires-Dist: ${leaf}>=1.0`).join('\n'),
    },
    ...leaves.map((name) => ({ name, requires: '' })),
  ];
  const dists: Dist[] = [];
  for (const spec of specs) {
    const wheel = await makeWheel({
      name: spec.name,
      version: '1.0.0',
      metadata: metadataText(spec.name, '1.0.0', spec.requires),
      // About 40 kB of module, so the wheels are not empty.
      extra: {
        [`${spec.name.replace(/-/g, '_')}/data.py`]: `DATA = ${JSON.stringify('x'.repeat(40_000))}\n`,
      },
    });
    const path = join(wheels, wheel.filename);
    writeFileSync(path, wheel.content);
    dists.push({
      filename: wheel.filename,
      project: normalize(spec.name),
      path,
      sha256: sha256(wheel.content),
    });
  }
  return {
    requirements: ['pier-bench-tree'],
    dists,
    source: `${dists.length} wheels built here: the tree is not in /opt/pypi on this machine`,
  };
}

/** A static PEP 503 index of the files: /simple/, /simple/<project>/, /files/<filename>. */
function writeStaticIndex(root: string, dists: Dist[]): void {
  const byProject = new Map<string, Dist[]>();
  for (const d of dists) byProject.set(d.project, [...(byProject.get(d.project) ?? []), d]);
  mkdirSync(join(root, 'files'), { recursive: true });
  const page = (links: string) => `<!DOCTYPE html>\n<html><body>\n${links}</body></html>\n`;
  const projects = [...byProject.keys()].sort();
  mkdirSync(join(root, 'simple'), { recursive: true });
  writeFileSync(
    join(root, 'simple', 'index.html'),
    page(projects.map((p) => `<a href="${p}/">${p}</a>\n`).join('')),
  );
  for (const [project, files] of byProject) {
    mkdirSync(join(root, 'simple', project), { recursive: true });
    writeFileSync(
      join(root, 'simple', project, 'index.html'),
      page(
        files
          .map((f) => `<a href="../../files/${f.filename}#sha256=${f.sha256}">${f.filename}</a>\n`)
          .join(''),
      ),
    );
    for (const f of files) copyFileSync(f.path, join(root, 'files', f.filename));
  }
}

/**
 * Every file through POST /legacy/, sent by `pier publish` (Debian's twine 4.0.2 cannot read the
 * Metadata-Version 2.4 that most of today's wheels carry), then checked to be listed.
 */
async function uploadAll(url: string, token: string, dists: Dist[]) {
  const r = await exec(
    process.execPath,
    [
      PIER_BIN,
      'publish',
      '--repository-url',
      `${url}/legacy/`,
      '--token',
      token,
      ...dists.map((d) => d.path),
    ],
    {},
    undefined,
    /^PIER_/,
  );
  if (r.code !== 0) throw new Error(`pier publish failed:\n${r.stdout}${r.stderr}`);
  const root = await getJson<{ projects: { name: string }[] }>(`${url}/simple/`);
  const projects = new Set(dists.map((d) => d.project));
  if (root.projects.length !== projects.size)
    throw new Error(`pier lists ${root.projects.length} projects, expected ${projects.size}`);
}

interface Install {
  seconds: number;
  /** CPU of pip and its children, in seconds. */
  pipCpu: number;
  serverCpu: number | null;
  /** CPU of everything else on the machine meanwhile, in cores. */
  otherCpu: number | null;
}

/**
 * One timed `pip install` into the fresh venv of `pip`. It runs under `sh`, which writes its own
 * /proc stat after pip has exited: its children's CPU (cutime + cstime) is pip's, subprocesses
 * included, which /proc can no longer say once pip is gone.
 */
async function timedInstall(
  ctx: BenchContext,
  pip: string,
  indexUrl: string,
  tree: Tree,
  server: ServerProcess,
  label: string,
): Promise<Install> {
  const report = join(ctx.tmp, `install-${label}.json`);
  const stat = join(ctx.tmp, `install-${label}.stat`);
  const args = [
    '--isolated',
    'install',
    '--quiet',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--index-url',
    indexUrl,
    '--report',
    report,
    ...tree.requirements,
  ];
  const env = { ...process.env, ...pipEnv(join(ctx.tmp, `home-${label}`)) };
  const server0 = treeCpuSeconds(server.pid);
  const machine0 = machineCpu();
  const started = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      '/bin/sh',
      ['-c', '"$@"; rc=$?; cat /proc/$$/stat > "$PIER_BENCH_STAT"; exit $rc', 'sh', pip, ...args],
      { env: { ...env, PIER_BENCH_STAT: stat }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`pip install from ${indexUrl}:\n${out}`)),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  const machine1 = machineCpu();
  const server1 = treeCpuSeconds(server.pid);
  server.assertAlive();
  // pip installed the whole tree, file for file, every one from the index under test.
  const urls = (JSON.parse(readFileSync(report, 'utf8')) as Report).install.map(
    (i) => new URL(i.download_info.url),
  );
  const elsewhere = urls.find((u) => u.origin !== new URL(indexUrl).origin);
  if (elsewhere) throw new Error(`pip took ${elsewhere.href}, not from ${indexUrl}`);
  const installed = urls.map((u) => decodeURIComponent(u.pathname.split('/').pop()!));
  const expected = tree.dists.map((d) => d.filename).sort();
  if (JSON.stringify(installed.sort()) !== JSON.stringify(expected))
    throw new Error(
      `pip installed ${installed.length} files from ${indexUrl}, expected ${expected.length}:\n${output}`,
    );
  const fields = readFileSync(stat, 'utf8');
  const after = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  const pipCpu = (Number(after[13]) + Number(after[14])) / 100; // cutime + cstime, USER_HZ
  const serverCpu = server0 !== null && server1 !== null ? server1 - server0 : null;
  const otherCpu =
    machine0 !== null && machine1 !== null && serverCpu !== null
      ? Math.max(0, (machine1 - machine0 - serverCpu - pipCpu) / seconds)
      : null;
  return { seconds, pipCpu, serverCpu, otherCpu };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.smoke ? 1 : 5;
  const requirements = ctx.smoke ? REQUIREMENT.smoke : REQUIREMENT.full;
  // A fresh venv for the resolution and for each install, made beforehand (each takes seconds).
  ctx.log(`making ${1 + 2 * rounds} venvs`);
  const venvs = await Promise.all(
    Array.from({ length: 1 + 2 * rounds }, (_, i) => makeVenv(join(ctx.tmp, `venv-${i}`))),
  );
  const wanted = requirements.join(' ');
  ctx.log(`resolving ${wanted} from ${LOCAL_PYPI.join(' and ')}, offline`);
  let tree = await resolveLocal(ctx, venvs[0]!, requirements);
  if (!tree || (!ctx.smoke && tree.dists.length < MIN_WHEELS)) {
    if (tree) ctx.log(`${wanted} is ${tree.dists.length} wheels here: building a tree`);
    rmSync(join(ctx.tmp, 'wheels'), { recursive: true, force: true });
    tree = await buildTree(ctx);
  }
  const installed = tree.requirements.join(' ');
  ctx.log(`${tree.source}; ${installed} is installed from each index`);
  const kase = `pip install ${installed} (${tree.source}), fresh venv, wall time`;
  const missing = nginxMissing();
  const pypiserver = unmeasuredRow(
    NAME,
    `${kase}, against pypiserver`,
    "pypiserver is not in Debian and not among this machine's PyPI files, and PyPI cannot be reached",
  );
  if (missing) return [unmeasuredRow(NAME, kase, missing), pypiserver];

  const staticRoot = join(ctx.tmp, 'static');
  writeStaticIndex(staticRoot, tree.dists);
  const dataDir = join(ctx.tmp, 'pier-data');
  const token = await uploadToken(dataDir);
  const pier = await startPier(dataDir);
  const nginx = await startNginx({ root: staticRoot, dir: join(ctx.tmp, 'nginx') });
  try {
    ctx.log(`uploading ${tree.dists.length} files to pier with pier publish`);
    await uploadAll(pier.url, token, tree.dists);
    const servers = { pier, nginx } as const;
    const results: Record<keyof typeof servers, Install[]> = { pier: [], nginx: [] };
    const order = ['pier', 'nginx'] as const;
    for (let i = 0; i < rounds; i++)
      for (let k = 0; k < order.length; k++) {
        const name = order[(k + i) % order.length]!;
        const pip = venvs[1 + 2 * i + k]!;
        const server = servers[name];
        const result = await timedInstall(
          ctx,
          pip,
          `${server.url}/simple/`,
          tree,
          server,
          `${name}-${i}`,
        );
        ctx.log(`round ${i + 1}/${rounds}, ${name}: ${result.seconds.toFixed(2)} s`);
        results[name].push(result);
      }
    const describe = (prefix: string, runs: Install[]) => ({
      [`${prefix} seconds per round`]: runs.map((r) => round2(r.seconds)),
      [`${prefix} pip CPU seconds (median)`]: round2(median(runs.map((r) => r.pipCpu))),
      [`${prefix} server CPU seconds (median)`]: round2(
        median(runs.map((r) => r.serverCpu ?? NaN)),
      ),
    });
    const p = results.pier;
    const n = results.nginx;
    return [
      ratioRow(
        NAME,
        kase,
        { value: median(p.map((r) => r.seconds)), unit: 's' },
        {
          name: 'nginx, static PEP 503 index of the same files',
          value: median(n.map((r) => r.seconds)),
        },
        null,
        mean([...p, ...n].map((r) => r.otherCpu ?? 0)),
        {
          wheels: tree.dists.length,
          projects: new Set(tree.dists.map((d) => d.project)).size,
          'total bytes': tree.dists.reduce((sum, d) => sum + readFileSync(d.path).length, 0),
          rounds,
          ...describe('pier', p),
          ...describe('nginx', n),
        },
      ),
      pypiserver,
    ];
  } finally {
    await Promise.all([pier.stop(), nginx.stop()]);
  }
}

export const pipInstallBench: Benchmark = { name: NAME, run };
