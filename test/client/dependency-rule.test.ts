// The dependency rule: the publish client and the action import nothing of the server, so that
// the action bundles the client alone. Checked twice: every import statement of src/client and
// action/src (and, transitively, of the src/packaging files they reach), and the inputs esbuild
// actually put into the action's bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/server.js';

const SERVER = [
  'src/http',
  'src/registry',
  'src/db',
  'src/storage',
  'src/auth',
  'src/oidc',
  'src/cli',
  'src/services.ts',
  'src/config.ts',
];
const SERVER_PACKAGES = [
  'fastify',
  '@fastify',
  'kysely',
  'better-sqlite3',
  'pg',
  '@aws-sdk',
  'jose',
  'pino',
  'prom-client',
  'commander',
  'undici',
];

/** The command lines of `pier publish` and `pier token from-oidc` (commander): never imported by the action. */
const CLI_ENTRIES = [
  'src/client/command.ts',
  'src/client/read-token-command.ts',
  'src/client/main.ts',
  'src/client/numeric-option.ts',
];

/**
 * Bare packages each part may import (src/packaging's own dependencies aside). @sigstore/sign and
 * @sigstore/bundle sign PEP 740 attestations (src/client/attest.ts, loaded only with
 * --attestations); their HTTP goes through Node's fetch in the bundles (make-fetch-happen is
 * aliased away, the next test checks it).
 */
const ALLOWED_PACKAGES: Record<string, readonly string[]> = {
  'src/client': ['hash-wasm', 'cli-progress', '@sigstore/sign', '@sigstore/bundle'],
  'action/src': ['@actions/core'],
};

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const patterns = [
    /^\s*(import|export)\s+(type\s+)?[^'"]*?\s+from\s+['"]([^'"]+)['"]/gm,
    /^\s*import\s+()()['"]([^'"]+)['"]/gm,
    /\bimport\(\s*()()['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns)
    for (const m of text.matchAll(pattern))
      found.push({ file, specifier: m[3]!, typeOnly: Boolean(m[2]) });
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return entry.endsWith('.ts') ? [full] : [];
  });
}

function resolveRelative(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  const ts = target.replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : target;
}

const rel = (p: string) => relative(REPO_ROOT, p).split('\\').join('/');
const packageOf = (s: string) =>
  s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;

test('src/client and action/src import only the client, src/packaging, built-ins and their own packages', () => {
  const roots = [join(REPO_ROOT, 'src/client'), join(REPO_ROOT, 'action/src')];
  const queue = roots.flatMap(tsFiles);
  const seen = new Set<string>();
  const problems: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const part = rel(file).startsWith('action/src')
      ? 'action/src'
      : rel(file).startsWith('src/client')
        ? 'src/client'
        : 'src/packaging';
    for (const imp of importsOf(file)) {
      if (imp.specifier.startsWith('.')) {
        const target = rel(resolveRelative(file, imp.specifier));
        const allowed =
          target.startsWith('src/packaging/') ||
          (part !== 'src/packaging' && target.startsWith('src/client/')) ||
          (part === 'action/src' && target.startsWith('action/src/'));
        if (!allowed) problems.push(`${rel(file)} imports ${target}`);
        else queue.push(join(REPO_ROOT, target));
      } else if (!imp.specifier.startsWith('node:')) {
        const pkg = packageOf(imp.specifier);
        if (part === 'src/packaging') {
          if (SERVER_PACKAGES.includes(pkg)) problems.push(`${rel(file)} imports ${pkg}`);
        } else if (pkg === 'commander' && CLI_ENTRIES.includes(rel(file))) {
          // `pier publish`'s own command line; the next test shows the action bundles neither.
        } else if (!(ALLOWED_PACKAGES[part] ?? []).includes(pkg))
          problems.push(`${rel(file)} imports ${imp.specifier}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(
    [...seen].some((f) => rel(f) === 'src/packaging/archive.ts'),
    'the scan followed imports',
  );
});

test('the action’s bundle holds no server module and no server package', async () => {
  const build = (await import(pathToFileURL(join(REPO_ROOT, 'scripts/build-action.mjs')).href)) as {
    bundle(): Promise<{ text: string; metafile: { inputs: Record<string, unknown> } }>;
  };
  const { metafile } = await build.bundle();
  const inputs = Object.keys(metafile.inputs);
  assert.ok(inputs.includes('src/client/publish.ts'), 'the client is in the bundle');
  assert.ok(inputs.includes('action/src/main.ts'));
  const forbidden = inputs.filter(
    (input) =>
      SERVER.some((s) => input === s || input.startsWith(`${s}/`)) ||
      SERVER_PACKAGES.some((p) => input.startsWith(`node_modules/${p}/`)),
  );
  assert.deepEqual(forbidden, []);
  // Signing is in the bundle, with Node's fetch instead of make-fetch-happen's 1.3 MB.
  assert.ok(inputs.includes('node_modules/@sigstore/sign/dist/index.js'), 'signing is bundled');
  assert.ok(inputs.includes('src/client/sigstore-fetch.ts'));
  const heavy = inputs.filter((i) =>
    /^node_modules\/(make-fetch-happen|minipass-fetch|cacache|iconv-lite|socks)\//.test(i),
  );
  assert.deepEqual(heavy, []);
  const ours = inputs.filter((i) => !i.startsWith('node_modules/') && !i.startsWith('pier-stub:'));
  for (const input of ours)
    assert.ok(/^(src\/client|src\/packaging|action\/src)\//.test(input), input);
});
