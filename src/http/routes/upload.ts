// POST /legacy/ (and /legacy: twine and poetry refuse redirects, so both paths take the upload).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Multipart } from '@fastify/multipart';
import type { Services } from '../../services.js';
import { badRequest, forbidden, PierError } from '../../errors.js';
import { INVALID_AUTH } from '../../auth/service.js';
import type { UploadSession } from '../../registry/upload/pipeline.js';
import { formTooLarge, tooManyFields } from '../../registry/upload/form.js';
import { actorOf, principalOf } from '../principal.js';
import type { Metrics } from '../metrics.js';
import { withHelp } from '../../help.js';

/** Bytes of a refused request's body read and thrown away after the answer; then it is closed. */
const DISCARD_LIMIT = 64 * 1024 * 1024;
/** How long a refused request may go on sending its body after the answer. */
const DISCARD_TIME_MS = 30_000;

/**
 * What is left of a refused request's body is read and thrown away, never buffered, while the
 * answer goes out at once: a client that reads while it sends sees the reason early, and one that
 * sends its whole body first (twine, pip's requests) still reads the answer instead of a reset
 * connection. Past DISCARD_LIMIT bytes or DISCARD_TIME_MS the connection is closed.
 */
function discardRest(raw: IncomingMessage, res: ServerResponse): void {
  if (raw.readableEnded || raw.destroyed) return;
  let seen = 0;
  const finish = (close: boolean) => {
    clearTimeout(timer);
    raw.removeListener('data', onData);
    raw.removeListener('end', onEnd);
    if (!close) return;
    const destroy = () => raw.socket?.destroy();
    if (res.writableFinished) destroy();
    else res.once('finish', destroy);
  };
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) finish(true);
  };
  const onEnd = () => finish(false);
  const timer = setTimeout(() => finish(true), DISCARD_TIME_MS);
  timer.unref();
  raw.unpipe();
  raw.on('data', onData);
  raw.once('end', onEnd);
  raw.once('error', () => finish(true));
  raw.resume();
}

/** Errors that the multipart parser raised (its iterator, or a file part's stream). */
const parserErrors = new WeakSet<object>();

function fromParser(err: unknown): unknown {
  if (typeof err === 'object' && err !== null) parserErrors.add(err);
  return err;
}

/** The form's parts; whatever the parser fails with is marked as the parser's. */
async function* formParts(request: FastifyRequest): AsyncGenerator<Multipart> {
  const parts = request.parts()[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Multipart>;
    try {
      next = await parts.next();
    } catch (err) {
      throw fromParser(err);
    }
    if (next.done === true) return;
    const part = next.value;
    if (part.type === 'file') part.file.once('error', fromParser);
    yield part;
  }
}

export function registerUploadRoutes(app: FastifyInstance, s: Services, metrics: Metrics): void {
  async function upload(request: FastifyRequest, reply: FastifyReply) {
    let session: UploadSession | null = null;
    try {
      const principal = await principalOf(s.auth, request, 'upload');
      if (principal.kind === 'anonymous') throw withHelp(forbidden(INVALID_AUTH), 'invalid-auth');
      if (!request.isMultipart()) throw badRequest('Uploads must be sent as multipart/form-data.');
      const query = request.query as Record<string, string | undefined>;
      session = s.uploads.begin(actorOf(principal, request), query[':action']);
      for await (const part of formParts(request)) {
        if (part.type === 'file') {
          await session.receiveFile(part.fieldname, part.filename, part.mimetype, part.file);
        } else {
          if (part.valueTruncated) throw formTooLarge();
          session.addField(
            part.fieldname,
            typeof part.value === 'string' ? part.value : String(part.value),
          );
        }
      }
      const result = await session.finish();
      metrics.uploads.inc({ result: result.identical ? 'identical' : 'stored' });
      if (!result.identical) metrics.uploadBytes.inc(result.size);
      if (result.staged)
        return reply
          .type('text/plain; charset=utf-8')
          .send(
            `OK: ${result.filename} is staged in release ${result.version} of '${result.project}', awaiting approval by an owner or maintainer. Preview: ${result.staged.previewUrl}\n`,
          );
      return reply.type('text/plain; charset=utf-8').send('OK\n');
    } catch (err) {
      await session?.abort();
      metrics.uploads.inc({ result: 'refused' });
      discardRest(request.raw, reply.raw);
      throw translateMultipartError(err);
    }
  }

  app.post('/legacy/', upload);
  app.post('/legacy', upload);
}

/** Errors of the multipart parser, in words a client can act on; any other error is ours. */
function translateMultipartError(err: unknown): unknown {
  if (err instanceof PierError || typeof err !== 'object' || err === null) return err;
  if (!parserErrors.has(err)) return err;
  switch ((err as { code?: string }).code) {
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return tooManyFields();
    case 'FST_FILES_LIMIT':
      return badRequest('The upload form has too many file parts.');
    case 'FST_REQ_FILE_TOO_LARGE':
      return badRequest('File too large.');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return badRequest('Uploads must be sent as multipart/form-data.');
    case 'FST_PROTO_VIOLATION':
      return badRequest('Malformed multipart form.');
  }
  // A body cut short, a part without headers, a missing boundary: the form cannot be read.
  const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ').trim() : '';
  return badRequest(
    reason === '' ? 'Malformed multipart form.' : `Malformed multipart form: ${reason}.`,
  );
}
