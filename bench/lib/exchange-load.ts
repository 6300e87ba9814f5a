// A closed-loop load of token exchanges: `connections` clients on keep-alive sockets, each
// posting the next unused OIDC token as soon as the previous answer has been read. Every token is
// used once (pier refuses a replay), so the run ends when the tokens do. Raw HTTP over node:net,
// like lib/load.ts, so the client's share of the 2 cores stays small.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ExchangeLoadOptions {
  url: string;
  tokensFile: string;
  connections: number;
}

export interface ExchangeLoadResult {
  exchanges: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

export async function runExchangeLoad(o: ExchangeLoadOptions): Promise<ExchangeLoadResult> {
  const url = new URL(o.url);
  const tokens = readFileSync(o.tokensFile, 'utf8').split('\n').filter(Boolean);
  let next = 0;
  const latencies: number[] = [];
  const request = (token: string) => {
    const body = JSON.stringify({ token });
    return Buffer.from(
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };
  const client = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port || 80), url.hostname);
      socket.setNoDelay(true);
      let buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (next >= tokens.length) {
          socket.destroy();
          return resolve();
        }
        sentAt = performance.now();
        socket.write(request(tokens[next++]!));
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        const end = buffer.indexOf(HEADER_END);
        if (end < 0) return;
        const head = buffer.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1] ?? -1);
        if (buffer.length < end + 4 + length) return;
        const status = Number(head.slice(9, 12));
        if (status !== 200) {
          socket.destroy();
          return reject(
            new Error(
              `exchange answered ${status}: ${buffer.toString('utf8', end + 4, end + 4 + length)}`,
            ),
          );
        }
        buffer = buffer.subarray(end + 4 + length);
        latencies.push(performance.now() - sentAt);
        send();
      });
      socket.on('error', reject);
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: o.connections }, client));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    exchanges: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
