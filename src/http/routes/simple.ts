// The install side: /simple/ (PEP 503/691) and the JSON API (/pypi/<name>/json).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { mayReadIndex, mayReadProject } from '../../auth/permissions.js';
import { principalUser, type Principal } from '../../auth/principal.js';
import { notAcceptable, notFound, unauthorized } from '../../errors.js';
import { V1_HTML, V1_JSON, type SimpleMediaType } from '../../simple/negotiate.js';
import {
  CORS_HEADERS,
  etagMatches,
  simpleAnswer,
  simpleCacheControl,
  type PageBodies,
} from '../../simple/answer.js';
import { etagOf, type ProjectHead } from '../../simple/service.js';
import { NO_ACCEPTABLE_CODING, codedAnswer } from '../encoding.js';
import { principalOf } from '../principal.js';
import { normalizeProjectName } from '../../packaging/names.js';
import { proxiedPage, proxiedPages, UPSTREAM_HEADER } from './proxy.js';
import { proxiedJsonDocument } from '../../proxy/json-api.js';

const CORS = CORS_HEADERS;

export function registerSimpleRoutes(app: FastifyInstance, s: Services): void {
  const readAccess = s.config.readAccess;

  async function readerOf(request: FastifyRequest): Promise<Principal> {
    const p = await principalOf(s.auth, request, 'read');
    if (!mayReadIndex(p, readAccess))
      throw unauthorized('Authentication required to read this index');
    return p;
  }

  /**
   * The hosted project if the reader may see it; a hidden one is 404, exactly as a name that is
   * nowhere; undefined when pier hosts no such project (the upstream's turn, if there is one).
   */
  async function hostedProject(
    request: FastifyRequest,
    name: string,
  ): Promise<ProjectHead | undefined> {
    const p = await readerOf(request);
    const head = await s.simple.head(name);
    if (!head) return undefined;
    if (head.private === 1) {
      const role = await s.projects.roleOf(principalUser(p)?.id, head.id);
      // The guard: a private project never falls through to the upstream for those who may not
      // see it; they get the answer for a name that exists nowhere.
      if (!mayReadProject(p, { project: head, role }, readAccess)) throw notFound();
    }
    return head;
  }

  const proxied = proxiedPages(s);

  function cacheControl(head: { private: number } | null): string {
    return simpleCacheControl(readAccess === 'public' && head?.private !== 1);
  }

  async function sendNegotiated(
    request: FastifyRequest,
    reply: FastifyReply,
    bodies: PageBodies,
    head: ProjectHead | null,
    pinned: SimpleMediaType | null,
  ) {
    const answer = await simpleAnswer(
      bodies,
      {
        accept: request.headers.accept,
        format: (request.query as { format?: string }).format,
        ifNoneMatch: request.headers['if-none-match'],
        acceptEncoding: request.headers['accept-encoding'],
      },
      pinned,
      readAccess === 'public' && head?.private !== 1,
    );
    reply.code(answer.status).headers(answer.headers);
    if (answer.reason) reply.raw.statusMessage = answer.reason;
    return answer.body === null ? reply.send() : reply.send(answer.body);
  }

  app.get('/simple', (_req, reply) => reply.redirect('/simple/', 301));

  // The negotiated root, and PEP 691's alternative of one root per format: older clients that
  // prefer JSON but cannot read its metadata field (pip 22.3 to 23.0) use /simple/v1+html/.
  const roots: [string, SimpleMediaType | null][] = [
    ['/simple/', null],
    ['/simple/v1+html/', V1_HTML],
    ['/simple/v1+json/', V1_JSON],
  ];
  for (const [root, pinned] of roots) {
    app.get(root, async (request, reply) => {
      const p = await readerOf(request);
      const index = await s.simple.index(p, readAccess);
      return sendNegotiated(request, reply, index, null, pinned);
    });

    app.get<{ Params: { name: string } }>(`${root}:name`, (request, reply) =>
      reply.redirect(`${root}${encodeURIComponent(request.params.name)}/`, 301),
    );

    app.get<{ Params: { name: string } }>(`${root}:name/`, async (request, reply) => {
      const { name } = request.params;
      const head = await hostedProject(request, name);
      if (!head) {
        const normalized = normalizeProjectName(name);
        if (normalized !== name) return reply.headers(CORS).redirect(`${root}${normalized}/`, 301);
        const answer = await proxied(normalized);
        if (!answer) throw notFound();
        reply.header(UPSTREAM_HEADER, answer.state);
        return sendNegotiated(request, reply, answer.bodies, null, pinned);
      }
      if (head.normalized_name !== name)
        return reply.headers(CORS).redirect(`${root}${head.normalized_name}/`, 301);
      return sendNegotiated(request, reply, await s.simple.page(head), head, pinned);
    });
  }

  async function jsonDocument(
    request: FastifyRequest,
    reply: FastifyReply,
    name: string,
    version?: string,
  ) {
    const head = await hostedProject(request, name);
    const normalized = head?.normalized_name ?? normalizeProjectName(name);
    if (normalized !== name) {
      const rest = version === undefined ? 'json' : `${encodeURIComponent(version)}/json`;
      return reply.redirect(`/pypi/${normalized}/${rest}`, 301);
    }
    if (!head) {
      const page = s.proxy.enabled ? await proxiedPage(s, normalized) : null;
      const doc = page && proxiedJsonDocument(page, s.publicUrl(), version);
      if (!doc) throw notFound();
      return reply
        .headers(CORS)
        .header(UPSTREAM_HEADER, page.state)
        .header('cache-control', cacheControl(null).replace('600', '900'))
        .type('application/json')
        .send(doc);
    }
    const project = await s.projects.find(name);
    if (!project) throw notFound();
    const doc = await s.jsonApi.document(project, version);
    if (!doc) throw notFound();
    const body = Buffer.from(JSON.stringify(doc));
    const answer = await codedAnswer(
      body,
      etagOf(body),
      {
        acceptEncoding: request.headers['accept-encoding'],
        ifNoneMatch: request.headers['if-none-match'],
      },
      'Accept-Encoding, Authorization',
      etagMatches,
    );
    if (answer.status === 406) throw notAcceptable(NO_ACCEPTABLE_CODING);
    reply
      .code(answer.status)
      .headers(CORS)
      .header('cache-control', cacheControl(head).replace('600', '900'))
      .header('x-pypi-last-serial', String(project.last_serial))
      .type('application/json')
      .headers(answer.headers);
    return answer.body === null ? reply.send() : reply.send(answer.body);
  }

  for (const suffix of ['json', 'json/']) {
    app.get<{ Params: { name: string } }>(`/pypi/:name/${suffix}`, (request, reply) =>
      jsonDocument(request, reply, request.params.name),
    );
    app.get<{ Params: { name: string; version: string } }>(
      `/pypi/:name/:version/${suffix}`,
      (request, reply) => jsonDocument(request, reply, request.params.name, request.params.version),
    );
  }
}
