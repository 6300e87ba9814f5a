/**
 * PEP 508 dependency specifiers (packaging.python.org `dependency-specifiers.rst`), as used by
 * Requires-Dist, Provides-Dist and Obsoletes-Dist.
 *
 * No maintained JavaScript library parses PEP 508, so this is a port of pypa/packaging's
 * context-sensitive tokenizer and recursive-descent parser (`_tokenizer.py`, `_parser.py`),
 * keeping its grammar, its error messages and its string form (`str(Requirement)`):
 *
 *   requirement         = WS? IDENTIFIER WS? extras WS? requirement_details END
 *   requirement_details = AT URL (WS requirement_marker?)?
 *                       | specifier WS? requirement_marker?
 *   requirement_marker  = SEMICOLON marker WS?
 *   extras              = (LEFT_BRACKET WS? extras_list? WS? RIGHT_BRACKET)?
 *   extras_list         = IDENTIFIER (WS? COMMA WS? IDENTIFIER)*
 *   specifier           = LEFT_PARENTHESIS WS? version_many WS? RIGHT_PARENTHESIS
 *                       | WS? version_many WS?
 *   version_many        = (SPECIFIER (WS? COMMA WS? SPECIFIER)*)?
 *   marker              = marker_atom (BOOLOP marker_atom)*
 *   marker_atom         = WS? LEFT_PARENTHESIS WS? marker WS? RIGHT_PARENTHESIS WS?
 *                       | WS? marker_item WS?
 *   marker_item         = WS? marker_var WS? marker_op WS? marker_var WS?
 *   marker_var          = VARIABLE | QUOTED_STRING
 *   marker_op           = IN | NOT WS IN | OP
 */
import { PackagingError } from './errors.js';
import { normalizeProjectName } from './names.js';
import { normalizeSpecifierSet, SPECIFIER_PATTERN } from './versions.js';

export interface Requirement {
  /** The distribution name as written. */
  name: string;
  /** The extras, unique and sorted (as `str(Requirement)` writes them). */
  extras: string[];
  /** `str(SpecifierSet)`: sorted, comma-joined (`<2,>=1.0`); '' when there is none. */
  specifier: string;
  /** The direct reference after `@`, or null. */
  url: string | null;
  /** `str(Marker)`: the normalized environment marker, or null. */
  marker: string | null;
}

/** Python's `\b`: a boundary between a Unicode word character and anything else. */
const W = String.raw`[\p{L}\p{N}_]`;
const B = String.raw`(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
/**
 * `\b` before a token that starts with a word character is "no word character before", and
 * after one that ends with a word character "no word character after": the same matches with a
 * quarter of the Unicode classes to build (each `\p{L}` costs V8 time when the pattern is
 * compiled, paid by every process that loads this module).
 */
const B_BEFORE_WORD = String.raw`(?<!${W})`;
const B_AFTER_WORD = String.raw`(?!${W})`;

/** packaging's `DEFAULT_RULES`, compiled sticky so that each one matches at the position. */
const RULES = {
  LEFT_PARENTHESIS: /\(/y,
  RIGHT_PARENTHESIS: /\)/y,
  LEFT_BRACKET: /\[/y,
  RIGHT_BRACKET: /\]/y,
  SEMICOLON: /;/y,
  COMMA: /,/y,
  QUOTED_STRING: /(?:'[^']*')|(?:"[^"]*")/y,
  OP: /(?:===|==|~=|!=|<=|>=|<|>)/y,
  BOOLOP: new RegExp(`${B_BEFORE_WORD}(?:or|and)${B_AFTER_WORD}`, 'uy'),
  IN: new RegExp(`${B_BEFORE_WORD}in${B_AFTER_WORD}`, 'uy'),
  NOT: new RegExp(`${B_BEFORE_WORD}not${B_AFTER_WORD}`, 'uy'),
  VARIABLE: new RegExp(
    `${B_BEFORE_WORD}(?:python_version|python_full_version|os[._]name|sys[._]platform|platform_(?:release|system)` +
      `|platform[._](?:version|machine|python_implementation)|python_implementation` +
      `|implementation_(?:name|version)|extras?|dependency_groups)${B_AFTER_WORD}`,
    'uy',
  ),
  SPECIFIER: new RegExp(SPECIFIER_PATTERN, 'iy'),
  AT: /@/y,
  URL: /[^ \t]+/y,
  // It may end with `.` or `-`, which are not word characters: the full `\b` after it.
  IDENTIFIER: new RegExp(`${B_BEFORE_WORD}[a-zA-Z0-9][a-zA-Z0-9._-]*${B}`, 'uy'),
  VERSION_PREFIX_TRAIL: /\.\*/y,
  VERSION_LOCAL_LABEL_TRAIL: /\+[a-z0-9]+(?:[-_.][a-z0-9]+)*/y,
  WS: /[ \t]+/y,
  // Python's `$` also matches before a final newline.
  END: /$|(?=\n$)/y,
} as const;

type TokenName = keyof typeof RULES;

/** A marker expression: items and nested groups joined by `and`/`or`. */
type MarkerNode = MarkerItem | MarkerList;
type MarkerList = (MarkerNode | 'and' | 'or')[];
interface MarkerItem {
  left: MarkerVar;
  op: string;
  right: MarkerVar;
}
interface MarkerVar {
  kind: 'variable' | 'value';
  value: string;
}

class Tokenizer {
  position = 0;
  private next: { name: TokenName; text: string } | null = null;

  constructor(readonly source: string) {}

  /** Whether the next token is `name`; unless `peek`, it is then loaded for `read()`. */
  check(name: TokenName, peek = false): boolean {
    const rule = RULES[name];
    rule.lastIndex = this.position;
    const match = rule.exec(this.source);
    if (!match) return false;
    if (!peek) this.next = { name, text: match[0] };
    return true;
  }

  consume(name: TokenName): void {
    if (this.check(name)) this.read();
  }

  expect(name: TokenName, expected: string): string {
    if (!this.check(name)) this.fail(`Expected ${expected}`);
    return this.read();
  }

  read(): string {
    const token = this.next;
    if (!token) throw new Error('read() without a checked token');
    this.position += token.text.length;
    this.next = null;
    return token.text;
  }

  fail(message: string): never {
    throw new PackagingError(message);
  }

  /** Parses `body` inside an optional pair of `open`/`close` tokens. */
  enclosed<T>(open: TokenName, close: TokenName, around: string, body: () => T): T {
    const opened = this.check(open);
    if (opened) this.read();
    const result = body();
    if (opened) {
      if (!this.check(close)) this.fail(`Expected matching ${close} for ${open}, after ${around}`);
      this.read();
    }
    return result;
  }
}

function parseExtras(t: Tokenizer): string[] {
  if (!t.check('LEFT_BRACKET', true)) return [];
  return t.enclosed('LEFT_BRACKET', 'RIGHT_BRACKET', 'extras', () => {
    t.consume('WS');
    const extras: string[] = [];
    if (t.check('IDENTIFIER')) {
      extras.push(t.read());
      while (true) {
        t.consume('WS');
        if (t.check('IDENTIFIER', true)) t.fail('Expected comma between extra names');
        if (!t.check('COMMA')) break;
        t.read();
        t.consume('WS');
        extras.push(t.expect('IDENTIFIER', 'extra name after comma'));
      }
    }
    t.consume('WS');
    return extras;
  });
}

function parseSpecifier(t: Tokenizer): string {
  return t.enclosed('LEFT_PARENTHESIS', 'RIGHT_PARENTHESIS', 'version specifier', () => {
    t.consume('WS');
    let specifiers = '';
    while (t.check('SPECIFIER')) {
      specifiers += t.read();
      if (t.check('VERSION_PREFIX_TRAIL', true)) {
        t.fail('.* suffix can only be used with `==` or `!=` operators');
      }
      if (t.check('VERSION_LOCAL_LABEL_TRAIL', true)) {
        t.fail('Local version label can only be used with `==` or `!=` operators');
      }
      t.consume('WS');
      if (!t.check('COMMA')) break;
      specifiers += t.read();
      t.consume('WS');
    }
    t.consume('WS');
    return specifiers;
  });
}

function parseRequirementMarker(t: Tokenizer, expected: string): MarkerList {
  if (!t.check('SEMICOLON')) t.fail(`Expected ${expected} or end`);
  t.read();
  const marker = parseMarker(t);
  t.consume('WS');
  return marker;
}

function parseMarker(t: Tokenizer): MarkerList {
  const expression: MarkerList = [parseMarkerAtom(t)];
  while (t.check('BOOLOP')) {
    const op = t.read() as 'and' | 'or';
    expression.push(op, parseMarkerAtom(t));
  }
  return expression;
}

function parseMarkerAtom(t: Tokenizer): MarkerNode {
  t.consume('WS');
  let marker: MarkerNode;
  if (t.check('LEFT_PARENTHESIS', true)) {
    marker = t.enclosed('LEFT_PARENTHESIS', 'RIGHT_PARENTHESIS', 'marker expression', () => {
      t.consume('WS');
      const inner = parseMarker(t);
      t.consume('WS');
      return inner;
    });
  } else {
    t.consume('WS');
    const left = parseMarkerVar(t);
    t.consume('WS');
    const op = parseMarkerOp(t);
    t.consume('WS');
    const right = parseMarkerVar(t);
    t.consume('WS');
    marker = { left, op, right };
  }
  t.consume('WS');
  return marker;
}

function parseMarkerVar(t: Tokenizer): MarkerVar {
  if (t.check('VARIABLE')) {
    const name = t.read().replace('.', '_');
    return {
      kind: 'variable',
      value: name === 'python_implementation' ? 'platform_python_implementation' : name,
    };
  }
  if (t.check('QUOTED_STRING')) return { kind: 'value', value: pythonStringLiteral(t.read()) };
  return t.fail('Expected a marker variable or quoted string');
}

function parseMarkerOp(t: Tokenizer): string {
  if (t.check('IN')) {
    t.read();
    return 'in';
  }
  if (t.check('NOT')) {
    t.read();
    t.expect('WS', "whitespace after 'not'");
    t.expect('IN', "'in' after 'not'");
    return 'not in';
  }
  if (t.check('OP')) return t.read();
  return t.fail('Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in');
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * The value of a quoted marker string, as `ast.literal_eval` reads it: backslash escapes are
 * interpreted (`"\t"` is a tab); an unknown escape stays as written, as in Python.
 */
function pythonStringLiteral(quoted: string): string {
  return quoted
    .slice(1, -1)
    .replace(
      /\\(?:([0-7]{1,3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(x|u|U|N)|([\s\S]))/g,
      (
        whole,
        octal?: string,
        x?: string,
        u?: string,
        bigU?: string,
        bad?: string,
        other?: string,
      ) => {
        const code = octal ?? x ?? u ?? bigU;
        if (code !== undefined) {
          const value = parseInt(code, octal !== undefined ? 8 : 16);
          if (value > 0x10ffff) throw new PackagingError(`Invalid escape in ${quoted}`);
          return String.fromCodePoint(value);
        }
        if (bad !== undefined) throw new PackagingError(`Invalid escape in ${quoted}`);
        return other !== undefined && other in SIMPLE_ESCAPES
          ? (SIMPLE_ESCAPES[other] ?? '')
          : whole;
      },
    );
}

/**
 * packaging normalizes the value compared with `extra` (PEP 685), but only in the top-level
 * items of the marker, not inside parentheses.
 */
function normalizeExtraValues(marker: MarkerList): MarkerList {
  return marker.map((node) => {
    if (typeof node === 'string' || Array.isArray(node)) return node;
    const { left, op, right } = node;
    if (left.kind === 'variable' && left.value === 'extra') {
      return { left, op, right: { kind: 'value', value: normalizeProjectName(right.value) } };
    }
    if (right.kind === 'variable' && right.value === 'extra') {
      return { left: { kind: 'value', value: normalizeProjectName(left.value) }, op, right };
    }
    return node;
  });
}

/** packaging's `_format_marker`: `str(Marker)`. */
function formatMarker(marker: MarkerNode | 'and' | 'or', first = true): string {
  if (typeof marker === 'string') return marker;
  if (!Array.isArray(marker)) {
    const serialize = (v: MarkerVar) => (v.kind === 'variable' ? v.value : `"${v.value}"`);
    return `${serialize(marker.left)} ${marker.op} ${serialize(marker.right)}`;
  }
  const only = marker[0];
  if (marker.length === 1 && only !== undefined && typeof only !== 'string') {
    return formatMarker(only);
  }
  const inner = marker.map((m) => formatMarker(m, false)).join(' ');
  return first ? inner : `(${inner})`;
}

/**
 * Parses a PEP 508 dependency specifier like `packaging.requirements.Requirement`. Throws
 * `PackagingError` whose message is packaging's syntax error (its first line, without the
 * source excerpt and caret that packaging appends).
 */
export function parseRequirement(text: string): Requirement {
  const t = new Tokenizer(text);
  t.consume('WS');
  const name = t.expect('IDENTIFIER', 'package name at the start of dependency specifier');
  t.consume('WS');
  const extras = parseExtras(t);
  t.consume('WS');

  let url: string | null = null;
  let specifier = '';
  let marker: MarkerList | null = null;
  if (t.check('AT')) {
    t.read();
    t.consume('WS');
    url = t.expect('URL', 'URL after @');
    if (!t.check('END', true)) {
      t.expect('WS', 'whitespace after URL');
      if (!t.check('END', true)) {
        marker = parseRequirementMarker(t, 'semicolon (after URL and whitespace)');
      }
    }
  } else {
    specifier = parseSpecifier(t);
    t.consume('WS');
    if (!t.check('END', true)) {
      marker = parseRequirementMarker(
        t,
        specifier
          ? 'comma (within version specifier), semicolon (after version specifier)'
          : 'semicolon (after name with no version specifier)',
      );
    }
  }
  t.expect('END', 'end of dependency specifier');

  return {
    name,
    extras: [...new Set(extras)].sort(),
    specifier: normalizeSpecifierSet(specifier),
    // packaging keeps `url or None`: `foo @` cannot parse, so an empty URL never occurs.
    url: url || null,
    marker: marker === null ? null : formatMarker(normalizeExtraValues(marker)),
  };
}

/** `str(Requirement)`: `name[extras]specifier`, ` @ url`, then `; marker`. */
export function formatRequirement(req: Requirement): string {
  let text = req.name;
  if (req.extras.length > 0) text += `[${req.extras.join(',')}]`;
  text += req.specifier;
  if (req.url) text += ` @ ${req.url}${req.marker ? ' ' : ''}`;
  if (req.marker) text += `; ${req.marker}`;
  return text;
}
