// What docs/clients.md says was verified here: Debian's twine 4.0.2 refuses wheels of
// Metadata-Version 2.3 and 2.4 before sending anything, `pier publish` uploads them, and
// Debian's pip (23.0) installs a 2.4 wheel from the JSON Simple API (whole, without the PEP 658
// file, whose JSON key it does not know) and reads the .metadata file from /simple/v1+html/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWheel, metadataFromFields } from '../support/dists.js';
import { createVenv, pipInstall, twineUpload } from '../support/python.js';
import { startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { runPublish } from '../client/processes.js';

let server: TestServer;
let token: string;

before(async () => {
  server = await startServer();
  token = await server.userWithToken('maintainer', { mayCreateProjects: true });
});

after(async () => {
  await server?.close();
});

async function wheel(name: string, metadataVersion: string): Promise<string> {
  const fields: Record<string, string> = {
    'Metadata-Version': metadataVersion,
    Name: name,
    Version: '1.0.0',
    Summary: 'a wheel of a newer metadata version',
  };
  if (metadataVersion >= '2.4') fields['License-Expression'] = 'MIT';
  const made = await makeWheel({ name, metadata: metadataFromFields(fields) });
  const path = join(tempDir('pier-clients-'), made.filename);
  writeFileSync(path, made.content);
  return path;
}

test('twine 4.0.2 refuses Metadata-Version 2.3 and 2.4 before sending; pier publish uploads them', async () => {
  const auth = { username: '__token__', password: token };
  const older = await twineUpload(server.url, [await wheel('meta-two-two', '2.2')], auth);
  assert.equal(older.code, 0, older.stdout + older.stderr);
  for (const [name, version] of [
    ['meta-two-three', '2.3'],
    ['meta-two-four', '2.4'],
  ] as const) {
    const path = await wheel(name, version);
    const refused = await twineUpload(server.url, [path], auth);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stdout + refused.stderr,
      /InvalidDistribution: Metadata is missing required fields: Name, Version[\s\S]*supported Metadata-Version: 1\.0, 1\.1, 1\.2, 2\.0, 2\.1, 2\.2/,
    );
    const listed = await fetch(`${server.url}/simple/${name}/`);
    assert.equal(listed.status, 404, 'twine sent nothing');
    const r = await runPublish(['--repository-url', `${server.url}/legacy/`, path], {
      PIER_TOKEN: token,
    });
    assert.equal(r.code, 0, r.stderr);
  }
});

test('Debian’s pip installs a 2.4 wheel: whole from the JSON pages, with its .metadata from /simple/v1+html/', async () => {
  const venv = await createVenv();
  const json = await pipInstall(venv, `${server.url}/simple/`, ['meta-two-four'], ['-v']);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  assert.match(json.stdout, /Successfully installed meta-two-four-1\.0\.0/);
  assert.doesNotMatch(json.stdout, /\.whl\.metadata/);
  const html = await pipInstall(
    venv,
    `${server.url}/simple/v1+html/`,
    ['--force-reinstall', 'meta-two-three'],
    ['-v'],
  );
  assert.equal(html.code, 0, html.stdout + html.stderr);
  assert.match(html.stdout, /meta_two_three-1\.0\.0-py3-none-any\.whl\.metadata/);
});
