// The publish client against `twine upload`: the same number of wheels of the same sizes, each
// run to a fresh project (so every file is new), with the same upload token, against the same
// `pier serve`. Wall time of the whole command, process start to exit, as a CI step sees it:
// `pier publish` as installed (bin/pier.cjs), and the GitHub Action's bundle run as the runner
// runs it. Runs rotate between the tools and the medians are compared.
//
// The index is plain HTTP on loopback, so settings that only concern TLS are left out of every
// tool's environment: NODE_EXTRA_CA_CERTS in particular makes Node read a CA bundle as it starts
// (Node 20 does so eagerly: about 40 ms of each start on a machine that points it at the system
// bundle), which no request here uses. The pier row measured with the caller's environment as it
// is stays in the report, without a target, so the difference is visible.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { writeBigWheel } from './lib/big-wheel.js';
import { PIER_BIN, REPO_ROOT } from './lib/paths.js';
import { cleanEnv, cpuSeconds, machineCpu, startPier, uploadToken } from './lib/processes.js';
import { median } from './lib/stats.js';

const TWINE = '/usr/bin/twine';
const ACTION = join(REPO_ROOT, 'action', 'dist', 'index.cjs');
const TOOLS = ['pier', 'action', 'twine', 'pier-as-is'] as const;
type Tool = (typeof TOOLS)[number];
const TARGET = { op: '<', value: 0.5 } as const;
const KiB = 1024;

/** Environment variables that only matter to TLS, which loopback HTTP does not use. */
const TLS_ONLY = [
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

function withoutTls(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of TLS_ONLY) delete out[name];
  return out;
}

interface Timed {
  seconds: number;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds });
      else
        reject(
          new Error(`${command} ${args.slice(0, 2).join(' ')} exited with ${code}:\n${output}`),
        );
    });
  });
}

/** `count` wheels of `bytes` payload each: versions 1.0.0, 1.0.1, … of `project`. */
async function wheels(
  dir: string,
  project: string,
  count: number,
  bytes: number,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++)
    paths.push((await writeBigWheel(dir, bytes, project, `1.0.${i}`)).path);
  return paths;
}

export const publishBench: Benchmark = {
  name: 'publish',
  async run(ctx: BenchContext): Promise<Row[]> {
    if (!existsSync(TWINE)) throw new Error(`${TWINE} is missing (apt-get install twine)`);
    const count = ctx.smoke ? 3 : 10;
    const bytes = (ctx.smoke ? 16 : 256) * KiB;
    const rounds = ctx.smoke ? 1 : 9;
    const dataDir = join(ctx.tmp, 'pier');
    const token = await uploadToken(dataDir);
    const pier = await startPier(dataDir);
    const uploadUrl = `${pier.url}/legacy/`;
    const times: Record<Tool, number[]> = { pier: [], action: [], twine: [], 'pier-as-is': [] };
    let serverCpu = 0;
    let machine = 0;
    let wall = 0;
    const command = (
      tool: Tool,
      dir: string,
      files: string[],
    ): [string, string[], NodeJS.ProcessEnv] => {
      if (tool === 'pier' || tool === 'pier-as-is')
        return [
          process.execPath,
          [PIER_BIN, 'publish', '--repository-url', uploadUrl, '--token', token, ...files],
          tool === 'pier' ? withoutTls(cleanEnv({})) : cleanEnv({}),
        ];
      if (tool === 'action')
        return [
          process.execPath,
          [ACTION],
          withoutTls(
            cleanEnv({
              'INPUT_REPOSITORY-URL': uploadUrl,
              INPUT_PASSWORD: token,
              'INPUT_PACKAGES-DIR': dir,
              GITHUB_ACTIONS: 'true',
              RUNNER_TEMP: ctx.tmp,
            }),
          ),
        ];
      return [
        TWINE,
        [
          'upload',
          '--repository-url',
          uploadUrl,
          '--non-interactive',
          '--disable-progress-bar',
          ...files,
        ],
        withoutTls(
          cleanEnv({
            TWINE_USERNAME: '__token__',
            TWINE_PASSWORD: token,
            HOME: join(ctx.tmp, 'home'),
            PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
          }),
        ),
      ];
    };
    try {
      ctx.log(
        `${rounds} rounds (after one unmeasured) of ${count} wheels of ${bytes / KiB} KiB, each to a fresh project`,
      );
      // Round 0 warms the server's code paths for every tool and is not counted.
      for (let round = 0; round <= rounds; round++) {
        // Rotate which tool goes first, so that none always meets a warmer server.
        const order = TOOLS.map((_, i) => TOOLS[(i + round) % TOOLS.length]!);
        for (const tool of order) {
          const project = `bench-${tool}-${round}`;
          const dir = join(ctx.tmp, project);
          const files = await wheels(dir, project, count, bytes);
          const cpu0 = cpuSeconds(pier.pid);
          const machine0 = machineCpu();
          const timed = await run(...command(tool, dir, files));
          const cpu1 = cpuSeconds(pier.pid);
          const machine1 = machineCpu();
          pier.assertAlive();
          if (round === 0) continue;
          if (cpu0 !== null && cpu1 !== null) serverCpu += cpu1 - cpu0;
          if (machine0 !== null && machine1 !== null) machine += machine1 - machine0;
          wall += timed.seconds;
          times[tool].push(timed.seconds);
        }
      }
    } finally {
      await pier.stop();
    }
    const twineSeconds = median(times.twine);
    // Besides the server, the client being measured uses about one core.
    const otherCpu = wall > 0 ? Math.max(0, (machine - serverCpu) / wall - 1) : null;
    const medians = TOOLS.map((t) => `${t} ${median(times[t]).toFixed(2)} s`).join(', ');
    ctx.log(`medians: ${medians}`);
    const details = {
      pier_seconds: times.pier,
      pier_as_is_seconds: times['pier-as-is'],
      tls_settings_left_out: TLS_ONLY.filter((name) => process.env[name] !== undefined).join(' '),
      action_seconds: times.action,
      twine_seconds: times.twine,
      server_cpu_seconds: serverCpu,
      wheels: count,
      wheel_payload_bytes: bytes,
      rounds,
    };
    const baseline = { name: 'twine upload (Debian 4.0.2)', value: twineSeconds };
    const what = `${count} wheels of ${bytes / KiB} KiB, token, wall time`;
    return [
      ratioRow(
        'publish',
        `pier publish: ${what}`,
        { value: median(times.pier), unit: 's' },
        baseline,
        TARGET,
        otherCpu,
        details,
      ),
      ratioRow(
        'publish',
        `pier publish, the environment as it is (${process.env.NODE_EXTRA_CA_CERTS ? 'with' : 'without'} NODE_EXTRA_CA_CERTS)`,
        { value: median(times['pier-as-is']), unit: 's' },
        baseline,
        null,
        otherCpu,
        details,
      ),
      ratioRow(
        'publish',
        `the action's bundle: ${what}`,
        { value: median(times.action), unit: 's' },
        baseline,
        TARGET,
        otherCpu,
        details,
      ),
    ];
  },
};
