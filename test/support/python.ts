// Real Python clients: Debian's twine and a venv's pip.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './tmp.js';

const run = promisify(execFile);
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const TWINE = '/usr/bin/twine';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export async function exec(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  /** Variables of this process's environment the command must not see. */
  drop?: RegExp,
): Promise<Result> {
  const inherited = drop
    ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !drop.test(k)))
    : process.env;
  try {
    const { stdout, stderr } = await run(cmd, args, {
      env: { ...inherited, ...env },
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

export function twineUpload(
  url: string,
  files: string[],
  auth: { username: string; password: string },
  extra: string[] = [],
): Promise<Result> {
  return exec(
    TWINE,
    [
      'upload',
      '--repository-url',
      `${url}/legacy/`,
      '--non-interactive',
      '--disable-progress-bar',
      ...extra,
      ...files,
    ],
    {
      TWINE_USERNAME: auth.username,
      // Only the CA a test names (--cert) is trusted; this machine points requests at its own bundle.
      REQUESTS_CA_BUNDLE: '',
      CURL_CA_BUNDLE: '',
      // One line per message and no colour, so tests can read what twine says.
      COLUMNS: '500',
      NO_COLOR: '1',
      TWINE_PASSWORD: auth.password,
      // twine must never read the developer's ~/.pypirc or keyring.
      HOME: tempDir('pier-home-'),
      PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
    },
  );
}

/** A fresh venv (with pip) for installing into. */
export async function createVenv(): Promise<{ dir: string; python: string; pip: string }> {
  const dir = join(tempDir('pier-venv-'), 'venv');
  const r = await exec(SYSTEM_PYTHON, ['-m', 'venv', dir]);
  if (r.code !== 0) throw new Error(`venv failed: ${r.stderr}`);
  return { dir, python: join(dir, 'bin', 'python'), pip: join(dir, 'bin', 'pip') };
}

export function pipInstall(
  venv: { pip: string },
  indexUrl: string,
  requirements: string[],
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Result> {
  return exec(
    venv.pip,
    // --isolated: no pip.conf, no PIP_* variables of the machine (this one sets PIP_FIND_LINKS).
    [
      '--isolated',
      'install',
      '--no-cache-dir',
      '--disable-pip-version-check',
      '--index-url',
      indexUrl,
      ...extra,
      ...requirements,
    ],
    { HOME: tempDir('pier-home-'), REQUESTS_CA_BUNDLE: '', CURL_CA_BUNDLE: '', ...env },
  );
}

/**
 * Upload files with twine as `__token__` with an upload token (a minted one, say), check that
 * twine succeeded and that the index then has `project`; its JSON API document is returned.
 */
export async function twineUploadsWith(
  url: string,
  token: string,
  files: string[],
  project: string,
): Promise<{ info: { name: string; version: string } }> {
  const up = await twineUpload(url, files, { username: '__token__', password: token });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const doc = (await (await fetch(`${url}/pypi/${project}/json`)).json()) as {
    info: { name: string; version: string };
  };
  assert.equal(doc.info.name, project);
  return doc;
}
