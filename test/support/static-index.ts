// A static folder index served over HTTP (what `python -m http.server` over a folder of pages
// with relative links is), with a switch that makes it misbehave the ways upstreams do.
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeWheel, metadataText } from './dists.js';
import { sha256 } from './upload.js';

export type Behaviour =
  'normal' | 'status-500' | 'slow' | 'garbage-json' | 'garbage-html' | 'huge' | 'redirect-away';

export interface StaticIndex {
  url: string;
  /** Requests received, by path. */
  requests: string[];
  behaviour: Behaviour;
  close(): Promise<void>;
  server: Server;
}

/** With `tls`, served over HTTPS with that certificate (see test/support/tls.ts). */
export async function startStaticIndex(
  root: string,
  tls?: { cert: string; key: string },
): Promise<StaticIndex> {
  const index: StaticIndex = {
    url: '',
    requests: [],
    behaviour: 'normal',
    close: () => new Promise((r) => server.close(() => r())),
    server: undefined as unknown as Server,
  };
  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    index.requests.push(path);
    switch (index.behaviour) {
      case 'status-500':
        res.writeHead(500).end('oops');
        return;
      case 'slow':
        setTimeout(
          () => res.writeHead(200, { 'content-type': 'text/html' }).end('<a></a>'),
          5000,
        ).unref();
        return;
      case 'garbage-json':
        res
          .writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' })
          .end('{"files": [');
        return;
      case 'garbage-html':
        // A link whose hash fragment names a file with a path in it.
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(`<a href="x.whl#sha256=${'0'.repeat(64)}">../../etc/passwd.whl</a>`);
        return;
      case 'huge':
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!-- ' + 'x'.repeat(300_000) + ' -->');
        return;
      case 'redirect-away':
        res.writeHead(302, { location: 'http://localhost:1/elsewhere/' }).end();
        return;
      case 'normal':
        break;
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    void (async () => {
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
        const body = await readFile(file);
        const type = file.endsWith('.html') ? 'text/html' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
      } catch {
        res.writeHead(404).end('not found');
      }
    })();
  };
  const server = tls
    ? createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler)
    : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  index.server = server;
  index.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return index;
}

export interface StaticProjectOptions {
  /** List a hash that is not the file's. */
  wrongHash?: boolean;
  /** Bytes added to each wheel (large payloads arrive in many chunks). */
  payload?: Buffer;
  /** The versions listed, a wheel each (default 1.0); adding a project again rewrites its page. */
  versions?: string[];
}

/**
 * Writes a project into a static folder index as `python -m http.server` would serve it: its
 * page at simple/<name>/index.html, linking with relative URLs to ../../files/, with each
 * wheel's sha256, requires-python and core-metadata (the .metadata file beside the wheel).
 */
export async function addStaticProject(
  root: string,
  name: string,
  opts: StaticProjectOptions = {},
): Promise<{ filename: string; content: Buffer; metadata: string }[]> {
  mkdirSync(join(root, 'simple', name), { recursive: true });
  mkdirSync(join(root, 'files'), { recursive: true });
  const extra = opts.payload ? { 'payload.bin': opts.payload } : undefined;
  const wheels = [];
  let links = '';
  for (const version of opts.versions ?? ['1.0']) {
    const metadata = metadataText(name, version);
    const w = await makeWheel({ name, version, metadata, salt: `${name} ${version}`, extra });
    wheels.push({ ...w, metadata });
    writeFileSync(join(root, 'files', w.filename), w.content);
    writeFileSync(join(root, 'files', `${w.filename}.metadata`), metadata);
    const hash = opts.wrongHash ? sha256(Buffer.from('something else')) : sha256(w.content);
    links +=
      `<a href="../../files/${w.filename}#sha256=${hash}" data-requires-python="&gt;=3.8" ` +
      `data-core-metadata="sha256=${sha256(Buffer.from(metadata))}">${w.filename}</a><br/>\n`;
  }
  writeFileSync(
    join(root, 'simple', name, 'index.html'),
    `<!DOCTYPE html><html><body>\n${links}</body></html>\n`,
  );
  return wheels;
}
