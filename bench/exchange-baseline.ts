// The baseline of the exchange benchmark: in one process, without HTTP, the same verification and
// the same database transaction as POST /_/oidc/mint-token — ExchangeService.mint() itself — on
// the tokens of argv[2]'s file, one after another. Prints {exchanges, seconds, perSecond, p50Ms, p99Ms}.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { percentile } from './lib/exchange-load.js';

const [tokensFile, warmupFile] = process.argv.slice(2) as [string, string];
const services = await openServices(loadConfig());
const mint = async (token: string) => {
  const result = await services.exchange.mint(JSON.stringify({ token }), '127.0.0.1');
  if (result.status !== 200) throw new Error(`exchange refused: ${JSON.stringify(result.body)}`);
};
for (const token of readFileSync(warmupFile, 'utf8').split('\n').filter(Boolean)) await mint(token);
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
const latencies: number[] = [];
const started = performance.now();
for (const token of tokens) {
  const t = performance.now();
  await mint(token);
  latencies.push(performance.now() - t);
}
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
await services.close();
process.stdout.write(
  `${JSON.stringify({ exchanges: tokens.length, seconds, perSecond: tokens.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) })}\n`,
);
