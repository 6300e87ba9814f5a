// A release's long description, rendered safely. Markdown (Description-Content-Type
// text/markdown) goes through markdown-it, raw HTML included, and then everything through
// sanitize-html with an allowlist: no script, style, iframe, form or event-handler attribute
// survives, links and images keep http(s) (and links mailto) URLs only, every link gets
// rel="nofollow ugc noopener noreferrer". reStructuredText (text/x-rst, also PyPI's default
// when no content type is given) is rendered by rst.ts through the same sanitizer; text/plain
// is shown as preformatted text (markup.ts chooses).
//
// These are the rules, unbounded; pages go through descriptions.ts, which renders Markdown once
// per description in a worker thread, with a bound on size and on time.
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { html, trusted, type SafeHtml } from '../html.js';

const markdown = new MarkdownIt({ html: true, linkify: true, typographer: false });

export const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'a',
    'abbr',
    'acronym',
    'b',
    'blockquote',
    'br',
    'caption',
    'code',
    'col',
    'colgroup',
    'dd',
    'del',
    'details',
    'div',
    'dl',
    'dt',
    'em',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'i',
    'img',
    'ins',
    'kbd',
    'li',
    'ol',
    'p',
    'pre',
    'q',
    's',
    'samp',
    'small',
    'span',
    'strike',
    'strong',
    'sub',
    'summary',
    'sup',
    'table',
    'tbody',
    'td',
    'tfoot',
    'th',
    'thead',
    'tr',
    'tt',
    'u',
    'ul',
    'var',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height', 'align', 'referrerpolicy', 'loading'],
    th: ['align', 'colspan', 'rowspan'],
    td: ['align', 'colspan', 'rowspan'],
    p: ['align'],
    div: ['align'],
    h1: ['align'],
    code: ['class'],
    ol: ['start'],
  },
  allowedClasses: { code: ['language-*'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: 'nofollow ugc noopener noreferrer' },
    }),
    img: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, referrerpolicy: 'no-referrer', loading: 'lazy' },
    }),
  },
};

/** Any HTML made safe to include in a page. */
export function sanitize(markup: string): SafeHtml {
  return sanitizerOutput(sanitizeHtml(markup, SANITIZE_OPTIONS));
}

/**
 * The sanitizer's output, as SafeHtml: here, and from the render worker (descriptions.ts), which
 * runs renderMarkdown and can send back only a string. Nothing else may come through.
 */
export function sanitizerOutput(markup: string): SafeHtml {
  return trusted(markup);
}

export type DescriptionFormat = 'markdown' | 'rst' | 'plain';

/** The format of a Description-Content-Type (`text/markdown; charset=UTF-8; variant=GFM`). */
export function descriptionFormat(contentType: string | null | undefined): DescriptionFormat {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/markdown') return 'markdown';
  if (type === 'text/plain') return 'plain';
  return 'rst';
}

/** Whether a description says nothing (absent, blank, or setuptools' "UNKNOWN"). */
export function isEmptyDescription(text: string | null | undefined): text is null | undefined {
  return !text || text.trim() === '' || text.trim() === 'UNKNOWN';
}

export const NO_DESCRIPTION = html`<p class="muted">No description was given.</p>`;

/** Markdown, rendered and sanitized: the costly part (descriptions.ts runs it in a worker). */
export function renderMarkdown(text: string): SafeHtml {
  return html`<div class="description markdown">${sanitize(markdown.render(text))}</div>`;
}

/** A description shown as preformatted text, escaped. */
export function preformatted(text: string, format: DescriptionFormat): SafeHtml {
  return html`<pre class="description ${format}">${text}</pre>`;
}
