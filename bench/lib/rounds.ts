// How a load comparison measures: rounds in which each server is loaded once, in an order that
// turns each round so that a drift in the machine's load favours none. On a shared machine,
// rounds during which other processes used the CPU are measured again (up to `retry` times as
// many), and the quietest count.
import { QUIET_CPU, type BenchContext } from './bench.js';
import type { LoadResult } from './load.js';

export interface RoundSettings {
  rounds: number;
  roundMs: number;
  warmupMs: number;
  maxRounds: number;
}

/** Tiny in a smoke run (which only shows that the benchmark works). */
export function roundSettings(ctx: BenchContext, retry: number): RoundSettings {
  return ctx.smoke
    ? { rounds: 1, roundMs: 300, warmupMs: 100, maxRounds: 1 }
    : { rounds: 5, roundMs: 2000, warmupMs: 1000, maxRounds: 5 * retry };
}

export interface Round<S extends string> {
  results: Record<S, LoadResult>;
  /** The most CPU other processes used while one of the round's servers was measured. */
  other: number;
}

export async function quietestRounds<S extends string>(
  settings: RoundSettings,
  servers: readonly S[],
  load: (server: S) => Promise<LoadResult>,
): Promise<{ chosen: Round<S>[]; measured: number }> {
  const measured: Round<S>[] = [];
  const quiet = () => measured.filter((m) => m.other <= QUIET_CPU).length;
  for (
    let i = 0;
    i < settings.maxRounds && (i < settings.rounds || quiet() < settings.rounds);
    i++
  ) {
    const results = {} as Record<S, LoadResult>;
    for (let k = 0; k < servers.length; k++) {
      const server = servers[(k + i) % servers.length]!;
      results[server] = await load(server);
    }
    measured.push({ results, other: Math.max(...servers.map((s) => results[s].otherCpu ?? 0)) });
  }
  const chosen = [...measured].sort((a, b) => a.other - b.other).slice(0, settings.rounds);
  return { chosen, measured: measured.length };
}
