// --skip-existing: reading the project's Simple page (JSON or HTML) and twine's test of an
// upload answer that means "already exists".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExistingFiles, isAlreadyExists, parseSimplePage } from '../../src/client/existing.js';
import { DEFAULT_RETRY } from '../../src/client/retry.js';
import { cannedServer, json, response } from './support.js';

const SHA = 'ab'.repeat(32);

test('Simple pages: JSON (PEP 691) and HTML (PEP 503)', () => {
  const fromJson = parseSimplePage(
    response(
      200,
      {
        files: [
          { filename: 'p-1.tar.gz', hashes: { sha256: SHA } },
          { filename: 'p-1-py3-none-any.whl', hashes: {} },
        ],
      },
      { 'content-type': 'application/vnd.pypi.simple.v1+json' },
    ),
  );
  assert.deepEqual(
    [...fromJson],
    [
      ['p-1.tar.gz', SHA],
      ['p-1-py3-none-any.whl', null],
    ],
  );
  const fromHtml = parseSimplePage(
    response(
      200,
      `<html><body><a href="/files/p-1.tar.gz#sha256=${SHA.toUpperCase()}" data-requires-python="&gt;=3.8">p-1.tar.gz</a><br />\n<a href="x/p_q-1.whl">p_q-1.whl</a></body></html>`,
      { 'content-type': 'text/html; charset=utf-8' },
    ),
  );
  assert.deepEqual(
    [...fromHtml],
    [
      ['p-1.tar.gz', SHA],
      ['p_q-1.whl', null],
    ],
  );
});

test('what counts as "already exists" (twine’s rule)', () => {
  const cases: [number, string, string, boolean][] = [
    [409, 'Conflict', '', true],
    [400, "File already exists ('p-1.tar.gz', with blake2_256 hash 'x')", '', true],
    [400, 'Bad Request', 'This file already exists.', true],
    [400, 'Bad Request', 'Invalid version', false],
    [403, 'Forbidden', 'already exists', false],
    [200, 'OK', '', false],
  ];
  for (const [status, text, body, exists] of cases)
    assert.equal(isAlreadyExists(response(status, body, {}, text)), exists, `${status} ${text}`);
});

test('the page is read once per project; 404 means nothing exists; errors are "unknown"', async () => {
  const server = await cannedServer((req, res) => {
    if (req.path === '/simple/pier-sample/')
      return json(res, 200, {
        files: [{ filename: 'pier_sample-1.0.tar.gz', hashes: { sha256: SHA } }],
      });
    if (req.path === '/simple/broken/') return json(res, 403, { message: 'no' }, 'Forbidden');
    json(res, 404, { message: 'Not Found' });
  });
  try {
    const files = new ExistingFiles(
      `${server.url}/simple/`,
      () => ({ authorization: 'Basic eA==' }),
      { ...DEFAULT_RETRY, attempts: 1 },
      () => undefined,
    );
    assert.deepEqual(await files.lookup('Pier_Sample', 'pier_sample-1.0.tar.gz', SHA), {
      state: 'same',
    });
    assert.deepEqual(await files.lookup('pier-sample', 'pier_sample-1.0.tar.gz', 'ff'.repeat(32)), {
      state: 'different',
      indexSha256: SHA,
    });
    assert.deepEqual(await files.lookup('pier-sample', 'pier_sample-2.0.tar.gz', SHA), {
      state: 'absent',
    });
    assert.deepEqual(await files.lookup('new-project', 'new_project-1.tar.gz', SHA), {
      state: 'absent',
    });
    const broken = await files.lookup('broken', 'broken-1.tar.gz', SHA);
    assert.equal(broken.state, 'unknown');
    assert.equal(server.requests.filter((r) => r.path === '/simple/pier-sample/').length, 1);
    assert.equal(server.requests[0]!.headers.authorization, 'Basic eA==');
    assert.match(
      String(server.requests[0]!.headers.accept),
      /application\/vnd\.pypi\.simple\.v1\+json/,
    );
  } finally {
    await server.close();
  }
});
