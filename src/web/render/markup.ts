// A description in its format, rendered: Markdown (markdown.ts), reStructuredText (rst.ts), or
// plain text shown as it is. Unbounded, so the costly formats run in the render worker
// (description-worker.ts) under descriptions.ts' bounds; renderDescription is the same rules
// in one call, for a caller that bounds them itself.
import { html, type SafeHtml } from '../html.js';
import {
  NO_DESCRIPTION,
  descriptionFormat,
  isEmptyDescription,
  preformatted,
  renderMarkdown,
  type DescriptionFormat,
} from './markdown.js';
import { RstRenderError, renderRst } from './rst.js';

/** The formats that are rendered (and cost enough to run in the worker). */
export type RenderedFormat = Exclude<DescriptionFormat, 'plain'>;

export function isRenderedFormat(format: DescriptionFormat): format is RenderedFormat {
  return format !== 'plain';
}

/** What rendering a description gave: its markup, or why it could not be rendered. */
export type MarkupResult = { html: SafeHtml } | { refused: string };

export function renderMarkup(format: RenderedFormat, text: string): MarkupResult {
  if (format === 'markdown') return { html: renderMarkdown(text) };
  try {
    return { html: renderRst(text) };
  } catch (err) {
    if (err instanceof RstRenderError) return { refused: err.message };
    throw err;
  }
}

const MAX_REASON = 200;

/**
 * reStructuredText that could not be rendered: shown as plain text, as PyPI shows it, with the
 * reason, so that its author can see what to change.
 */
export function unrenderableRst(text: string, reason: string): SafeHtml {
  const cut = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
  return html`<p class="muted description-note">
      This reStructuredText could not be rendered (${cut}): it is shown as plain text.
    </p>
    ${preformatted(text, 'rst')}`;
}

export function renderDescription(
  text: string | null | undefined,
  contentType: string | null | undefined,
): SafeHtml {
  if (isEmptyDescription(text)) return NO_DESCRIPTION;
  const format = descriptionFormat(contentType);
  if (!isRenderedFormat(format)) return preformatted(text, format);
  const result = renderMarkup(format, text);
  return 'html' in result ? result.html : unrenderableRst(text, result.refused);
}
