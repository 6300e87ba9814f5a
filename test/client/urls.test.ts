// URL rules: HTTPS except loopback, the trusted-publishing base, and the Simple index that
// belongs to an upload URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isLoopbackHost,
  oidcBaseUrl,
  projectPageUrl,
  secureUrl,
  simpleIndexUrl,
} from '../../src/client/urls.js';

test('loopback hosts', () => {
  for (const host of [
    '127.0.0.1',
    '127.1.2.3',
    '[::1]',
    '::1',
    'localhost',
    'LOCALHOST',
    'a.localhost',
    '[::ffff:127.0.0.1]',
  ])
    assert.equal(isLoopbackHost(host), true, host);
  for (const host of [
    '128.0.0.1',
    '10.0.0.1',
    'example.com',
    '[::2]',
    'localhost.example.com',
    '0.0.0.0',
  ])
    assert.equal(isLoopbackHost(host), false, host);
});

test('HTTPS always; plain HTTP only to a loopback address', () => {
  for (const ok of [
    'https://upload.pypi.org/legacy/',
    'https://pypi.example.com:8443/legacy/',
    'http://127.0.0.1:8080/legacy/',
    'http://localhost/legacy/',
    'http://[::1]:8080/legacy/',
  ])
    assert.equal(secureUrl(ok, 'URL').href, ok);
  const refused: [string, RegExp][] = [
    ['http://pypi.example.com/legacy/', /plain HTTP: tokens and packages are sent only over HTTPS/],
    ['http://10.0.0.5/legacy/', /plain HTTP/],
    ['ftp://x/legacy/', /not an http\(s\) URL/],
    ['pypi.example.com/legacy/', /is not a URL/],
    ['https://u:p@pypi.example.com/legacy/', /must not contain credentials/],
  ];
  for (const [url, message] of refused) assert.throws(() => secureUrl(url, 'URL'), message, url);
});

test('the trusted-publishing endpoints live at the root of the upload host', () => {
  const cases: [string, string][] = [
    ['https://upload.pypi.org/legacy/', 'https://upload.pypi.org'],
    ['https://pypi.example.com:8443/some/path/legacy/', 'https://pypi.example.com:8443'],
    ['http://127.0.0.1:8080/legacy/', 'http://127.0.0.1:8080'],
  ];
  for (const [upload, base] of cases) assert.equal(oidcBaseUrl(new URL(upload)), base);
});

test('the Simple index of an upload URL', () => {
  const cases: [string, string][] = [
    ['https://upload.pypi.org/legacy/', 'https://pypi.org/simple/'],
    ['https://test.pypi.org/legacy/', 'https://test.pypi.org/simple/'],
    ['https://pypi.example.com/legacy/', 'https://pypi.example.com/simple/'],
    ['https://pypi.example.com/legacy', 'https://pypi.example.com/simple/'],
    ['https://example.com/pier/legacy/', 'https://example.com/pier/simple/'],
    ['https://example.com:8443/upload/', 'https://example.com:8443/simple/'],
    ['http://127.0.0.1:8080/legacy/?x=1', 'http://127.0.0.1:8080/simple/'],
  ];
  for (const [upload, index] of cases) assert.equal(simpleIndexUrl(new URL(upload)), index, upload);
  assert.equal(projectPageUrl('https://x/simple/', 'Pier_Sample'), 'https://x/simple/pier-sample/');
  assert.equal(projectPageUrl('https://x/simple', 'a.b'), 'https://x/simple/a-b/');
});
