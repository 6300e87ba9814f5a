// The fault table (src/faults.ts): which errors are failures of what pier stands on, and which
// are not (bugs and bad input stay 500 / their own status).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultOf } from '../../src/faults.js';
import { PierError } from '../../src/errors.js';

const withCode = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(code), { code, ...extra });

const cases: [string, unknown, string | null][] = [
  ['ENOSPC on write', withCode('ENOSPC'), 'disk-full'],
  ['EDQUOT on write', withCode('EDQUOT'), 'disk-full'],
  [
    'S3 5xx',
    Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }),
    'storage-unavailable',
  ],
  ['S3 socket refused', withCode('ECONNREFUSED', { $metadata: {} }), 'storage-unavailable'],
  [
    'S3 404 is no fault',
    Object.assign(new Error('x'), { $metadata: { httpStatusCode: 404 } }),
    null,
  ],
  ['PostgreSQL admin shutdown', withCode('57P01'), 'database-unavailable'],
  ['PostgreSQL cannot connect now', withCode('57P03'), 'database-unavailable'],
  ['PostgreSQL connection exception', withCode('08006'), 'database-unavailable'],
  [
    'node-postgres cut session',
    new Error('Connection terminated unexpectedly'),
    'database-unavailable',
  ],
  ['bare refused connection', withCode('ECONNREFUSED'), 'service-unavailable'],
  ['wrapped in a cause', new Error('outer', { cause: withCode('ENOSPC') }), 'disk-full'],
  ['unique violation is no fault', withCode('23505'), null],
  ['a bug is no fault', new TypeError('x is undefined'), null],
  ['a PierError is its own answer', new PierError(400, 'bad'), null],
];

for (const [name, err, kind] of cases)
  test(name, () => assert.equal(faultOf(err)?.kind ?? null, kind));
