// Where `pier publish` uploads, and with which configured credential, in twine's order:
// --repository-url, then the environment (PIER_REPOSITORY_URL, then twine's
// TWINE_REPOSITORY_URL), then the repository named by --repository (or PIER_REPOSITORY, then
// TWINE_REPOSITORY; default `pypi`) in the .pypirc file. A URL given directly takes nothing
// from .pypirc, as in twine; a repository from .pypirc brings its username and password, which
// rank below every credential given by flag or environment (see credentials.ts).
import { pypircRepository } from './pypirc.js';

export interface RepositoryInputs {
  /** --repository-url */
  repositoryUrl?: string;
  /** --repository / -r */
  repository?: string;
}

export interface ConfiguredCredentials {
  username?: string;
  password: string;
  /** For messages: `[internal] in ~/.pypirc`. */
  source: string;
}

export interface ResolvedRepository {
  url: string;
  /** Where the URL came from: `--repository-url`, `PIER_REPOSITORY_URL`, `[NAME] in PATH`. */
  source: string;
  /** The .pypirc section's password (and username), when it has one. */
  credentials?: ConfiguredCredentials;
}

/** The .pypirc file: its path as shown to the user, and its text (null: no such file). */
export interface PypircSource {
  path: string;
  read(): string | null;
}

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

export function resolveRepository(
  inputs: RepositoryInputs,
  env: Readonly<Record<string, string | undefined>>,
  pypirc: PypircSource,
): ResolvedRepository {
  if (given(inputs.repositoryUrl))
    return { url: inputs.repositoryUrl.trim(), source: '--repository-url' };
  for (const name of ['PIER_REPOSITORY_URL', 'TWINE_REPOSITORY_URL'] as const) {
    const value = env[name];
    if (given(value)) return { url: value.trim(), source: name };
  }
  const name = [inputs.repository, env.PIER_REPOSITORY, env.TWINE_REPOSITORY].find(given)?.trim();
  // The file is read only when it is consulted: a URL given directly never depends on it.
  const found = pypircRepository(pypirc.read(), pypirc.path, name ?? 'pypi');
  const source = `[${name ?? 'pypi'}] in ${pypirc.path}`;
  return {
    url: found.repository,
    source,
    ...(given(found.password)
      ? {
          credentials: {
            ...(given(found.username) ? { username: found.username } : {}),
            password: found.password,
            source,
          },
        }
      : {}),
  };
}
