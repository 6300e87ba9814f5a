// ~/.pypirc as twine reads it (the PyPA's .pypirc specification): an INI file in the dialect
// of Python's configparser (RawConfigParser: `key = value` or `key: value`, indented
// continuation lines, `#` and `;` comment lines, option names case-insensitive, no
// interpolation, a repeated section or option an error), whose `[distutils] index-servers`
// names the repositories; each `[NAME]` section gives `repository` (the upload URL),
// `username` and `password`. `pypi` and `testpypi` need no section. Pure functions over text:
// the caller reads the file.
import { PublishError } from './errors.js';
import { PYPI_UPLOAD_URL } from './urls.js';

export const TESTPYPI_REPOSITORY = 'https://test.pypi.org/legacy/';

/** Section name -> option name (lower case) -> value. */
export type IniSections = Map<string, Map<string, string>>;

export interface PypircRepository {
  /** The upload URL. */
  repository: string;
  username?: string;
  password?: string;
}

function malformed(path: string, line: number, reason: string): PublishError {
  return new PublishError('usage', `${path} line ${line}: ${reason}`, {
    hints: [
      'Fix the file (https://packaging.python.org/specifications/pypirc/), or give the upload URL with --repository-url.',
    ],
  });
}

/** Parses configparser's INI dialect; a line it would refuse is an error naming the line. */
export function parseIni(text: string, path: string): IniSections {
  const sections: IniSections = new Map();
  let section: Map<string, string> | null = null;
  let last: { key: string; indent: number } | null = null;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  for (const [i, raw] of lines.entries()) {
    const n = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || /^[#;]/.test(trimmed)) {
      // A blank line ends a value; a comment line inside one is skipped.
      if (trimmed === '') last = null;
      continue;
    }
    const indent = raw.length - raw.trimStart().length;
    if (last && section && indent > last.indent) {
      section.set(last.key, `${section.get(last.key) ?? ''}\n${trimmed}`);
      continue;
    }
    const header = /^\[([^\]]+)\]/.exec(trimmed);
    if (header) {
      const name = header[1]!;
      if (sections.has(name)) throw malformed(path, n, `the section [${name}] appears twice`);
      section = new Map();
      sections.set(name, section);
      last = null;
      continue;
    }
    // A line is never quoted back: it may hold a password.
    if (trimmed.startsWith('['))
      throw malformed(path, n, 'a section header must be a name in brackets, like [pypi]');
    const option = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!option) throw malformed(path, n, "expected 'name = value' (or 'name: value')");
    if (!section) throw malformed(path, n, 'an option comes before any section header like [pypi]');
    const key = option[1]!.toLowerCase();
    if (section.has(key))
      throw malformed(path, n, `the option '${key}' appears twice in its section`);
    section.set(key, option[2]!);
    last = { key, indent };
  }
  return sections;
}

/** The repositories a .pypirc defines, as twine's `get_config` reads them. */
export function pypircRepositories(sections: IniSections): Map<string, Partial<PypircRepository>> {
  const login = sections.get('server-login');
  const indexServers = (sections.get('distutils')?.get('index-servers') ?? 'pypi testpypi')
    .split(/\s+/)
    .filter(Boolean);
  const repositories = new Map<string, Partial<PypircRepository>>();
  const entry = (name: string) => {
    let r = repositories.get(name);
    if (!r) {
      // [server-login] is obsolete; twine still reads it as every repository's default.
      r = {
        ...(login?.has('username') ? { username: login.get('username') } : {}),
        ...(login?.has('password') ? { password: login.get('password') } : {}),
      };
      repositories.set(name, r);
    }
    return r;
  };
  entry('pypi').repository = PYPI_UPLOAD_URL;
  if (indexServers.includes('testpypi')) entry('testpypi').repository = TESTPYPI_REPOSITORY;
  for (const name of indexServers) {
    const options = sections.get(name);
    const r = entry(name);
    for (const key of ['repository', 'username', 'password'] as const) {
      const value = options?.get(key);
      if (value !== undefined) r[key] = value;
    }
  }
  return repositories;
}

/**
 * The repository `name` of a .pypirc (`text` null: there is no file, and only `pypi` and
 * `testpypi` are known), or a usage error saying what is missing.
 */
export function pypircRepository(
  text: string | null,
  path: string,
  name: string,
): PypircRepository {
  const repositories = pypircRepositories(text === null ? new Map() : parseIni(text, path));
  const found = repositories.get(name);
  if (!found)
    throw new PublishError(
      'usage',
      `The repository '${name}' is not in ${path}${text === null ? ' (there is no such file)' : ''}`,
      {
        hints: [
          text === null
            ? `Create ${path} with a [${name}] section (repository = its upload URL), or give the upload URL with --repository-url.`
            : `Add a [${name}] section with \`repository = <upload URL>\` and list '${name}' in \`index-servers\` under [distutils].`,
        ],
      },
    );
  if (found.repository === undefined || found.repository.trim() === '')
    throw new PublishError('usage', `The [${name}] section of ${path} has no repository URL`, {
      hints: [`Add \`repository = <upload URL>\` (pier: https://<host>/legacy/) to [${name}].`],
    });
  return {
    repository: found.repository.trim(),
    ...(found.username === undefined ? {} : { username: found.username }),
    ...(found.password === undefined ? {} : { password: found.password }),
  };
}
