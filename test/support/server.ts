// Starting pier for tests: in-process on a free port (fast, for HTTP tests), or as a separate
// `pier serve` process exactly as users run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { openServices, type Services } from '../../src/services.js';
import { buildApp } from '../../src/http/app.js';
import type { Actor } from '../../src/audit/log.js';
import type { Scope } from '../../src/auth/principal.js';
import { tempDir } from './tmp.js';
import { freshBackend } from './backend.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PIER_BIN = join(REPO_ROOT, 'bin', 'pier.cjs');
export const OPERATOR: Actor = { principal: { kind: 'operator', name: 'test' }, ip: null };

export interface TestServer {
  /** The public URL (the listen address unless a test configures one). */
  url: string;
  /** Where the server really listens. */
  listenUrl: string;
  dataDir: string;
  services: Services;
  app: FastifyInstance;
  /** Settings for another server (or a `pier` command) on this server's data. */
  sameData(): { dataDir: string; databaseUrl: string; storageUrl: string };
  /** The environment of a `pier` process on this server's data. */
  env(): Record<string, string>;
  close(): Promise<void>;
  /** Adds a user and returns an API token for it. */
  userWithToken(
    username: string,
    opts?: {
      admin?: boolean;
      mayCreateProjects?: boolean;
      scope?: Scope;
      projects?: string[];
      password?: string;
    },
  ): Promise<string>;
}

export function testConfig(
  overrides: Partial<Record<keyof Config, unknown>> & { config?: string } = {},
): Config {
  const dataDir = tempDir('pier-data-');
  return loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      dataDir,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'warn',
      ...freshBackend(),
      ...overrides,
    },
  });
}

export async function startServer(
  overrides: Partial<Record<keyof Config, unknown>> & { config?: string } = {},
): Promise<TestServer> {
  const config = testConfig(overrides);
  const services = await openServices(config);
  const app = await buildApp(services, { logger: false });
  await app.listen({ host: config.host, port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  services.setListening({ host: config.host, port: address.port });
  let closed = false;
  return {
    url: services.publicUrl(),
    listenUrl: `http://127.0.0.1:${address.port}`,
    dataDir: config.dataDir,
    services,
    app,
    sameData: () => ({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      storageUrl: config.storageUrl,
    }),
    env: () => ({
      PIER_DATA_DIR: config.dataDir,
      PIER_DATABASE_URL: config.databaseUrl,
      PIER_STORAGE_URL: config.storageUrl,
    }),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await services.close();
    },
    async userWithToken(username, opts = {}) {
      if (!(await services.auth.findUser(username)))
        await services.auth.addUser(OPERATOR, {
          username,
          password: opts.password ?? `${username}-password`,
          admin: opts.admin,
          mayCreateProjects: opts.mayCreateProjects,
        });
      const created = await services.auth.createToken(OPERATOR, {
        username,
        scope: opts.scope ?? 'upload',
        projects: opts.projects,
      });
      return created.token;
    },
  };
}

export interface PierProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Waits until the output matches (log lines are written just after each response). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
}

/**
 * One server process unless a test asks for more (PIER_WORKERS in its env or `--workers`):
 * `pier serve` defaults to one per core, which would change the suite's timing.
 */
const ONE_WORKER = { PIER_WORKERS: '1' };

/** Runs `pier serve` as its own process and waits until it answers /healthz. */
export async function startPierProcess(
  env: Record<string, string>,
  args: string[] = [],
): Promise<PierProcess> {
  const child = spawn(process.execPath, [PIER_BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, PIER_LOG_LEVEL: 'info', ...ONE_WORKER, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pier did not start:\n${output}`)), 30_000);
    const check = () => {
      const m = /pier is serving (\S+)\/simple\//.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pier exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > until)
          throw new Error(`pier's output never matched ${pattern}:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return output;
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        if (!child.killed) child.kill('SIGTERM');
      }),
  };
}

/** Runs the pier CLI to completion (in `options.cwd`, default this process's folder). */
export function runPier(
  args: string[],
  env: Record<string, string>,
  input?: string,
  options: { cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PIER_BIN, ...args], {
      env: { ...process.env, ...ONE_WORKER, ...env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
