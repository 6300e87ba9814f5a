// The one way out to a terminal for text that others chose (token names, audit details, user and
// publisher fields): control characters are escaped, so that nothing printed can move the cursor,
// rewrite a line, change colours or reorder the text around it.
import { escapeControlCharacters, NON_C0_CONTROL_CLASS } from '../text.js';

// JSON.stringify writes C0 controls inside strings as escapes; the only raw ones left are the
// newlines of indentation.
const LEFT_BY_JSON = new RegExp(NON_C0_CONTROL_CLASS, 'gu');

/** A line (or a tab-separated row) of text for a terminal; every field is escaped. */
export function forTerminal(text: string): string {
  return escapeControlCharacters(text);
}

/** A row of tab-separated fields, each escaped (a tab inside a field shows as \x09). */
export function terminalRow(fields: readonly (string | number | null | undefined)[]): string {
  return fields.map((f) => forTerminal(f === null || f === undefined ? '' : String(f))).join('\t');
}

/**
 * JSON for a terminal: JSON.stringify escapes the C0 controls already; DEL, C1 and the
 * bidirectional controls are written as \u escapes too, which leaves the same JSON value.
 */
export function jsonForTerminal(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    LEFT_BY_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
