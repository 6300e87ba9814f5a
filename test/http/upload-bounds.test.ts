// @backends: runs on the embedded default and on PostgreSQL with S3.
// One upload request must not take the index down: the non-file part of the form is bounded as a
// whole, a request that can never be an upload is refused before its body is read (and answered
// while the client is still sending), and a body cut short is a 400, not a server error. Each
// test drives a real socket, streams its body, and proves the refusal stored nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OPERATOR, testConfig } from '../support/server.js';
import { multipart, uploadParts, type Part } from '../support/upload.js';
import { makeWheel } from '../support/dists.js';
import { openServices, type Services } from '../../src/services.js';
import { buildApp } from '../../src/http/app.js';
import { FORM_LIMITS } from '../../src/registry/upload/form.js';

const MiB = 1024 * 1024;

let services: Services;
let app: FastifyInstance;
let port: number;
let dataDir: string;
const logLines: { level: number; msg?: string }[] = [];
let uploader: string; // may create projects and owns pier-sample
let reader: string; // the same user's read-scoped token

before(async () => {
  const config = testConfig();
  dataDir = config.dataDir;
  services = await openServices(config);
  // The real logger configuration, writing into logLines: error-level lines are looked for.
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') logLines.push(JSON.parse(line) as { level: number });
      done();
    },
  });
  app = await buildApp(services, { logger: { level: 'info', stream } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  services.setListening({ host: '127.0.0.1', port });
  await services.auth.addUser(OPERATOR, {
    username: 'alice',
    password: 'alice-password',
    mayCreateProjects: true,
  });
  uploader = (await services.auth.createToken(OPERATOR, { username: 'alice', scope: 'upload' }))
    .token;
  reader = (await services.auth.createToken(OPERATOR, { username: 'alice', scope: 'read' })).token;
  await services.projects.create(OPERATOR, 'pier-sample', 'alice');
});

after(async () => {
  await app.close();
  await services.close();
});

function countFiles(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .length;
  } catch {
    return 0;
  }
}

/** What a refused upload must leave as it was. */
async function snapshot() {
  const db = services.db.kysely;
  const count = async (table: 'projects' | 'releases' | 'files' | 'filename_registry') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  let blobs = 0;
  for await (const _key of services.blobs.keys()) blobs++;
  return {
    projects: await count('projects'),
    releases: await count('releases'),
    files: await count('files'),
    registry: await count('filename_registry'),
    blobs: blobs + countFiles(join(dataDir, 'files', 'tmp')),
  };
}

const memory = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};

interface Streamed {
  status: number;
  statusText: string;
  body: string;
  /** Body bytes written when the answer's status line arrived. */
  sentAtAnswer: number;
  total: number;
  /** The largest growth of this process's memory (the server runs in it) while streaming. */
  peakGrowth: number;
}

/**
 * Streams a form of `leading` fields and then `count` fields named `description` of `size`
 * bytes each, with a Content-Length for the whole, writing as fast as the server reads and
 * stopping once the answer arrives (or after 30 s).
 */
async function streamForm(opts: {
  token: string | null;
  query?: string;
  leading: [string, string][];
  count: number;
  size: number;
}): Promise<Streamed> {
  const boundary = `----pier${randomBytes(8).toString('hex')}`;
  const head = (name: string) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`);
  const crlf = Buffer.from('\r\n');
  const leading = Buffer.concat(opts.leading.flatMap(([k, v]) => [head(k), Buffer.from(v), crlf]));
  const value = Buffer.alloc(opts.size, 'x');
  const fieldHead = head('description');
  const closing = Buffer.from(`--${boundary}--\r\n`);
  const total =
    leading.length + opts.count * (fieldHead.length + value.length + crlf.length) + closing.length;

  const baseline = memory();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, memory() - baseline)), 5);
  let sent = 0;
  let answered = false;
  try {
    return await new Promise<Streamed>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 30 s')), 30_000);
      const req = request({
        host: '127.0.0.1',
        port,
        path: `/legacy/${opts.query ?? ''}`,
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': total,
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      req.on('response', (res) => {
        answered = true;
        const sentAtAnswer = sent;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          clearTimeout(timer);
          req.destroy();
          resolve({
            status: res.statusCode!,
            statusText: res.statusMessage!,
            body,
            sentAtAnswer,
            total,
            peakGrowth: peak,
          });
        });
      });
      const write = (chunk: Buffer) =>
        new Promise<void>((ok) => {
          sent += chunk.length;
          if (req.write(chunk)) ok();
          else req.once('drain', ok);
        });
      void (async () => {
        await write(leading);
        for (let i = 0; i < opts.count && !answered && !req.destroyed; i++) {
          await write(fieldHead);
          await write(value);
          await write(crlf);
        }
        if (!answered && !req.destroyed) req.end(closing);
      })().catch(() => undefined);
    });
  } finally {
    clearInterval(sampler);
  }
}

const MANY = { count: 40, size: 4 * MiB }; // 160 MiB of fields, each one well under the bound

async function refusedEarly(
  opts: Parameters<typeof streamForm>[0],
  status: number,
  reason: string,
  { early = true } = {},
): Promise<void> {
  const before = await snapshot();
  const r = await streamForm(opts);
  assert.equal(r.status, status, `${r.status} ${r.statusText}: ${r.body}`);
  assert.equal(r.statusText, reason);
  assert.match(r.body, new RegExp(reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.ok(
    !early || r.sentAtAnswer < r.total / 4,
    `answered after ${r.sentAtAnswer} of ${r.total} bytes: the body was read to the end`,
  );
  assert.ok(r.peakGrowth < 64 * MiB, `memory grew by ${Math.round(r.peakGrowth / MiB)} MiB`);
  assert.deepEqual(await snapshot(), before, 'a refused upload must change nothing');
}

test('a read-scoped token streaming many large fields is refused before the form is read', () =>
  refusedEarly(
    { token: reader, leading: [], ...MANY },
    403,
    "The given token isn't allowed to upload: it has the read scope only.",
  ));

test('no credentials: refused while the body is still coming, nothing buffered', () =>
  refusedEarly(
    { token: null, leading: [], ...MANY },
    403,
    `Invalid or non-existent authentication information. See ${services.publicUrl()}/help/#invalid-auth for more information.`,
  ));

test('fields that are each small but together past the bound: 413 early, memory bounded', () =>
  refusedEarly(
    {
      token: uploader,
      leading: [
        [':action', 'file_upload'],
        ['protocol_version', '1'],
        ['name', 'pier-sample'],
      ],
      ...MANY,
    },
    413,
    `The upload form is too large: its fields other than the file may hold ${FORM_LIMITS.bytes / MiB} MiB in all.`,
  ));

test('an :action of the query string that is no upload is refused before the body is read', () =>
  refusedEarly(
    { token: uploader, query: '?:action=doc_upload', leading: [], ...MANY },
    410,
    'Uploading documentation is no longer supported, we recommend using https://readthedocs.org/.',
  ));

test('an :action field that is no upload is refused as it arrives', () =>
  refusedEarly(
    { token: uploader, leading: [[':action', 'submit']], ...MANY },
    410,
    'Project pre-registration is no longer required or supported, upload your files instead.',
  ));

test('a protocol_version other than 1 is refused as it arrives', () =>
  refusedEarly(
    { token: uploader, leading: [['protocol_version', '2']], ...MANY },
    400,
    'Unknown protocol version.',
  ));

test('more fields than the bound: 413', () =>
  refusedEarly(
    { token: uploader, leading: [], count: FORM_LIMITS.fields + 1, size: 10 },
    413,
    `The upload form has too many fields: at most ${FORM_LIMITS.fields} besides the file.`,
    { early: false },
  ));

test('a form at the bound is still taken', async () => {
  const w = await makeWheel({ version: '2.0.0' });
  const parts = await uploadParts({
    ...w,
    fields: { version: '2.0.0', description: 'd'.repeat(FORM_LIMITS.bytes - 64 * 1024) },
  });
  const { body, contentType } = multipart(parts);
  const res = await fetch(`http://127.0.0.1:${port}/legacy/`, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType, authorization: `Bearer ${uploader}` },
  });
  assert.equal(res.status, 200, await res.text());
});

// ------------------------------------------------------------------ a body cut short

/** Sends `body` whole over a raw socket, as a complete HTTP request, and reads the answer. */
function sendRaw(contentType: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(
      `POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
        `Content-Length: ${body.length}\r\nAuthorization: Bearer ${uploader}\r\n` +
        `Connection: close\r\n\r\n`,
    );
    socket.write(body);
  });
}

async function cutForm(where: 'in a field' | 'in the file'): Promise<void> {
  const w = await makeWheel({ version: '3.0.0', extra: { 'pad.bin': randomBytes(64 * 1024) } });
  const parts: Part[] = await uploadParts({ ...w, fields: { version: '3.0.0' } });
  const { body, contentType } = multipart(parts);
  const cut = where === 'in a field' ? 300 : body.length - 20_000;
  const errorsBefore = logLines.filter((l) => l.level >= 50).length;
  const before = await snapshot();
  const answer = await sendRaw(contentType, body.subarray(0, cut));
  const statusLine = answer.slice(0, answer.indexOf('\r\n'));
  assert.match(statusLine, /^HTTP\/1\.1 400 Malformed multipart form: [^\r\n]+$/);
  assert.match(answer, /unexpected end of multipart data/i);
  assert.deepEqual(await snapshot(), before, 'a refused upload must change nothing');
  assert.equal(
    logLines.filter((l) => l.level >= 50).length,
    errorsBefore,
    'a client error is not logged as a server error',
  );
}

test('a multipart body cut short in a field: 400 malformed, no error logged', () =>
  cutForm('in a field'));

test('a multipart body cut short in the file: 400 malformed, no error logged', () =>
  cutForm('in the file'));
