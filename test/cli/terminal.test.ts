// @backends: runs on the embedded default and on PostgreSQL with S3.
// Text that others chose never acts on the terminal `pier` prints to: names are refused with
// control characters in them, and free text (audit details, rows written before the rule) is
// printed with them escaped — by `pier token list`, `pier audit`, their --json forms and the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forTerminal, jsonForTerminal, terminalRow } from '../../src/cli/terminal.js';
import { recordAudit } from '../../src/audit/log.js';
import { OPERATOR, runPier, startServer } from '../support/server.js';

// ESC [2J clears the screen; CR rewrites the line; U+202E reverses what follows; U+009B is CSI.
const HOSTILE = 'ci\x1b[2J\rok\u202Eexe.\u009b31m\x7f\x00';
// PostgreSQL stores no NUL in text: what earlier rows may hold is the rest.
const STORED = HOSTILE.replace('\x00', '');
const RAW = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u;

test('forTerminal escapes every control character, and only those', () => {
  const rows: [string, string][] = [
    ['plain name_1.0', 'plain name_1.0'],
    ['café ✓ 日本', 'café ✓ 日本'],
    ['a\nb', 'a\\x0ab'],
    ['\x1b[31mred', '\\x1b[31mred'],
    ['tab\there', 'tab\\x09here'],
    ['\u009b', '\\x9b'],
    ['\x7f', '\\x7f'],
    ['\u202Eevil', '\\u{202e}evil'],
    ['\u2066\u2069\u200e\u061c', '\\u{2066}\\u{2069}\\u{200e}\\u{061c}'],
    ['back\\slash', 'back\\\\slash'], // so that an escape cannot be faked
  ];
  for (const [input, expected] of rows) assert.equal(forTerminal(input), expected, input);
  assert.equal(terminalRow([1, 'a\tb', null]), '1\ta\\x09b\t');
  for (const indent of [undefined, 2]) {
    const json = jsonForTerminal([{ name: HOSTILE }], indent);
    assert.doesNotMatch(json.replaceAll('\n', ' '), RAW);
    assert.deepEqual(JSON.parse(json), [{ name: HOSTILE }], 'the same JSON value');
  }
});

test('token names with control characters are refused; stored text is printed escaped', async () => {
  const server = await startServer();
  try {
    const s = server.services;
    const admin = await server.userWithToken('root', { admin: true, scope: 'admin' });
    const before = await s.db.kysely.selectFrom('tokens').select('id').execute();
    const res = await fetch(`${server.url}/api/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: HOSTILE, scope: 'read' }),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Token names cannot contain control characters/);
    assert.deepEqual(await s.db.kysely.selectFrom('tokens').select('id').execute(), before);
    for (const name of ['a\u202Eb', 'x\u009by', 'tab\there'])
      await assert.rejects(
        s.auth.createToken(OPERATOR, { username: 'root', name, scope: 'read' }),
        /control characters/,
        JSON.stringify(name),
      );

    // Rows written before the rule, and free text in the audit log.
    const created = await s.auth.createToken(OPERATOR, {
      username: 'root',
      name: 'ci',
      scope: 'read',
    });
    await s.db.kysely
      .updateTable('tokens')
      .set({ name: STORED })
      .where('id', '=', created.id)
      .execute();
    await recordAudit(s.db.kysely, OPERATOR, { action: 'test', details: { note: STORED } });
    await recordAudit(s.db.kysely, { ...OPERATOR, name: STORED }, { action: 'test', details: {} });
    const env = server.env();
    for (const args of [
      ['token', 'list'],
      ['token', 'list', '--json'],
      ['audit'],
      ['audit', '--json'],
    ]) {
      const r = await runPier(args, env);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      for (const line of lines)
        assert.doesNotMatch(line.replaceAll('\t', ' '), RAW, args.join(' '));
      assert.ok(
        r.stdout.includes('ci\\x1b[2J\\x0dok\\u{202e}exe.\\x9b31m\\x7f') ||
          r.stdout.includes('ci\\u001b[2J\\rok\\u202eexe.\\u009b31m\\u007f'),
        `${args.join(' ')} shows the text escaped:\n${r.stdout}`,
      );
    }
  } finally {
    await server.close();
  }
});
