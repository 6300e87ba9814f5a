// Small HTTP helpers for checking what a server answered.
import { request } from 'node:http';

export interface Answer {
  status: number;
  /** Response headers, lists joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** One GET, read in full. */
export function getOnce(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** A Simple API page as PEP 691 JSON. */
export async function getJson<T>(url: string): Promise<T> {
  const answer = await getOnce(url, { accept: 'application/vnd.pypi.simple.v1+json' });
  if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status}`);
  return JSON.parse(answer.body.toString()) as T;
}
