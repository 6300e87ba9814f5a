// File downloads: /packages/<b2[0:2]>/<b2[2:4]>/<b2[4:]>/<filename>, and <filename>.metadata for
// wheels (PEP 658/714). Immutable once uploaded, so cached for a year; HEAD, Range and ETag
// work as installers that read a wheel's central directory over HTTP expect.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { mayReadIndex, mayReadProject, projectOffersFiles } from '../../auth/permissions.js';
import { principalUser } from '../../auth/principal.js';
import { notAcceptable, notFound, unauthorized } from '../../errors.js';
import { NO_ACCEPTABLE_CODING, VARY_ENCODING, codedAnswer } from '../encoding.js';
import { principalOf } from '../principal.js';

interface Range {
  start: number;
  end: number;
}

/** One byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n`; null for none or several; 'invalid' if unsatisfiable. */
export function parseRange(header: string | undefined, size: number): Range | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // several ranges or another unit: the whole file is a valid answer
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  return !!header && header.split(',').some((t) => ['*', etag, `W/${etag}`].includes(t.trim()));
}

export function registerFileRoutes(app: FastifyInstance, s: Services): void {
  const readAccess = s.config.readAccess;

  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const params = request.params as { a: string; b: string; rest: string; filename: string };
    const p = await principalOf(s.auth, request, 'read');
    if (!mayReadIndex(p, readAccess))
      throw unauthorized('Authentication required to read this index');
    const wantsMetadata = params.filename.endsWith('.metadata');
    const filename = wantsMetadata
      ? params.filename.slice(0, -'.metadata'.length)
      : params.filename;
    const file = await s.db.kysely
      .selectFrom('files')
      .innerJoin('projects', 'projects.id', 'files.project_id')
      .select([
        'files.id',
        'files.filename',
        'files.size',
        'files.sha256',
        'files.blake2_256',
        'files.blob_key',
        'files.metadata_sha256',
        'projects.id as project_id',
        'projects.private',
        'projects.status',
      ])
      .where('files.filename', '=', filename)
      .executeTakeFirst();
    if (!file || `${params.a}${params.b}${params.rest}` !== file.blake2_256) throw notFound();
    if (!projectOffersFiles(file)) throw notFound();
    if (file.private === 1) {
      const role = await s.projects.roleOf(principalUser(p)?.id, file.project_id);
      const project = { id: file.project_id, private: file.private, status: file.status };
      if (!mayReadProject(p, { project, role }, readAccess)) throw notFound();
    }
    const shared = readAccess === 'public' && file.private !== 1;
    reply.header(
      'cache-control',
      shared ? 'public, max-age=31536000, immutable' : 'private, max-age=31536000, immutable',
    );
    reply.header('access-control-allow-origin', '*');
    reply.header('accept-ranges', 'bytes');

    if (wantsMetadata) {
      if (!file.metadata_sha256) throw notFound();
      const row = await s.db.kysely
        .selectFrom('file_metadata')
        .select('content')
        .where('file_id', '=', file.id)
        .executeTakeFirst();
      if (!row) throw notFound();
      const etag = `"${file.metadata_sha256}"`;
      const body = Buffer.from(row.content);
      reply.type('text/plain; charset=utf-8');
      // A byte range is of the file as it is: with Range, the identity representation.
      const acceptEncoding =
        request.headers.range === undefined ? request.headers['accept-encoding'] : undefined;
      const answer = await codedAnswer(
        body,
        etag,
        { acceptEncoding, ifNoneMatch: request.headers['if-none-match'] },
        VARY_ENCODING,
        etagMatches,
      );
      if (answer.status === 406) throw notAcceptable(NO_ACCEPTABLE_CODING);
      reply.headers(answer.headers);
      if (answer.status === 304) return reply.code(304).send();
      const coded = answer.body!;
      return sendBytes(request, reply, coded.length, answer.headers.etag!, (range) =>
        Promise.resolve(range ? coded.subarray(range.start, range.end + 1) : coded),
      );
    }

    const etag = `"${file.sha256}"`;
    reply.header('etag', etag).type('application/octet-stream');
    reply.header(
      'content-disposition',
      `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    );
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
    const direct =
      request.method === 'GET' ? await s.blobs.directUrl(file.blob_key, file.filename) : null;
    if (direct) return reply.redirect(direct, 302);
    return sendBytes(request, reply, file.size, etag, (range) =>
      s.blobs.read(file.blob_key, range ?? undefined),
    );
  }

  async function sendBytes(
    request: FastifyRequest,
    reply: FastifyReply,
    size: number,
    etag: string,
    body: (range: Range | null) => Promise<Buffer | NodeJS.ReadableStream>,
  ) {
    const ifRange = request.headers['if-range'];
    const rangeHeader =
      ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
    const range = parseRange(rangeHeader, size);
    if (range === 'invalid') {
      return reply.code(416).header('content-range', `bytes */${size}`).send();
    }
    if (range) {
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', String(range.end - range.start + 1));
    } else reply.header('content-length', String(size));
    if (request.method === 'HEAD') return reply.send();
    return reply.send(await body(range));
  }

  // HEAD is handled here (not by Fastify's automatic HEAD route), so that it answers with the
  // file's length without opening the blob.
  app.route({ method: ['GET', 'HEAD'], url: '/packages/:a/:b/:rest/:filename', handler: serve });
}
