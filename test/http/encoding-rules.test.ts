// The content-coding rules of src/http/encoding.ts as tables (RFC 9110 §12.5.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CompressedBodies,
  codedEtag,
  negotiateEncoding,
  parseAcceptEncoding,
  selectEncoding,
} from '../../src/http/encoding.js';

test('Accept-Encoding selects a coding by q-value, * and identity as RFC 9110 says', () => {
  const cases: [string | undefined, string | null][] = [
    [undefined, 'identity'], // no header: the body as it is
    ['', 'identity'], // an empty header: identity only
    ['identity', 'identity'],
    ['gzip', 'gzip'],
    ['GZIP', 'gzip'], // codings are case-insensitive
    ['x-gzip', 'gzip'], // §8.4.1.3
    ['br', 'br'],
    ['deflate', 'identity'], // not offered, identity acceptable
    ['zstd', 'identity'], // not offered on Node 20
    ['gzip, deflate', 'gzip'],
    ['gzip, br', 'br'], // equal q: pier's order
    ['br;q=0.5, gzip', 'gzip'],
    ['gzip;q=0.5, br;q=0.8', 'br'],
    ['gzip;q=0', 'identity'],
    ['gzip;q=0, br;q=0', 'identity'],
    ['*', 'br'],
    ['*;q=0.5, gzip', 'gzip'],
    ['*, br;q=0', 'gzip'],
    ['identity;q=0', null], // nothing acceptable: 406
    ['*;q=0', null],
    ['*;q=0, identity', 'identity'],
    ['*;q=0, gzip', 'gzip'],
    ['identity;q=0, gzip', 'gzip'],
    ['identity, gzip;q=0.5', 'identity'], // an explicitly higher identity wins
    ['identity;q=0.5, gzip;q=0.5', 'gzip'],
    ['gzip;q=2', 'identity'], // does not parse: ignored
    ['gzip;q=', 'identity'],
    ['gz ip', 'identity'],
    ['gzip;level=9', 'gzip'], // other parameters are ignored
    [' , gzip ,', 'gzip'],
  ];
  for (const [header, expected] of cases) {
    assert.equal(negotiateEncoding(header), expected, `Accept-Encoding: ${header}`);
    // Twice through the memo: a remembered answer never outlives its header.
    assert.equal(selectEncoding(header), expected, `Accept-Encoding: ${header} (memo)`);
    assert.equal(selectEncoding(header), expected, `Accept-Encoding: ${header} (memo)`);
  }
});

test('q-values parse per RFC 9110 §12.4.2, a repeated coding keeps its highest', () => {
  assert.deepEqual(
    [...parseAcceptEncoding('gzip;q=0.001, br; Q=1.000, gzip;q=0.5')!],
    [
      ['gzip', 0.5],
      ['br', 1],
    ],
  );
  for (const bad of ['gzip;q=1.5', 'gzip;q=0.0001', 'gzip;q=abc', 'a/b'])
    assert.equal(parseAcceptEncoding(bad), null, bad);
});

test('each coding has its own ETag, derived from the body’s', () => {
  assert.equal(codedEtag('"abc"', 'identity'), '"abc"');
  assert.equal(codedEtag('"abc"', 'gzip'), '"abc-gzip"');
  assert.equal(codedEtag('"abc"', 'br'), '"abc-br"');
  assert.equal(codedEtag('W/"abc"', 'gzip'), 'W/"abc-gzip"');
});

test('compressed bodies are bounded by size, least recently used out first', async () => {
  const cache = new CompressedBodies(2000);
  // Random bytes do not shrink: each gzip body is a little over 800 bytes, two fit, not three.
  const bodies = [randomBytes(800), randomBytes(800), randomBytes(800), randomBytes(800)];
  const body = (i: number) => bodies[i]!;
  const a = await cache.get('"a"', body(1), 'gzip');
  await cache.get('"b"', body(2), 'gzip');
  assert.equal(cache.size, 2);
  assert.ok(cache.get('"a"', body(1), 'gzip') === a, 'a lookup, not a compression');
  await cache.get('"c"', body(3), 'gzip'); // evicts b, the least recently used
  assert.equal(cache.size, 2);
  const before = cache.compressions;
  assert.ok(!(cache.get('"a"', body(1), 'gzip') instanceof Promise));
  assert.ok(cache.get('"b"', body(2), 'gzip') instanceof Promise);
  assert.equal(cache.compressions, before + 1);
});
