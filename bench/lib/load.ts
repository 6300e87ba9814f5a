// A closed-loop HTTP/1.1 load generator: `connections` clients, each on its own keep-alive
// socket, sending the next GET as soon as the previous answer has been read in full. Every
// answer's status is checked; one unexpected answer, or a closed connection, fails the run.
//
// It speaks HTTP over node:net rather than through node:http's client: on this 2-core machine
// the load generator shares the CPU with the server, and node:http's client spends about four
// times the CPU per request that a bare node:http server does, so it capped the baseline (about
// 12,000 requests/s of an empty body where a raw client lets the same server do 65,000). Parsing
// only the status line and Content-Length keeps the generator's share small, which is fair to
// both servers: pier and the baseline are loaded by the same client, in the same way.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LOAD_WORKER } from './paths.js';
import { machineCpu, spawnNode, treeCpuSeconds } from './processes.js';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  expectStatus: number;
  /** The server's pid, to report the CPU it used (with its workers'). */
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
  /** CPU everything else on the machine used meanwhile (other work disturbs a measurement). */
  otherCpu: number | null;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One client: a socket that sends `request` again each time a whole answer has arrived. */
function client(
  url: URL,
  request: Buffer,
  expect: number,
  stopAt: number,
  onAnswer: (ms: number, bytes: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port || 80), url.hostname);
    socket.setNoDelay(true);
    let head: Buffer | null = null; // the answer's headers so far
    let bodyLeft = -1; // bytes of the body still to come; -1 while reading headers
    let bodySize = 0;
    let sentAt = 0;
    let done = false;
    const fail = (err: Error) => {
      done = true;
      socket.destroy();
      reject(err);
    };
    const send = () => {
      sentAt = performance.now();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      let at = 0;
      while (at < chunk.length && !done) {
        if (bodyLeft < 0) {
          head = head ? Buffer.concat([head, chunk.subarray(at)]) : chunk.subarray(at);
          const end = head.indexOf(HEADER_END);
          if (end < 0) return;
          const text = head.toString('latin1', 0, end);
          // Bytes after the headers are all in this chunk: earlier ones held no header end.
          at = chunk.length - (head.length - end - HEADER_END.length);
          head = null;
          const status = Number(text.slice(9, 12));
          if (status !== expect)
            return fail(new Error(`GET ${url.pathname}: expected ${expect}, got ${status}`));
          const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text);
          if (status === 304 || status === 204) bodyLeft = 0;
          else if (length) bodyLeft = Number(length[1]);
          else return fail(new Error(`GET ${url.pathname}: an answer without Content-Length`));
          bodySize = bodyLeft;
        }
        const take = Math.min(bodyLeft, chunk.length - at);
        at += take;
        bodyLeft -= take;
        if (bodyLeft > 0) return;
        bodyLeft = -1;
        const now = performance.now();
        onAnswer(now - sentAt, bodySize);
        if (now >= stopAt) {
          done = true;
          socket.destroy();
          return resolve();
        }
        send();
      }
    });
    socket.on('error', fail);
    socket.on('close', () => {
      if (!done) fail(new Error(`GET ${url.pathname}: the server closed the connection`));
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const request = Buffer.from(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      Object.entries(o.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
    'latin1',
  );
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let bytes = 0;
  const onAnswer = (ms: number, size: number) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[count++] = ms;
    bytes += size;
  };

  const server0 = o.serverPid ? treeCpuSeconds(o.serverPid) : null;
  const machine0 = machineCpu();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const stopAt = t0 + o.durationMs;
  await Promise.all(
    Array.from({ length: o.connections }, () =>
      client(url, request, o.expectStatus, stopAt, onAnswer),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const clientUsage = process.cpuUsage(client0);
  const server1 = o.serverPid ? treeCpuSeconds(o.serverPid) : null;
  const machine1 = machineCpu();

  const serverCpu = server0 !== null && server1 !== null ? (server1 - server0) / seconds : null;
  const clientCpu = (clientUsage.user + clientUsage.system) / 1e6 / seconds;
  const machine = machine0 !== null && machine1 !== null ? (machine1 - machine0) / seconds : null;
  const sorted = latencies.subarray(0, count).sort();
  return {
    requests: count,
    seconds,
    requestsPerSecond: count / seconds,
    bytesPerRequest: count ? bytes / count : 0,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    serverCpu,
    clientCpu,
    otherCpu:
      machine !== null && serverCpu !== null ? Math.max(0, machine - serverCpu - clientCpu) : null,
  };
}

/** Runs `runLoad` in a fresh process (bench/load-worker.ts) and returns its result. */
export function runLoadInProcess(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawnNode([LOAD_WORKER, JSON.stringify(o)]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as LoadResult)
        : reject(new Error(`load generator exited with ${code}: ${stderr.trim()}`)),
    );
  });
}
