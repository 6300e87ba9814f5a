// Helpers for the client's unit tests: a stand-in CI platform (an AmbientContext whose
// programs, files and metadata server are canned), a JWT with given claims (unsigned: the client
// never verifies), and a tiny HTTP server answering from a handler.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AmbientContext } from '../../src/client/ambient.js';
import type { HttpResponse } from '../../src/client/http.js';

export function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'k' })}.${part(claims)}.c2lnbmF0dXJl`;
}

export function response(
  status: number,
  body: string | object,
  headers: Record<string, string> = {},
  statusText = '',
): HttpResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    status,
    statusText,
    headers: {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      ...headers,
    },
    body: Buffer.from(text),
  };
}

export interface FakeCi extends AmbientContext {
  runs: { command: string; args: string[] }[];
  gets: { url: string; headers: Record<string, string> }[];
  posts: { url: string; headers: Record<string, string> }[];
}

export function fakeCi(
  env: Record<string, string>,
  options: {
    programs?: Record<
      string,
      (args: string[]) => { code: number; stdout: string; stderr?: string }
    >;
    files?: Record<string, string>;
    get?: (url: string, headers: Record<string, string>) => HttpResponse;
    post?: (url: string, headers: Record<string, string>) => HttpResponse;
  } = {},
): FakeCi {
  const ci: FakeCi = {
    env,
    runs: [],
    gets: [],
    posts: [],
    async run(command, args) {
      ci.runs.push({ command, args });
      const program = options.programs?.[command];
      if (!program) return null;
      const r = program(args);
      return { code: r.code, stdout: r.stdout, stderr: r.stderr ?? '' };
    },
    async get(url, headers) {
      ci.gets.push({ url, headers });
      if (!options.get) throw new Error(`unexpected GET ${url}`);
      return options.get(url, headers);
    },
    async post(url, headers) {
      ci.posts.push({ url, headers });
      if (!options.post) throw new Error(`unexpected POST ${url}`);
      return options.post(url, headers);
    },
    async readText(path) {
      return options.files?.[path] ?? null;
    },
  };
  return ci;
}

export interface CannedServer {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: Buffer }[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering each request with `handler`. */
export async function cannedServer(
  handler: (
    req: { method: string; path: string; headers: IncomingMessage['headers']; body: Buffer },
    res: ServerResponse,
  ) => void,
): Promise<CannedServer> {
  const requests: CannedServer['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, statusText?: string) {
  if (statusText === undefined) res.writeHead(status, { 'content-type': 'application/json' });
  else res.writeHead(status, statusText, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
