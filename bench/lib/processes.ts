// Server processes for the benchmarks: `pier serve` exactly as users run it, and the bare
// node:http baseline, each in its own process so the load generator never shares their event
// loop. Plus what /proc says about a process: CPU time and resident memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { BARE_SERVER, PIER_BIN } from './paths.js';

const children = new Set<ChildProcess>();

/** Spawns a node process that is killed if the benchmark process exits first. */
export function spawnNode(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildProcess & { stdout: Readable; stderr: Readable } {
  const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child as ChildProcess & { stdout: Readable; stderr: Readable };
}

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface ServerProcess {
  url: string;
  pid: number;
  /** Throws if the process has exited (a crash during a measurement must not go unnoticed). */
  assertAlive(): void;
  stop(): Promise<void>;
}

/** The environment without any PIER_* setting of the caller's, so a run is reproducible. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIER_')) env[k] = v;
  return { ...env, ...extra };
}

async function spawnServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  ready: RegExp,
): Promise<ServerProcess> {
  const child = spawnNode(args, { cwd, env: cleanEnv(env) });
  let output = '';
  const collect = (d: Buffer) => {
    // Keep the start of the output (for errors), not an unbounded log.
    if (output.length < 64 * 1024) output += d.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 30_000);
    const check = () => {
      const m = ready.exec(output);
      if (m) {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        resolve(m[1]!);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before serving:\n${output}`));
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', onExit);
  });
  return {
    url,
    pid: child.pid!,
    assertAlive() {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** One server process unless a benchmark asks for workers (PIER_WORKERS in `env`). */
function pierEnv(dataDir: string, env: Record<string, string>): Record<string, string> {
  mkdirSync(dataDir, { recursive: true });
  return { PIER_DATA_DIR: dataDir, PIER_LOG_LEVEL: 'warn', PIER_WORKERS: '1', ...env };
}

/** `pier serve` on a free port of 127.0.0.1 with its data in `dataDir`. */
export function startPier(dataDir: string, env: Record<string, string> = {}) {
  return spawnServer(
    'pier',
    [PIER_BIN, 'serve', '--host', '127.0.0.1', '--port', '0'],
    pierEnv(dataDir, env),
    dataDir,
    /pier is serving (\S+)\/simple\//,
  );
}

/** Runs a pier command against `dataDir` and returns its standard output; throws if it fails. */
export function pierCli(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnNode([PIER_BIN, ...args], {
      cwd: dataDir,
      env: cleanEnv(pierEnv(dataDir, env)),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`pier ${args.join(' ')} exited with ${code}:\n${stderr}`)),
    );
  });
}

/**
 * Makes the index in `dataDir` (or the configured database) when there is none yet: management
 * commands act only on an existing index, and `pier migrate` is the command that creates one.
 */
export async function createIndex(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<void> {
  await pierCli(dataDir, ['migrate'], env);
}

/** A user who may create projects, and an upload token for it. */
export async function uploadToken(
  dataDir: string,
  user = 'bench',
  env: Record<string, string> = {},
): Promise<string> {
  await createIndex(dataDir, env);
  await pierCli(dataDir, ['user', 'add', user, '--may-create-projects'], env);
  return (
    await pierCli(dataDir, ['token', 'create', '--user', user, '--scope', 'upload'], env)
  ).trim();
}

/** One canned answer of the bare server, chosen by the request's Accept and If-None-Match. */
export interface CannedResponse {
  accept: string;
  ifNoneMatch: string | null;
  acceptEncoding: string | null;
  status: number;
  headers: Record<string, string>;
  body: string; // base64
}

/** The bare node:http baseline, answering from a file of canned responses (in `processes`). */
export function startBare(responsesFile: string, cwd: string, processes = 1) {
  return spawnServer(
    'bare server',
    [BARE_SERVER, responsesFile, String(processes)],
    {},
    cwd,
    /bare server is serving (\S+)/,
  );
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux node runs on

/** CPU seconds (user + system) from a /proc stat file, or null if it cannot be read. */
function statCpuSeconds(path: string): number | null {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, all its threads, or null off Linux. */
export function cpuSeconds(pid: number): number | null {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** The pids of a process's children (the workers of a cluster), or [] off Linux. */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * CPU seconds a process and its descendants still running have used (a server and its
 * workers), or null off Linux.
 */
export function treeCpuSeconds(pid: number): number | null {
  const own = cpuSeconds(pid);
  if (own === null) return null;
  return childPids(pid).reduce((sum, child) => sum + (treeCpuSeconds(child) ?? 0), own);
}

/** CPU seconds of a process's main thread (its event loop), or null off Linux. */
export function mainThreadCpuSeconds(pid: number): number | null {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

/** CPU seconds the whole machine has been busy (every core, not idle or waiting), or null. */
export function machineCpu(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Resident set size in bytes (VmRSS), or null off Linux. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's VmRSS every `intervalMs` until stopped; reports the peak. */
export function sampleRss(pid: number, intervalMs = 50) {
  const start = rssBytes(pid);
  let peak = start ?? 0;
  let samples = 0;
  const timer = setInterval(() => {
    const rss = rssBytes(pid);
    if (rss === null) return;
    samples++;
    if (rss > peak) peak = rss;
  }, intervalMs);
  return {
    stop(): { startBytes: number | null; peakBytes: number; samples: number } {
      clearInterval(timer);
      const rss = rssBytes(pid);
      if (rss !== null && rss > peak) peak = rss;
      return { startBytes: start, peakBytes: peak, samples };
    },
  };
}
