// PEP 740's Integrity API, as PyPI serves it: GET /integrity/<project>/<version>/<filename>/provenance
// answers the file's provenance document (its attestations grouped by publisher), 404 when it has
// none, 406 for an Accept it cannot meet. Readable by whoever may read the project.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { mayReadIndex } from '../../auth/permissions.js';
import { unauthorized } from '../../errors.js';
import { integrityMediaType } from '../../attestations/integrity.js';
import { CORS_HEADERS } from '../../simple/answer.js';
import { principalOf } from '../principal.js';

interface Params {
  project: string;
  version: string;
  filename: string;
}

export function registerIntegrityRoutes(app: FastifyInstance, s: Services): void {
  async function provenance(request: FastifyRequest, reply: FastifyReply) {
    const { project, version, filename } = request.params as Params;
    reply.header('vary', 'Accept');
    const type = integrityMediaType(request.headers.accept);
    if (type === null) return reply.code(406).send({ message: 'Request not acceptable' });
    const p = await principalOf(s.auth, request, 'read');
    if (!mayReadIndex(p, s.config.readAccess))
      throw unauthorized('Authentication required to read this index');
    const answer = await s.attestations.provenanceOf(p, project, version, filename);
    if (!answer.found)
      return reply.code(404).send({
        message:
          answer.reason === 'no-provenance'
            ? `No provenance available for ${filename}`
            : 'Not Found',
      });
    const shared = answer.shared && s.config.readAccess === 'public';
    return reply
      .headers(CORS_HEADERS)
      .header('cache-control', shared ? 'max-age=600, public' : 'max-age=600, private')
      .type(type)
      .send(JSON.stringify(answer.document));
  }

  app.get('/integrity/:project/:version/:filename/provenance', provenance);
}
