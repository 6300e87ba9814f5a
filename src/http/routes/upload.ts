// POST /legacy/ (and /legacy: twine and poetry refuse redirects, so both paths take the upload).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Services } from '../../services.js';
import { badRequest, forbidden, PierError } from '../../errors.js';
import { INVALID_AUTH } from '../../auth/service.js';
import type { UploadSession } from '../../registry/upload/pipeline.js';
import { actorOf, principalOf } from '../principal.js';
import type { Metrics } from '../metrics.js';

/**
 * Reads and discards what is left of a refused request (up to `limit` bytes), so that a client
 * still sending its file reads our answer instead of a reset connection.
 */
function drain(raw: IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (raw.readableEnded || raw.destroyed) return resolve(true);
    let seen = 0;
    const done = (complete: boolean) => {
      clearTimeout(timer);
      raw.removeListener('data', onData);
      resolve(complete);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) done(false);
    };
    const timer = setTimeout(() => done(false), 30_000);
    raw.unpipe();
    raw.on('data', onData);
    raw.once('end', () => done(true));
    raw.once('error', () => done(false));
    raw.resume();
  });
}

export function registerUploadRoutes(app: FastifyInstance, s: Services, metrics: Metrics): void {
  async function upload(request: FastifyRequest, reply: FastifyReply) {
    let session: UploadSession | null = null;
    try {
      const principal = await principalOf(s.auth, request, 'upload');
      if (principal.kind === 'anonymous') throw forbidden(INVALID_AUTH);
      if (!request.isMultipart()) throw badRequest('Uploads must be sent as multipart/form-data.');
      const query = request.query as Record<string, string | undefined>;
      session = s.uploads.begin(actorOf(principal, request), query[':action']);
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          await session.receiveFile(part.fieldname, part.filename, part.mimetype, part.file);
        } else {
          if (part.valueTruncated) throw badRequest(`Form field '${part.fieldname}' is too large.`);
          session.addField(
            part.fieldname,
            typeof part.value === 'string' ? part.value : String(part.value),
          );
        }
      }
      const result = await session.finish();
      metrics.uploads.inc({ result: result.identical ? 'identical' : 'stored' });
      if (!result.identical) metrics.uploadBytes.inc(result.size);
      return reply.type('text/plain; charset=utf-8').send('OK\n');
    } catch (err) {
      await session?.abort();
      metrics.uploads.inc({ result: 'refused' });
      const complete = await drain(request.raw, 64 * 1024 * 1024);
      if (!complete) reply.header('connection', 'close');
      throw translateMultipartError(err);
    }
  }

  app.post('/legacy/', upload);
  app.post('/legacy', upload);
}

/** Errors of the multipart parser, in words a client can act on. */
function translateMultipartError(err: unknown): unknown {
  if (err instanceof PierError) return err;
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return badRequest('The upload form has too many fields.');
    case 'FST_REQ_FILE_TOO_LARGE':
      return badRequest('File too large.');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return badRequest('Uploads must be sent as multipart/form-data.');
    case 'FST_PROTO_VIOLATION':
      return badRequest('Malformed multipart form.');
  }
  if (
    err instanceof Error &&
    /Unexpected end of form|Malformed part header|boundary/i.test(err.message)
  )
    return badRequest(`Malformed multipart form: ${err.message}`);
  return err;
}
