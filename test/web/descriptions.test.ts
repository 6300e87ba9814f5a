// Descriptions are rendered once and kept, within a bound on size and on time: a costly Markdown
// description costs its render once (in a worker, beside the event loop), later views almost
// nothing; one past the size bound is never rendered, one past the time bound is stopped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer, type TestServer } from '../support/server.js';
import { postUpload, uploadParts } from '../support/upload.js';
import { makeWheel, metadataFromFields } from '../support/dists.js';
import {
  DESCRIPTION_LIMITS,
  DescriptionRenderer,
  cutToBytes,
  planDescription,
} from '../../src/web/render/descriptions.js';
import { renderMarkdown } from '../../src/web/render/markdown.js';

const MiB = 1024 * 1024;
const PARAGRAPH =
  '## Heading\n\nSome *emphasis* and **strong** text with a [link](https://example.com) and ' +
  '`code`, <b>html</b>.\n\n- item one\n- item two\n\n';

/** Markdown of about `bytes` bytes, whose render takes about a second per MiB. */
const markdownOf = (bytes: number) => PARAGRAPH.repeat(Math.floor(bytes / PARAGRAPH.length));

/** Runs `fn`, measuring how long it took and the longest the event loop was held meanwhile. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; lagMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const value = await fn();
  const ms = performance.now() - started;
  delay.disable();
  return { value, ms, lagMs: delay.max / 1e6 };
}

/** Asserts that `out` matches, without printing a whole page when it does not. */
function has(out: string, pattern: RegExp, yes = true): void {
  const at = out.search(/description/);
  assert.equal(
    pattern.test(out),
    yes,
    `${yes ? 'expected' : 'did not expect'} ${pattern} in: ${out.slice(Math.max(0, at - 100), at + 300)}…`,
  );
}

let server: TestServer | null = null;
after(() => server?.close());

test('a costly description: the first page view renders it beside the event loop, the second costs almost nothing', async () => {
  server = await startServer();
  const token = await server.userWithToken('alice', { mayCreateProjects: true });
  const description = markdownOf(DESCRIPTION_LIMITS.maxBytes / 4);
  // The release shows the file's own metadata, so the description goes in the wheel's METADATA.
  const fields = {
    name: 'pier-sample',
    version: '1.0.0',
    metadata_version: '2.1',
    description,
    description_content_type: 'text/markdown; charset=UTF-8',
  };
  const w = await makeWheel({ version: '1.0.0', metadata: metadataFromFields(fields) });
  const res = await postUpload(
    server.url,
    token,
    await uploadParts({
      ...w,
      fields: { description, description_content_type: 'text/markdown; charset=UTF-8' },
    }),
  );
  assert.equal(res.status, 200, res.body);

  const view = async () => {
    const page = await fetch(`${server!.url}/project/pier-sample/`);
    assert.equal(page.status, 200);
    return page.text();
  };
  const first = await measured(view);
  const second = await measured(view);
  has(first.value, /<h2>Heading<\/h2>/);
  has(first.value, /<b>html<\/b>/);
  assert.ok(second.value === first.value, 'the same page');
  assert.ok(
    first.lagMs < 750,
    `the event loop was held ${Math.round(first.lagMs)} ms by the first view (${Math.round(first.ms)} ms)`,
  );
  assert.ok(
    second.ms < first.ms / 4,
    `the second view took ${Math.round(second.ms)} ms, the first ${Math.round(first.ms)} ms`,
  );
});

test('a render past the time bound is stopped: plain text, the event loop never held, and kept', async () => {
  const renderer = new DescriptionRenderer({
    ...DESCRIPTION_LIMITS,
    maxBytes: 8 * MiB,
    timeoutMs: 250,
  });
  try {
    // The worker started once, so that only the render counts against the bound.
    has((await renderer.render('# warm', 'text/markdown')).value, /<h1>warm<\/h1>/);
    const costly = `<script>window.__pwned = 1</script>\n\n${markdownOf(3 * MiB)}`;
    const slow = await measured(() => renderer.render(costly, 'text/markdown'));
    has(slow.value.value, /took longer than 0.25 s to render: it is shown as plain/);
    has(slow.value.value, /<pre class="description plain">&lt;script&gt;window/);
    has(slow.value.value, /<script|<h2>/, false);
    assert.ok(slow.ms < 250 + 750, `answered after ${Math.round(slow.ms)} ms`);
    assert.ok(slow.lagMs < 150, `the event loop was held ${Math.round(slow.lagMs)} ms`);
    // The outcome is kept: the same description is not rendered (nor timed out) again.
    const again = await measured(() => renderer.render(costly, 'text/markdown'));
    assert.ok(again.value.value === slow.value.value, 'the same outcome');
    assert.ok(again.ms < 100, `the second view took ${Math.round(again.ms)} ms`);
    // A new worker takes the next description.
    has((await renderer.render('# next', 'text/markdown')).value, /<h1>next<\/h1>/);
  } finally {
    await renderer.close();
  }
});

test('a description past the size bound is never rendered: its start as escaped plain text, with a note', async () => {
  const renderer = new DescriptionRenderer();
  try {
    const huge = `<script>window.__pwned = 1</script>\n\n${markdownOf(4 * MiB)}`;
    const r = await measured(() => renderer.render(huge, 'text/markdown'));
    const out = r.value.value;
    has(out, /This description is 4 MiB, more than the 1 MiB this\s+index renders/);
    has(out, /<pre class="description plain">&lt;script&gt;/);
    has(out, /<script|<h2>/, false);
    assert.ok(out.length < 1.2 * MiB, `the page holds ${out.length} characters of it`);
    assert.ok(r.ms < 1000, `took ${Math.round(r.ms)} ms`);
    // reStructuredText past the bound is cut the same way.
    const rst = await renderer.render('x'.repeat(2 * MiB), 'text/x-rst');
    has(rst.value, /This description is 2 MiB/);
  } finally {
    await renderer.close();
  }
});

test('renders past the queue bound are shown as plain text at once, not queued', async () => {
  const renderer = new DescriptionRenderer({ ...DESCRIPTION_LIMITS, maxQueue: 1 });
  try {
    await renderer.render('# warm', 'text/markdown');
    const running = renderer.render(markdownOf(256 * 1024), 'text/markdown');
    const queued = renderer.render(`# queued\n\n${markdownOf(1024)}`, 'text/markdown');
    const over = await measured(() => renderer.render('# third', 'text/markdown'));
    has(over.value.value, /<pre class="description plain"># third<\/pre>/);
    assert.ok(over.ms < 50);
    has((await running).value, /<h2>Heading<\/h2>/);
    has((await queued).value, /<h1>queued<\/h1>/);
    // Not kept: once the worker is free, it is rendered.
    has((await renderer.render('# third', 'text/markdown')).value, /<h1>third<\/h1>/);
  } finally {
    await renderer.close();
  }
});

test('the worker renders exactly what the Markdown rules render, hostile markup included', async () => {
  const renderer = new DescriptionRenderer();
  try {
    const hostile = [
      '# Title',
      '<script>window.__pwned = 1</script>',
      '[click](javascript:window.__pwned=1)',
      '<img src="x" onerror="window.__pwned=1">',
      '<p id="login-form">clobbering</p>',
      '[ok](https://example.com/docs)',
    ].join('\n\n');
    const out = (await renderer.render(hostile, 'text/markdown')).value;
    assert.ok(out === renderMarkdown(hostile).value, 'the same markup as renderMarkdown');
    has(out, /<script|onerror|href="javascript|\sid=/i, false);
  } finally {
    await renderer.close();
  }
});

test('what showing a description takes, from its text, type and the bound', () => {
  const cases: [string | null, string | null, number, string][] = [
    [null, 'text/markdown', 100, 'empty'],
    ['  UNKNOWN ', null, 100, 'empty'],
    ['# x', 'text/markdown; variant=GFM', 100, 'render'],
    ['x', null, 100, 'render'],
    ['x', 'text/x-rst', 100, 'render'],
    ['x', 'text/plain', 100, 'preformatted'],
    ['x'.repeat(100), 'text/markdown', 100, 'render'],
    ['x'.repeat(101), 'text/markdown', 100, 'too-large'],
    ['x'.repeat(101), 'text/x-rst', 100, 'too-large'],
    ['é'.repeat(51), 'text/markdown', 100, 'too-large'], // 51 characters, 102 bytes
  ];
  for (const [text, type, max, kind] of cases)
    assert.equal(planDescription(text, type, max).kind, kind, `${text?.slice(0, 8)} ${type}`);
  assert.equal(cutToBytes('aé', 2), 'a', 'a character is never split');
  assert.equal(cutToBytes('aéb', 3), 'aé');
  assert.equal(cutToBytes('€€', 5), '€');
  assert.equal(cutToBytes('abc', 10), 'abc');
});
