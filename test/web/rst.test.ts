// reStructuredText descriptions: real projects' README.rst files (test/fixtures/rst/, each
// naming its source) render as pypi.org shows them, through the Markdown path's sanitizer;
// hostile reStructuredText is inert: raw and include are refused and shown as plain text, links
// and images keep http(s) URLs only, deep nesting stays within the render bounds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel, metadataFromFields } from '../support/dists.js';
import { renderDescription } from '../../src/web/render/markup.js';
import { DESCRIPTION_LIMITS, DescriptionRenderer } from '../../src/web/render/descriptions.js';

const readme = (name: string) =>
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'rst', `${name}.rst`), 'utf8');

/** Markup with the renderer's line breaks and indentation folded, to match on. */
const flat = (markup: string) =>
  markup
    .replace(/\s+/g, ' ')
    .replace(/> </g, '><')
    .replace(/(<(?:h\d|p|li|td|th|div)(?: [^>]*)?>) /g, '$1')
    .replace(/ (<\/(?:h\d|p|li|td|th|div)>)/g, '$1');

const REL = 'rel="nofollow ugc noopener noreferrer"';

/** What no rendered description may hold, whatever its source. */
function assertInert(out: string): void {
  assert.doesNotMatch(out, /<script|<iframe|<style|<svg|<object|<embed|<form|<input|<meta/i);
  assert.doesNotMatch(out, /<[^>]*\son\w+\s*=/i, 'no event handler attribute');
  assert.doesNotMatch(out, /(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):/i);
  assert.doesNotMatch(out, /<[^>]*\sstyle=/i);
  assert.doesNotMatch(out, /\sid=/i, 'no id: a description cannot clobber the page');
  assert.doesNotMatch(out, /<!--/, 'no comment');
}

test("pip's README.rst: title, named hyperlink targets, badges linked to their targets", () => {
  const out = flat(renderDescription(readme('pip'), 'text/x-rst').value);
  assertInert(out);
  assert.match(out, /^<div class="description rst"><h1>pip<\/h1>/);
  assert.match(
    out,
    new RegExp(
      `The <a href="https://packaging.python.org/en/latest/current/" ${REL}>PyPA recommended</a> tool`,
    ),
  );
  assert.match(
    out,
    new RegExp(
      `<a href="https://pypi.org/project/pip/" ${REL}><img src="https://img.shields.io/pypi/v/pip.svg"`,
    ),
  );
  assert.match(out, /<li><p><a href="https:\/\/pip.pypa.io\/en\/stable\/installing.html"/);
  assert.match(out, /<li><p>User IRC: #pypa on Freenode.<\/p><\/li>/);
  assert.match(out, /<h2>Code of Conduct<\/h2>/);
  // The source note is an rST comment: not shown.
  assert.doesNotMatch(out, /Source:|\.\. _/);
});

test("pytest's README.rst: code-block, literal block, inline literals, sections, anonymous links", () => {
  const out = flat(renderDescription(readme('pytest'), null).value);
  assertInert(out);
  assert.match(out, /alt="pytest" height="200"/);
  assert.match(out, /<hr \/>/);
  assert.match(out, /The <code>pytest<\/code> framework makes it easy/);
  assert.match(out, /<pre># content of test_sample.py def inc\(x\): return x \+ 1/);
  assert.match(out, /<p>To execute it:<\/p><div><pre>\$ pytest =+ test session starts/);
  assert.match(out, /&gt; assert inc\(3\) == 5/, 'literal text escaped');
  assert.match(out, /<h1>Features<\/h1><ul><li><p>Detailed info on failing <a href=/);
  assert.match(out, /<h2>Security<\/h2>/, 'a second underline style is the next level');
  assert.match(
    out,
    new RegExp(`<a href="https://docs.pytest.org/en/stable/changelog.html" ${REL}>Changelog</a>`),
  );
  assert.match(out, /<a href="https:\/\/github.com\/pytest-dev\/pytest\/blob\/main\/LICENSE" /);
});

test("coverage.py's README.rst: substitutions in a line block, list-table, strong, comments hidden", () => {
  const out = flat(renderDescription(readme('coverage'), 'text/x-rst; charset=UTF-8').value);
  assertInert(out);
  assert.match(out, /<h1>Coverage.py<\/h1>/);
  assert.match(
    out,
    /<a href="https:\/\/pypi.org\/project\/coverage\/" [^>]*><img src="https:\/\/img.shields.io\/pypi\/l\/coverage.svg" alt="License"/,
  );
  assert.match(out, /alt="Tidelift"[^>]*\/><\/a><\/p><\/td><td><p><a href="https:\/\/tidelift/);
  assert.match(out, /<table><tbody><tr><td>/);
  assert.match(out, /<strong>New in 6.x:<\/strong> dropped support/);
  assert.match(out, /&amp;utm_medium=referral/, 'URLs with & are kept whole');
  assert.doesNotMatch(out, /Licensed under the Apache License: http|PYVERSIONS/);
});

test('text holding &amp; and &lt; renders (the renderer alone refuses it)', () => {
  const out = flat(
    renderDescription('Tom &amp; Jerry ``a &lt; b`` &foo;\n\n::\n\n   x &gt; y\n', null).value,
  );
  assert.match(out, /<p>Tom &amp;amp; Jerry <code>a &amp;lt; b<\/code> &amp;foo;<\/p>/);
  assert.match(out, /<pre>x &amp;gt; y<\/pre>/);
});

test('raw and include are refused: the description is plain text, with the reason', () => {
  const cases: [string, RegExp][] = [
    ['.. raw:: html\n\n   <script>window.__pwned=1</script>\n', /the raw directive is not/],
    ['Title\n=====\n\n.. include:: /etc/passwd\n', /the include directive is not allowed/],
    ['.. include:: /etc/passwd\n   :literal:\n', /the include directive is not allowed/],
    ['Some :raw:`<img src=x onerror=window.__pwned=1>` text\n', /the raw role is not allowed/],
    ['.. unknown-directive:: x\n', /could not be rendered/],
  ];
  for (const [rst, reason] of cases) {
    const out = renderDescription(rst, 'text/x-rst').value;
    assert.match(out, reason, rst);
    assert.match(out, /it is shown as plain text/);
    assert.match(out, /<pre class="description rst">/);
    assert.doesNotMatch(out, /root:|<script|<img/, rst);
    assertInert(out);
  }
});

test('links, targets and images keep http(s) URLs only', () => {
  const rst = [
    '`click <javascript:window.__pwned=1>`_ and `named`_ and `data <data:text/html,x>`_',
    '',
    '.. _named: javascript:window.__pwned=2',
    '',
    '.. image:: javascript:window.__pwned=3',
    '   :target: javascript:window.__pwned=4',
    '   :alt: " onerror="window.__pwned=5',
    '',
    '<script>window.__pwned=6</script> <img src=x onerror=window.__pwned=7>',
    '',
    '.. |sub| image:: https://example.com/i.png',
    '   :target: vbscript:msgbox',
    '',
    '|sub| `ok <https://example.com/docs>`_ mailto:a@example.com',
  ].join('\n');
  const out = renderDescription(rst, null).value;
  assertInert(out);
  assert.match(out, /&lt;script&gt;window.__pwned=6&lt;\/script&gt;/, 'text is text');
  assert.match(out, new RegExp(`<a href="https://example.com/docs" ${REL}>ok</a>`));
  assert.match(out, /<img src="https:\/\/example.com\/i.png"/);
  assert.doesNotMatch(out, /pwned=[1-5]"/);
});

test('deep nesting within the size bound: rendered or refused in the worker, never the page', async () => {
  const renderer = new DescriptionRenderer({ ...DESCRIPTION_LIMITS, timeoutMs: 2_000 });
  try {
    const lists = Array.from({ length: 700 }, (_, i) => `${'  '.repeat(i)}- x\n\n`).join('');
    const quotes = Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}x\n\n`).join('');
    const emphasis = `${'*'.repeat(50_000)}x${'*'.repeat(50_000)}`;
    for (const text of [lists, quotes, emphasis]) {
      assert.ok(Buffer.byteLength(text) <= DESCRIPTION_LIMITS.maxBytes);
      const started = performance.now();
      const out = (await renderer.render(`<script>x</script>\n\n${text}`, 'text/x-rst')).value;
      const ms = performance.now() - started;
      // The time bound ends it; the rest is room for a loaded machine to stop the worker and
      // start another.
      assert.ok(ms < 2_000 + 6_000, `answered after ${Math.round(ms)} ms`);
      assertInert(out);
      assert.match(out, /&lt;script&gt;x&lt;\/script&gt;/);
    }
    // The worker still renders the next description.
    const next = (await renderer.render('Next\n====\n', null)).value;
    assert.match(next, /<h1>\s*Next\s*<\/h1>/);
  } finally {
    await renderer.close();
  }
});

test('the worker renders exactly what the rules render, and keeps a refusal', async () => {
  const renderer = new DescriptionRenderer();
  try {
    for (const text of [readme('pytest'), '.. raw:: html\n\n   <b>x</b>\n']) {
      const out = (await renderer.render(text, 'text/x-rst')).value;
      assert.ok(out === renderDescription(text, 'text/x-rst').value, 'the same markup');
    }
    // Markdown and reStructuredText of the same text are two renders, not one cached.
    const md = (await renderer.render('Title\n=====\n', 'text/markdown')).value;
    const rst = (await renderer.render('Title\n=====\n', 'text/x-rst')).value;
    assert.match(md, /description markdown/);
    assert.match(rst, /description rst/);
  } finally {
    await renderer.close();
  }
});

let server: TestServer | null = null;
after(() => server?.close());

test('a release whose README.rst comes with the upload: its project page shows it rendered', async () => {
  server = await startServer();
  const token = await server.userWithToken('alice', { mayCreateProjects: true });
  const fields = {
    metadata_version: '2.1',
    name: 'pier-sample',
    version: '1.0.0',
    description: readme('pytest'),
  };
  const wheel = await makeWheel({ version: '1.0.0', metadata: metadataFromFields(fields) });
  const res = await postUpload(server.url, token, await uploadParts({ ...wheel, fields }));
  assert.equal(res.status, 200, res.body);
  const page = await fetch(`${server.url}/project/pier-sample/`);
  assert.equal(page.status, 200);
  const body = flat(await page.text());
  assert.match(body, /<div class="description rst">/);
  assert.match(body, /<h1>Features<\/h1>/);
  assert.match(body, /The <code>pytest<\/code> framework/);
});
