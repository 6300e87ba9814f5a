// reStructuredText descriptions (Description-Content-Type text/x-rst, and PyPI's default when
// none is given), rendered by rst-compiler and then through the same sanitizer as Markdown
// (markdown.ts): whatever the renderer writes, only the allowlist reaches a page.
//
// As PyPI's readme_renderer runs docutils, the directives that reach outside the text are
// refused: `raw` (markup passed through) and `include` (a file of the server). A refused
// directive, like any directive, role or construct the renderer does not know, fails the whole
// render, and the description is shown as plain text, as PyPI shows a description docutils
// refuses. Unbounded: pages go through descriptions.ts, which renders in a worker thread with
// a bound on size and on time.
import {
  RstGeneratorError,
  RstToHtmlCompiler,
  type RstDirectiveGenerator,
  type RstInterpretedTextGenerator,
  type RstNodeGenerator,
} from 'rst-compiler';
import { html, type SafeHtml } from '../html.js';
import { sanitize } from './markdown.js';

/** Directives and roles that would pass markup through or read a file: never rendered. */
export const REFUSED_DIRECTIVES = ['raw', 'include'] as const;
export const REFUSED_ROLES = ['raw'] as const;

/** Why a reStructuredText description was not rendered. */
export class RstRenderError extends Error {
  override readonly name = 'RstRenderError';
}

const refusedDirective: RstDirectiveGenerator = {
  directives: REFUSED_DIRECTIVES,
  generate: (state, node) => {
    throw new RstGeneratorError(state, node, `the ${node.directive} directive is not allowed`);
  },
};

const refusedRole: RstInterpretedTextGenerator = {
  roles: REFUSED_ROLES,
  generate: (state, node) => {
    throw new RstGeneratorError(state, node, `the ${node.role} role is not allowed`);
  },
};

// ``literal`` as <code>, the element the sanitizer keeps (it drops the renderer's span class).
const inlineLiteral: RstNodeGenerator<'InlineLiteral'> = {
  nodeType: 'InlineLiteral',
  generate: (state, node) => state.writeText(html`<code>${node.textContent}</code>`.value),
};

// rst-compiler refuses any text holding `&amp;`, `&lt;`, `&gt;`, `&quot;` or `&apos;` (it takes
// them for its own escaping done twice). Their `&` goes in as a private-use character, which
// no markup rule reads and the renderer writes back as it is, and comes out as `&amp;`.
const AMPERSAND_OF_ENTITY = /&(?=(?:amp|lt|gt|quot|apos);)/g;
const STAND_IN = '\uE000';

function compiler(): RstToHtmlCompiler {
  const c = new RstToHtmlCompiler();
  c.useDirectiveGenerator(refusedDirective);
  c.useInterpretedTextGenerator(refusedRole);
  c.useNodeGenerator(inlineLiteral);
  return c;
}

/** The renderer's HTML for a text, unsanitized; throws RstRenderError when it cannot render. */
export function rstToHtml(text: string): string {
  const source = text.replaceAll(STAND_IN, '\uFFFD').replace(AMPERSAND_OF_ENTITY, STAND_IN);
  const c = compiler();
  let body: string;
  try {
    body = c.compile(source).body;
  } catch (err) {
    // The renderer's messages hold a dump of its tree: the first line says what went wrong.
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    throw new RstRenderError(first || 'not valid reStructuredText', { cause: err });
  }
  if (c.outputErrors.length > 0) throw new RstRenderError(c.outputErrors[0]!.split('\n')[0]!);
  return body.replaceAll(STAND_IN, '&amp;');
}

/** reStructuredText, rendered and sanitized; throws RstRenderError when it cannot render. */
export function renderRst(text: string): SafeHtml {
  return html`<div class="description rst">${sanitize(rstToHtml(text))}</div>`;
}
