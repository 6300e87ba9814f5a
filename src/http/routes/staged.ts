// Staged releases over HTTP (src/registry/staged.ts): the REST API to list, approve and reject
// them, and each staged release's preview — a Simple index of its own (PEP 503/691) with its
// files, at /_/staged/<id>/simple/, for the project's owners and maintainers with credentials:
// `pip install --index-url https://USER:TOKEN@host/_/staged/<id>/simple/ pkg==X`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { badRequest, notFound, unauthorized } from '../../errors.js';
import { normalizeProjectName } from '../../packaging/names.js';
import { HTML, V1_HTML, V1_JSON, selectContentType } from '../../simple/negotiate.js';
import {
  renderIndexHtml,
  renderIndexJson,
  renderProjectHtml,
  renderProjectJson,
} from '../../simple/render.js';
import type { SimpleProjectPage } from '../../simple/model.js';
import type { Principal } from '../../auth/principal.js';
import { actorOf, principalOf, requirePrincipal } from '../principal.js';

const TOKEN_RE = /^[A-Za-z0-9_-]{16,64}$/;

function totpOf(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body))
    throw badRequest('The request body must be a JSON object');
  const totp = (body as Record<string, unknown>).totp;
  if (totp !== undefined && totp !== null && typeof totp !== 'string')
    throw badRequest("'totp' must be a string of digits");
  return totp;
}

export function registerStagedRoutes(app: FastifyInstance, s: Services): void {
  // ------------------------------------------------------------------ the REST API
  type Params = { Params: { name: string; version: string } };
  app.get<{ Params: { name: string }; Querystring: { state?: string } }>(
    '/api/projects/:name/staged',
    async (request) => {
      const p = await requirePrincipal(s.auth, request);
      return {
        staged: await s.staged.list(actorOf(p, request), request.params.name, request.query.state),
      };
    },
  );
  app.post<Params>('/api/projects/:name/staged/:version/approve', async (request) => {
    const p = await requirePrincipal(s.auth, request);
    const totp = totpOf(request.body);
    return s.staged.approve(actorOf(p, request), request.params.name, request.params.version, totp);
  });
  app.post<Params>('/api/projects/:name/staged/:version/reject', async (request) => {
    const p = await requirePrincipal(s.auth, request);
    const totp = totpOf(request.body);
    return s.staged.reject(actorOf(p, request), request.params.name, request.params.version, totp);
  });

  // ------------------------------------------------------------------ the preview
  async function previewOf(request: FastifyRequest, token: string) {
    if (!TOKEN_RE.test(token)) throw notFound();
    const p: Principal = await principalOf(s.auth, request, 'read');
    // Without credentials the answer asks for them (pip then uses the URL's or keyring's).
    if (p.kind === 'anonymous')
      throw unauthorized('Authentication required to preview a staged release');
    return s.staged.preview(p, token);
  }

  function base(token: string): string {
    return `${s.publicUrl()}/_/staged/${token}`;
  }

  function send(reply: FastifyReply, type: string, body: string) {
    return reply
      .header('cache-control', 'private, no-store')
      .header('vary', 'Accept, Authorization')
      .type(type === HTML ? 'text/html; charset=utf-8' : type)
      .send(body);
  }

  app.get<{ Params: { token: string } }>('/_/staged/:token/simple/', async (request, reply) => {
    const { project } = await previewOf(request, request.params.token);
    const type = selectContentType(request.headers.accept);
    const entry = { name: project.name, normalized: project.normalized_name, serial: 0 };
    if (type === V1_JSON) return send(reply, type, renderIndexJson([entry], 0));
    return send(reply, type, renderIndexHtml([entry], `${base(request.params.token)}`));
  });

  app.get<{ Params: { token: string; name: string } }>(
    '/_/staged/:token/simple/:name/',
    async (request, reply) => {
      const { session, project, files } = await previewOf(request, request.params.token);
      if (normalizeProjectName(request.params.name) !== project.normalized_name) throw notFound();
      const page: SimpleProjectPage = {
        name: project.normalized_name,
        status: project.status,
        serial: 0,
        versions: [session.version],
        files: files.map((f) => ({
          filename: f.filename,
          url: `${base(session.token)}/files/${encodeURIComponent(f.filename)}`,
          sha256: f.sha256,
          requiresPython: f.requires_python,
          metadataSha256: f.metadata_sha256,
          yanked: false,
          size: Number(f.size),
          uploadTime: new Date(Number(f.uploaded_at)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          version: session.version,
          provenance: null,
        })),
        namespaces: null,
      };
      const type = selectContentType(request.headers.accept);
      if (type === V1_JSON) return send(reply, type, renderProjectJson(page));
      return send(reply, type === V1_HTML ? V1_HTML : HTML, renderProjectHtml(page));
    },
  );

  app.get<{ Params: { token: string; filename: string } }>(
    '/_/staged/:token/files/:filename',
    async (request, reply) => {
      const { files } = await previewOf(request, request.params.token);
      const wanted = request.params.filename;
      const metadata = wanted.endsWith('.metadata');
      const name = metadata ? wanted.slice(0, -'.metadata'.length) : wanted;
      const file = files.find((f) => f.filename === name);
      if (!file) throw notFound();
      reply.header('cache-control', 'private, no-store');
      if (metadata) {
        if (!file.metadata_content) throw notFound();
        return reply.type('text/plain; charset=utf-8').send(Buffer.from(file.metadata_content));
      }
      return reply
        .type('application/octet-stream')
        .header('content-length', String(file.size))
        .header('etag', `"${file.sha256}"`)
        .header(
          'content-disposition',
          `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
        )
        .send(await s.blobs.read(file.blob_key));
    },
  );
}
