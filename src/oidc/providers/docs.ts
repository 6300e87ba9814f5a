// The providers' table of docs/trusted-publishing.md, generated from the registry: between its
// two markers the file holds exactly `providersTable()` (test/oidc/providers/registry.test.ts
// fails when they drift; `node build/src/oidc/providers/docs.js --write` regenerates it).
import { readFileSync, writeFileSync } from 'node:fs';
import { PROVIDER_KINDS, PROVIDERS } from './index.js';

export const TABLE_BEGIN = '<!-- providers table: generated from src/oidc/providers/index.ts -->';
export const TABLE_END = '<!-- end of providers table -->';
export const SECTIONS_BEGIN =
  '<!-- provider sections: generated from src/oidc/providers/index.ts -->';
export const SECTIONS_END = '<!-- end of provider sections -->';

/** What the example pipelines upload to. */
const EXAMPLE_CONTEXT = {
  uploadUrl: 'https://pypi.example.com/legacy/',
  audience: 'pypi.example.com',
  actionRef: null,
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** One row per provider: kind, built-in issuer, what a publisher names, fields, CLI options. */
export function providersTable(): string {
  const rows = PROVIDER_KINDS.map((kind) => {
    const p = PROVIDERS[kind];
    const fields = p.fields
      .map((f) => (f.optional || f.choices ? `\`${f.name}\` (optional)` : `\`${f.name}\``))
      .join(', ');
    return `| \`${kind}\` | ${p.displayName} | ${p.builtinIssuer === null ? 'none' : `\`${p.builtinIssuer}\``} | ${cell(p.summary)} | ${fields} | \`--provider ${kind} ${cell(p.cli.example)}\` |`;
  });
  return [
    '| kind | provider | built-in issuer | a publisher names | registration fields (web form, REST API) | `pier publisher add` |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

const KIND_WORDS: Record<string, string> = {
  'required-verifiable': 'required, checked',
  'required-unverifiable': 'required, not compared',
  'optional-verifiable': 'optional, checked',
};

/**
 * One section per provider: its pipeline file (for the example registration), its registration
 * fields, its claim table and the claims it deliberately leaves unchecked.
 */
export function providerSections(): string {
  return PROVIDER_KINDS.map((kind) => {
    const p = PROVIDERS[kind];
    const validated = p.validateConfig(p.example);
    if (!validated.ok) throw new Error(`${kind}: its example registration is invalid`);
    const template = p.template.render(validated.config, EXAMPLE_CONTEXT);
    const fields = p.fields.map(
      (f) =>
        `| \`${f.name}\` | ${cell(f.label)}${f.optional || f.choices ? ' (optional)' : ''} | ${cell(f.hint ?? '')} |`,
    );
    const rules = p.rules.map(
      (r) => `| \`${r.claim}\` | ${KIND_WORDS[r.kind]} | ${cell(r.check)} |`,
    );
    const unchecked = [...p.uncheckedClaims.map((c) => `\`${c}\``)];
    for (const prefix of p.uncheckedPrefixes) unchecked.push(`\`${prefix}*\``);
    return [
      `### ${p.displayName} (\`--provider ${kind}\`)`,
      '',
      `A publisher names ${cell(p.summary)}. ${p.builtinIssuer === null ? `No built-in issuer: register one with \`pier issuer add --kind ${kind}\`.` : `Built-in issuer: \`${p.builtinIssuer}\`.`}`,
      '',
      template.path === null
        ? template.text.trim()
        : [
            `The pipeline file, \`${template.path}\`:`,
            '',
            template.language === 'yaml' ? '```yaml' : '```text',
            template.text.trimEnd(),
            '```',
          ].join('\n'),
      '',
      `Registration (\`pier publisher add PROJECT --provider ${kind} ${cell(p.cli.example)}\`):`,
      '',
      '| field | label | notes |',
      '| --- | --- | --- |',
      ...fields,
      '',
      'Claims of the token:',
      '',
      '| claim | kind | how it is checked |',
      '| --- | --- | --- |',
      ...rules,
      '',
      `Deliberately not checked: ${unchecked.length > 0 ? unchecked.join(', ') : 'none'}.`,
    ].join('\n');
  }).join('\n\n');
}

function between(document: string, beginMarker: string, endMarker: string): string | null {
  const begin = document.indexOf(beginMarker);
  const end = document.indexOf(endMarker);
  if (begin < 0 || end < begin) return null;
  return document.slice(begin + beginMarker.length, end).trim();
}

/** The table between the markers of a document (null when it has none). */
export function generatedPart(document: string): string | null {
  return between(document, TABLE_BEGIN, TABLE_END);
}

/** The provider sections between their markers (null when it has none). */
export function generatedSections(document: string): string | null {
  const part = between(document, SECTIONS_BEGIN, SECTIONS_END);
  return (
    part
      ?.replace('<!-- prettier-ignore-start -->', '')
      .replace('<!-- prettier-ignore-end -->', '')
      .trim() ?? null
  );
}

/** Markdown as prettier may align it: whitespace runs and table rules reduced. */
export function normalizedMarkdown(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^\|?[\s|:-]+\|?$/.test(line) && line.includes('---') ? '|---|' : line))
    .map((line) => (line.startsWith('|') ? normalizedTable(line) : line))
    .join('\n')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * A markdown table with its cells trimmed and its rule row reduced to dashes: equal for the
 * generated table and the same table as prettier aligns it.
 */
export function normalizedTable(table: string): string {
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .map((c) => c.trim())
        .map((c) => (/^-+$/.test(c) ? '---' : c))
        .join('|'),
    )
    .join('\n');
}

function replaceBetween(document: string, b: string, e: string, text: string): string {
  const begin = document.indexOf(b);
  const end = document.indexOf(e);
  if (begin < 0 || end < begin) throw new Error(`the document has no '${b}' marker`);
  return `${document.slice(0, begin + b.length)}\n\n${text}\n\n${document.slice(end)}`;
}

/** The document with its generated parts replaced by the registry's. */
export function withTable(document: string): string {
  const table = replaceBetween(document, TABLE_BEGIN, TABLE_END, providersTable());
  // prettier would reformat the YAML of the pipeline files: the sections stay as generated.
  return replaceBetween(
    table,
    SECTIONS_BEGIN,
    SECTIONS_END,
    `<!-- prettier-ignore-start -->\n\n${providerSections()}\n\n<!-- prettier-ignore-end -->`,
  );
}

if (process.argv[2] === '--write') {
  const path = process.argv[3] ?? 'docs/trusted-publishing.md';
  writeFileSync(path, withTable(readFileSync(path, 'utf8')));
}
