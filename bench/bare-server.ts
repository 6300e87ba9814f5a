// The baseline server: bare node:http answering from canned responses (pier's own status, headers
// and bytes, recorded by the benchmark), chosen by Accept, If-None-Match and Accept-Encoding: a
// compressed answer is replayed as pier compressed it, so the bare server never compresses. It does the least a
// server can do to send those bytes, so pier's requests/s over its requests/s is pier's overhead.
// Usage: node build/bench/bare-server.js RESPONSES.json [PROCESSES]   (prints its URL on stderr)
// With PROCESSES > 1, that many processes share the port through node:cluster, as the workers
// of `pier serve --workers N` do: the baseline of the workers benchmark.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { CannedResponse } from './lib/processes.js';

const key = (accept: string, ifNoneMatch: string | null, acceptEncoding: string | null) =>
  `${accept}\n${ifNoneMatch ?? ''}\n${acceptEncoding ?? ''}`;

const processes = Number(process.argv[3] ?? 1);
if (processes > 1 && cluster.isPrimary) {
  let listening = 0;
  cluster.on('message', (_worker, port: number) => {
    if (++listening === processes)
      process.stderr.write(`bare server is serving http://127.0.0.1:${port}\n`);
  });
  for (let i = 0; i < processes; i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    cluster.once('exit', () => process.exit(0));
  });
} else serveCanned();

function serveCanned(): void {
  const canned = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as CannedResponse[];
  const answers = new Map(
    canned.map((c) => [
      key(c.accept, c.ifNoneMatch, c.acceptEncoding),
      { status: c.status, headers: c.headers, body: Buffer.from(c.body, 'base64') },
    ]),
  );

  const server = createServer((req, res) => {
    const answer = answers.get(
      key(
        req.headers.accept ?? '',
        req.headers['if-none-match'] ?? null,
        req.headers['accept-encoding'] ?? null,
      ),
    );
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(answer.status, answer.headers).end(answer.body);
  });
  server.keepAliveTimeout = 72_000; // Fastify's default, which pier keeps

  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (!address || typeof address !== 'object') return;
    if (cluster.isWorker) process.send?.(address.port);
    else process.stderr.write(`bare server is serving http://127.0.0.1:${address.port}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    if (cluster.isWorker) process.exit(0);
  });
}
