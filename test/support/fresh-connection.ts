// A request on a connection of its own, closed after the answer. node:cluster hands each new
// connection to the next worker, so tests of several workers spread requests over them this
// way (fetch and node:http's default agent keep one connection alive, which one worker serves).
import { request } from 'node:http';

export interface FreshAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function onFreshConnection(
  url: string,
  init: { method?: string; headers?: Record<string, string | number>; body?: Buffer } = {},
): Promise<FreshAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
