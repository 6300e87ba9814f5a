// Characters a terminal acts on instead of showing: the C0 controls (newline, carriage return,
// escape, ...), DEL, the C1 controls (U+0080–U+009F, CSI among them) and the bidirectional
// controls that reorder what follows (Trojan Source). A name the user chooses holds none of them;
// free text that may hold them is escaped before it is printed (src/cli/terminal.ts).
/** DEL, the C1 controls and the bidirectional controls: the ones JSON.stringify leaves raw. */
export const NON_C0_CONTROL_CLASS =
  '[\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]';
const CONTROL_CHARACTER_CLASS = `(?:[\\x00-\\x1f]|${NON_C0_CONTROL_CLASS})`;
const CONTROL = new RegExp(CONTROL_CHARACTER_CLASS, 'u');
const CONTROLS = new RegExp(CONTROL.source, 'gu');

export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}

/** `text` with each control character written as `\xNN` or `\u{NNNN}`, and `\` as `\\`. */
export function escapeControlCharacters(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(CONTROLS, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u{${code.toString(16).padStart(4, '0')}}`;
  });
}
