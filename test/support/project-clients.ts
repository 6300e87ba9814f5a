// Real project managers installing a project's dependencies from one index: Debian's poetry
// (1.3) and pdm (2.2), each isolated from this machine's settings — their configuration, cache
// and data under a temporary HOME, no keyring, the index given as the only source, and every
// request to another host sent to a proxy that does not exist, so nothing reaches the network.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec, type Result } from './python.js';
import { tempDir } from './tmp.js';

export type ProjectClient = 'poetry' | 'pdm';

/** The environment of one run: a fresh HOME (and XDG folders) each time, so no cache is reused. */
function isolated(): Record<string, string> {
  const home = tempDir('pier-home-');
  const xdg = (sub: string) => {
    const dir = join(home, sub);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  return {
    HOME: home,
    XDG_CONFIG_HOME: xdg('.config'),
    XDG_CACHE_HOME: xdg('.cache'),
    XDG_DATA_HOME: xdg('.local/share'),
    PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    REQUESTS_CA_BUNDLE: '',
    CURL_CA_BUNDLE: '',
    // Loopback is reached directly; any other host would go through a proxy that is not there.
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    http_proxy: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    NO_COLOR: '1',
    COLUMNS: '500',
    POETRY_VIRTUALENVS_IN_PROJECT: 'true',
    POETRY_NO_INTERACTION: '1',
    POETRY_CACHE_DIR: xdg('poetry-cache'),
    PDM_CHECK_UPDATE: 'false',
    PDM_CACHE_DIR: xdg('pdm-cache'),
    PDM_IGNORE_SAVED_PYTHON: '1',
    PDM_USE_VENV: 'true',
    PDM_VENV_IN_PROJECT: 'true',
  };
}

/**
 * A project folder requiring `requirement`, with `indexUrl` as its only source, written as
 * docs/proxy.md tells users to configure each client.
 */
export function projectRequiring(
  client: ProjectClient,
  requirement: { name: string; version: string },
  indexUrl: string,
): string {
  const dir = tempDir(`pier-${client}-project-`);
  const pyproject =
    client === 'poetry'
      ? `[tool.poetry]
name = "consumer"
version = "0.1.0"
description = ""
authors = ["Consumer <consumer@example.com>"]

[tool.poetry.dependencies]
python = "^3.8"
${requirement.name} = "${requirement.version}"

# The only source: PyPI is not asked (poetry >= 1.5: priority = "primary").
[[tool.poetry.source]]
name = "pier"
url = "${indexUrl}"
default = true
`
      : `[project]
name = "consumer"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["${requirement.name}==${requirement.version}"]

# Named "pypi", this source replaces PyPI: it is the only one.
[[tool.pdm.source]]
name = "pypi"
url = "${indexUrl}"
verify_ssl = true
`;
  writeFileSync(join(dir, 'pyproject.toml'), pyproject);
  return dir;
}

/** Resolves (locking on the first run) and installs the project's dependencies into its .venv. */
export function installProject(client: ProjectClient, dir: string): Promise<Result> {
  const args =
    client === 'poetry'
      ? ['install', '--no-root', '--no-interaction']
      : ['install', '--no-self', '--no-editable'];
  // None of this machine's PIP_* settings (it sets PIP_FIND_LINKS) reach the venv's pip.
  return exec(`/usr/bin/${client}`, args, isolated(), dir, /^PIP_|^(POETRY|PDM)_/);
}

/** The project's venv's python. */
export function projectPython(dir: string): string {
  return join(dir, '.venv', 'bin', 'python');
}
