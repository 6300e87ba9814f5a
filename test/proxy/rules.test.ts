// The proxy's rules as tables: name globs and the guard's name rule, the minimum age, and the
// readers of upstream pages (PEP 691 JSON, PEP 503 HTML with relative links).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MISSING_FRESH_MS,
  PAGE_FRESH_MS,
  globMatches,
  isNeverFromUpstream,
  isServableAsStored,
  offeredFiles,
  offeredFilesChangeAt,
} from '../../src/proxy/rules.js';
import { parseHtmlPage, parseJsonPage, parseProjectPage } from '../../src/proxy/parse.js';
import { UpstreamError, type UpstreamFile } from '../../src/proxy/model.js';

const H = 'a'.repeat(64);
const M = 'b'.repeat(64);

test('globs match PEP 503 normalized names', () => {
  const cases: [string, string, boolean][] = [
    ['acme-*', 'acme-tools', true],
    ['acme-*', 'Acme_Tools', true],
    ['acme-*', 'acme.tools', true],
    ['acme-*', 'acme', false],
    ['acme*', 'acme', true],
    ['internal_?', 'internal-a', true],
    ['internal_?', 'internal-ab', false],
    ['requests', 'Requests', true],
    ['req.sts', 'requests', false],
  ];
  for (const [glob, name, expected] of cases)
    assert.equal(globMatches(glob, name), expected, `${glob} ${name}`);
});

test('isNeverFromUpstream: excludes, allow-list mode, and another rule plugged in', () => {
  const cases: [string, { exclude: string[]; allow: string[] }, boolean][] = [
    ['requests', { exclude: [], allow: [] }, false],
    ['acme-x', { exclude: ['acme-*'], allow: [] }, true],
    ['requests', { exclude: [], allow: ['requests', 'urllib3'] }, false],
    ['leftpad', { exclude: [], allow: ['requests'] }, true],
    ['acme-x', { exclude: ['acme-*'], allow: ['acme-*'] }, true],
  ];
  for (const [name, policy, expected] of cases)
    assert.equal(isNeverFromUpstream(name, policy), expected, `${name} ${JSON.stringify(policy)}`);
  const reserved = (n: string) => n.startsWith('corp-');
  assert.equal(isNeverFromUpstream('Corp_Lib', { exclude: [], allow: [] }, reserved), true);
  assert.equal(isNeverFromUpstream('lib', { exclude: [], allow: [] }, reserved), false);
});

test('a minimum age offers only files whose stated upload time is old enough', () => {
  const now = Date.parse('2026-12-03T00:00:00Z');
  const file = (uploadTime: string | null): UpstreamFile => ({
    filename: 'x-1.0.tar.gz',
    url: 'https://u.example/x-1.0.tar.gz',
    sha256: H,
    requiresPython: null,
    yanked: false,
    size: 1,
    uploadTime,
    metadataSha256: null,
    version: '1.0',
  });
  const files = [
    file('2026-11-01T00:00:00Z'),
    file('2026-12-02T12:00:00Z'),
    file(null),
    file('garbage'),
  ];
  assert.equal(offeredFiles(files, 0, now).length, 4);
  assert.deepEqual(offeredFiles(files, 7 * 86400, now), [files[0]]);
  assert.deepEqual(offeredFiles(files, 3600, now), [files[0], files[1]]);
  // What is offered stays true until the next file comes of age (the cached page's lifetime).
  const day = 86400;
  const cases: [number, number][] = [
    [0, Infinity],
    [3600, Infinity],
    [day, Date.parse('2026-12-03T12:00:00Z')],
    [60 * day, Date.parse('2026-12-31T00:00:00Z')],
  ];
  for (const [minAge, expected] of cases) {
    assert.equal(offeredFilesChangeAt(files, minAge, now), expected, `min age ${minAge}`);
    if (expected !== Infinity) {
      const later = offeredFiles(files, minAge, expected).length;
      assert.equal(later, offeredFiles(files, minAge, now).length + 1);
      assert.equal(offeredFiles(files, minAge, expected - 1).length, later - 1);
    }
  }
});

test('a stored answer is served as it is while fresh, or always offline', () => {
  const now = 10 * PAGE_FRESH_MS;
  const cases: [boolean, number, boolean, boolean][] = [
    [true, now - PAGE_FRESH_MS + 1, false, true],
    [true, now - PAGE_FRESH_MS, false, false],
    [false, now - MISSING_FRESH_MS + 1, false, true],
    [false, now - MISSING_FRESH_MS, false, false],
    [true, 0, true, true],
    [false, 0, true, true],
  ];
  for (const [found, checkedAt, offline, expected] of cases)
    assert.equal(isServableAsStored(found, checkedAt, now, offline), expected);
});

test('HTML pages: links resolved against the page, entities decoded, the standard attributes read', () => {
  const html = Buffer.from(
    `<html><body>
    <a href="../../files/pkg-1.0-py3-none-any.whl#sha256=${H.toUpperCase()}" data-requires-python="&gt;=3.8" data-core-metadata="sha256=${M}" data-yanked="bad &amp; broken">pkg-1.0-py3-none-any.whl</a>
    <a href="/abs/pkg-1.1.tar.gz#sha256=${H}">pkg-1.1.tar.gz</a>
    <a href="pkg-1.2.tar.gz">pkg-1.2.tar.gz</a>
    <a href="pkg-1.0.egg#sha256=${H}">pkg-1.0.egg</a>
    </body></html>`,
  );
  const files = parseHtmlPage(html, 'http://idx.example/simple/pkg/');
  assert.equal(files.length, 2, 'no hash and not-a-distribution are not offered');
  assert.deepEqual(files[0], {
    filename: 'pkg-1.0-py3-none-any.whl',
    url: 'http://idx.example/files/pkg-1.0-py3-none-any.whl',
    sha256: H,
    requiresPython: '>=3.8',
    yanked: 'bad & broken',
    size: null,
    uploadTime: null,
    metadataSha256: M,
    version: '1.0',
  });
  assert.equal(files[1]!.url, 'http://idx.example/abs/pkg-1.1.tar.gz');
});

test('JSON pages: the PEP 691 fields, and the legacy metadata key', () => {
  const doc = {
    meta: { 'api-version': '1.1' },
    name: 'pkg',
    files: [
      {
        filename: 'pkg-1.0.tar.gz',
        url: 'https://files.example/p/pkg-1.0.tar.gz',
        hashes: { sha256: H, md5: 'x' },
        'requires-python': '>=3.9',
        yanked: true,
        size: 42,
        'upload-time': '2026-01-01T00:00:00Z',
        'data-dist-info-metadata': { sha256: M },
      },
      { filename: 'pkg-1.1.tar.gz', url: 'pkg-1.1.tar.gz', hashes: {} },
    ],
  };
  const files = parseJsonPage(Buffer.from(JSON.stringify(doc)), 'https://idx.example/simple/pkg/');
  assert.equal(files.length, 1);
  assert.equal(files[0]!.yanked, '');
  assert.equal(files[0]!.size, 42);
  assert.equal(files[0]!.metadataSha256, M);
  assert.equal(files[0]!.uploadTime, '2026-01-01T00:00:00Z');
});

test('malformed pages are refused whole, never half-read', () => {
  const garbage: [string, string | undefined, string][] = [
    ['{"files": [', 'application/vnd.pypi.simple.v1+json', 'truncated JSON'],
    ['{"projects": []}', 'application/vnd.pypi.simple.v1+json', 'no files list'],
    ['{"files": [{"filename": 1, "url": "x"}]}', 'application/json', 'mistyped filename'],
    [
      `{"files": [{"filename": "a-1.0.tar.gz", "url": "x", "hashes": {"sha256": "${H}"}, "size": -1}]}`,
      'application/json',
      'negative size',
    ],
    [`<a href="x#sha256=${H}">../evil-1.0.tar.gz</a>`, 'text/html', 'a path for a filename'],
    [`<a href="javascript:alert(1)#sha256=${H}">a-1.0.tar.gz</a>`, 'text/html', 'not http'],
    ['%PDF-1.4', 'application/pdf', 'another content type'],
  ];
  for (const [body, type, why] of garbage)
    assert.throws(
      () => parseProjectPage(Buffer.from(body), type, 'http://idx.example/simple/a/'),
      (err: unknown) => err instanceof UpstreamError && err.code === 'garbage',
      why,
    );
  // An HTTPS upstream never links a file over plain HTTP.
  assert.throws(
    () =>
      parseProjectPage(
        Buffer.from(`<a href="http://idx.example/a-1.0.tar.gz#sha256=${H}">a-1.0.tar.gz</a>`),
        'text/html',
        'https://idx.example/simple/a/',
      ),
    /downgrades/,
  );
});
