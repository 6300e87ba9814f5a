// HTML built by a tagged template that escapes every interpolation, unless it is already
// SafeHtml: markup written in this code, or sanitised by render/markdown.ts. A value of any
// other type can never reach the page unescaped.
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue =
  SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text made safe for element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** `html\`<p>${text}</p>\``: every `${…}` is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/**
 * Marks markup as safe. Only for output of the sanitiser and for constants of this code, never
 * for anything that came from a request or from the database.
 */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * A URL for an href or src attribute from data (metadata, claims): only absolute http(s) URLs;
 * anything else (javascript:, data:, relative tricks) gives null and is shown as text.
 */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (!/^https?:\/\//i.test(trimmed)) return null;
  try {
    const url = new URL(trimmed);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.href;
  } catch {
    return null;
  }
}

/** A link when the URL is http(s), else the text alone. */
export function linkOrText(url: unknown, text?: string): SafeHtml {
  const safe = safeHttpUrl(url);
  const label = text ?? (typeof url === 'string' ? url : '');
  return safe === null
    ? html`<span>${label}</span>`
    : html`<a href="${safe}" rel="nofollow noopener noreferrer">${label}</a>`;
}
