// A closed-loop HTTP load generator: `connections` clients, each on its own keep-alive socket,
// sending the next GET as soon as the previous answer has been read in full. Every answer's
// status is checked; one unexpected answer fails the run.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { cpuSeconds } from './processes.js';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  /** Requests in this phase warm the sockets and the server up and are not counted. */
  warmupMs: number;
  durationMs: number;
  expectStatus: number;
  /** The server's pid, to report the CPU it used during the measured phase. */
  serverPid?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  bytesPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the server used, as a share of one core (1 = one core busy all the time). */
  serverCpu: number | null;
  /** CPU this load generator used, the same way. */
  clientCpu: number;
}

function get(agent: Agent, url: URL, headers: Record<string, string>, expect: number) {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () =>
        res.statusCode === expect
          ? resolve(bytes)
          : reject(new Error(`GET ${url.pathname}: expected ${expect}, got ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let bytes = 0;
  let measuring = false;
  let stopAt = Infinity;

  const client = async () => {
    while (performance.now() < stopAt) {
      const started = performance.now();
      const n = await get(agent, url, o.headers, o.expectStatus);
      if (!measuring) continue;
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = performance.now() - started;
      bytes += n;
    }
  };

  try {
    const clients = Array.from({ length: o.connections }, client);
    const failed = Promise.all(clients).then(() => undefined);
    // Warm up, then count everything answered between start and stop.
    await Promise.race([failed, new Promise((r) => setTimeout(r, o.warmupMs))]);
    const cpu0 = o.serverPid ? cpuSeconds(o.serverPid) : null;
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    stopAt = t0 + o.durationMs;
    await failed;
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = o.serverPid ? cpuSeconds(o.serverPid) : null;
    const clientUsage = process.cpuUsage(clientCpu0);
    const sorted = latencies.subarray(0, count).sort();
    return {
      requests: count,
      seconds,
      requestsPerSecond: count / seconds,
      bytesPerRequest: count ? bytes / count : 0,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      serverCpu: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / seconds : null,
      clientCpu: (clientUsage.user + clientUsage.system) / 1e6 / seconds,
    };
  } finally {
    stopAt = -Infinity; // after a failure, the other clients stop too
    agent.destroy();
  }
}
