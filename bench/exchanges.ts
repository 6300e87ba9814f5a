// Token exchanges per second: 32 concurrent clients posting OIDC tokens (signed beforehand, each
// used once) to `pier serve`'s /_/oidc/mint-token, against a loop in one process that calls the
// same exchange (the same JWT verification and the same database transaction) without HTTP.
// Both run on a fresh embedded-default index with one publisher; p50/p99 latencies are reported.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubClaims, startTestIssuer, type TestIssuer } from '../test/support/oidc-issuer.js';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import {
  cleanEnv,
  cpuSeconds,
  createIndex,
  machineCpu,
  pierCli,
  spawnNode,
  startPier,
} from './lib/processes.js';
import { EXCHANGE_BASELINE, EXCHANGE_LOAD_WORKER } from './lib/paths.js';
import type { ExchangeLoadResult } from './lib/exchange-load.js';

const AUDIENCE = 'pier-bench';
const CONNECTIONS = 32;
const TARGET = { op: '>=', value: 0.6 } as const;

async function signTokens(issuer: TestIssuer, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++)
    tokens.push(await issuer.sign(githubClaims(issuer.url, AUDIENCE, { exp: now + 3600 })));
  return tokens;
}

/** A fresh index with the project, the issuer and the publisher that trusts the tokens. */
async function prepareIndex(dataDir: string, issuerUrl: string): Promise<void> {
  await createIndex(dataDir);
  await pierCli(dataDir, ['user', 'add', 'owner', '--may-create-projects']);
  await pierCli(dataDir, ['project', 'create', 'bench-project', '--owner', 'owner']);
  await pierCli(dataDir, ['issuer', 'add', '--kind', 'github', '--url', issuerUrl, '--insecure']);
  await pierCli(dataDir, [
    'publisher',
    'add',
    'bench-project',
    '--repository',
    'octo-org/octo-repo',
    '--workflow',
    'release.yml',
    '--environment',
    'release',
    '--owner-id',
    '65',
    '--issuer',
    issuerUrl,
  ]);
}

function runJson<T>(args: string[], env: Record<string, string>, cwd: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawnNode(args, { cwd, env: cleanEnv(env) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${args[0]} failed: ${err}`)),
    );
  });
}

export const exchanges: Benchmark = {
  name: 'exchanges',
  async run(ctx: BenchContext): Promise<Row[]> {
    const count = ctx.smoke ? 150 : 4000;
    const warmup = ctx.smoke ? 20 : 200;
    const issuer = await startTestIssuer();
    try {
      ctx.log(`signing ${2 * (count + warmup)} tokens`);
      const file = (name: string, tokens: string[]) => {
        const path = join(ctx.tmp, name);
        writeFileSync(path, tokens.join('\n'));
        return path;
      };
      const pierWarmup = file('pier-warmup', await signTokens(issuer, warmup));
      const pierTokens = file('pier-tokens', await signTokens(issuer, count));
      const loopWarmup = file('loop-warmup', await signTokens(issuer, warmup));
      const loopTokens = file('loop-tokens', await signTokens(issuer, count));

      const pierDir = join(ctx.tmp, 'pier');
      const loopDir = join(ctx.tmp, 'loop');
      await prepareIndex(pierDir, issuer.url);
      await prepareIndex(loopDir, issuer.url);

      const pier = await startPier(pierDir, { PIER_OIDC_AUDIENCE: AUDIENCE });
      let pierResult: ExchangeLoadResult;
      let serverCpu: number | null = null;
      let otherCpu: number | null = null;
      try {
        const load = (tokensFile: string) =>
          runJson<ExchangeLoadResult>(
            [
              EXCHANGE_LOAD_WORKER,
              JSON.stringify({
                url: `${pier.url}/_/oidc/mint-token`,
                tokensFile,
                connections: CONNECTIONS,
              }),
            ],
            {},
            ctx.tmp,
          );
        await load(pierWarmup);
        const cpu0 = cpuSeconds(pier.pid);
        const machine0 = machineCpu();
        ctx.log(`${count} exchanges at pier, ${CONNECTIONS} clients`);
        pierResult = await load(pierTokens);
        const cpu1 = cpuSeconds(pier.pid);
        const machine1 = machineCpu();
        if (cpu0 !== null && cpu1 !== null) serverCpu = (cpu1 - cpu0) / pierResult.seconds;
        if (machine0 !== null && machine1 !== null && serverCpu !== null)
          otherCpu = Math.max(0, (machine1 - machine0) / pierResult.seconds - serverCpu - 1);
        pier.assertAlive();
      } finally {
        await pier.stop();
      }
      ctx.log(`${count} exchanges in one process, no HTTP`);
      const loop = await runJson<ExchangeLoadResult>(
        [EXCHANGE_BASELINE, loopTokens, loopWarmup],
        { PIER_DATA_DIR: loopDir, PIER_OIDC_AUDIENCE: AUDIENCE, PIER_LOG_LEVEL: 'warn' },
        loopDir,
      );
      return [
        ratioRow(
          'exchanges',
          `token exchanges, ${CONNECTIONS} concurrent clients`,
          { value: pierResult.perSecond, unit: 'exchanges/s' },
          { name: 'in-process loop, same verification and transaction', value: loop.perSecond },
          TARGET,
          otherCpu,
          {
            pier_p50_ms: pierResult.p50Ms,
            pier_p99_ms: pierResult.p99Ms,
            loop_p50_ms: loop.p50Ms,
            loop_p99_ms: loop.p99Ms,
            exchanges: pierResult.exchanges,
            ...(serverCpu === null ? {} : { server_cpu: serverCpu }),
          },
        ),
      ];
    } finally {
      await issuer.close();
    }
  },
};
