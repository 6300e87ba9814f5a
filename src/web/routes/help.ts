// The help page (`/help/`) that error messages link to, one section per topic of src/help.ts,
// as PyPI's messages link to pypi.org/help/.
import type { FastifyInstance } from 'fastify';
import { HELP_TOPICS, type HelpTopic } from '../../help.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../render/layout.js';
import { sendPage, webContext } from '../context.js';

const SECTIONS: Record<HelpTopic, { title: string; body: SafeHtml }> = {
  'file-name-reuse': {
    title: 'Why can a file name not be used again?',
    body: html`<p>
        An index never serves two different files under one name: installers and caches identify a
        file by its name, and lock files pin its hashes. So a file name, once uploaded, stays taken,
        even after the file or its release is deleted; the same contents under another name are
        refused too.
      </p>
      <p>
        To publish a corrected build, release a new version (a post-release such as
        <code>1.0.post1</code> changes the names of every file). A file that is already on the index
        with the same contents is accepted again without change, so a retried upload succeeds (<code
          >pier publish --skip-existing</code
        >
        and <code>twine --skip-existing</code> skip it).
      </p>`,
  },
  'invalid-auth': {
    title:
      'Why was my upload or request refused with “Invalid or non-existent authentication information”?',
    body: html`<p>
      The credentials sent were missing, malformed, unknown, expired or revoked. Use an API token:
      user name <code>__token__</code>, the token (starting with <code>pypi-pier_</code>) as
      password. Create one under <a href="/account/tokens">API tokens</a>; tokens minted by trusted
      publishing last minutes and are for one job. A user with two-factor authentication cannot
      upload with a password.
    </p>`,
  },
  'project-name': {
    title: 'Which project names are allowed?',
    body: html`<p>
      A project name is ASCII letters, digits, <code>.</code>, <code>_</code> and <code>-</code>,
      starting and ending with a letter or digit (PEP 508). Names are compared after normalisation
      (PEP 503: case folded, runs of <code>.</code>, <code>_</code>, <code>-</code> as one
      <code>-</code>), so <code>My.Project</code> and <code>my-project</code> are one project; a
      name too similar to an existing project (differing only by such characters or by look-alikes
      such as <code>1</code>, <code>l</code> and <code>i</code>) is refused, and so is a name inside
      a namespace reserved for someone else. Choose another name, or ask the owners of the existing
      project to add you as a maintainer.
    </p>`,
  },
};

export function registerHelpRoutes(web: FastifyInstance): void {
  web.get('/help/', async (request, reply) => {
    const ctx = webContext(request);
    return sendPage(
      reply,
      layout(
        ctx,
        'Help',
        html`<h1>Help</h1>
          ${HELP_TOPICS.map(
            (topic) =>
              html`<section class="card" id="${topic}">
                <h2><a href="#${topic}">${SECTIONS[topic].title}</a></h2>
                ${SECTIONS[topic].body}
              </section>`,
          )}`,
      ),
    );
  });
  web.get('/help', async (_request, reply) => reply.redirect('/help/', 301));
}
