// A table of rows under a header row, as the list pages (admin, manage, organisations) show them.
import { html, type HtmlValue, type SafeHtml } from '../html.js';

/** A table with a header row (an empty label for a column of buttons) and the rows given. */
export function dataTable(
  className: string | null,
  headers: readonly string[],
  rows: HtmlValue,
): SafeHtml {
  return html`<table${className === null ? '' : html` class="${className}"`}>
    <thead>
      <tr>
        ${headers.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}
