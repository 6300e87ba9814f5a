// `pier publish --json`: the outcome as one JSON document, for scripts — each file's status,
// size, digests and download URL, the upload URL and where it came from, how the client
// authenticated, and the error (null on success). Property names are snake_case, as in
// PyPI's JSON APIs.
import type { PublishError } from './errors.js';
import type { PublishResult } from './publish.js';

export interface JsonFile {
  filename: string;
  status: string;
  path?: string;
  project?: string;
  version?: string;
  size?: number;
  reason?: string;
  url?: string | null;
  /** The attestation files sent with it. */
  attestations?: string[];
  hashes?: { sha256: string; md5: string | null; blake2_256: string | null };
}

export interface JsonReport {
  repository_url: string;
  repository_source: string;
  authentication: PublishResult['authentication'] | null;
  files: JsonFile[];
  error: { code: string; message: string; hints: string[] } | null;
}

export function jsonReport(
  repository: { url: string; source: string },
  outcome: { result: PublishResult } | { error: PublishError },
): JsonReport {
  if ('error' in outcome) {
    const { error } = outcome;
    return {
      repository_url: repository.url,
      repository_source: repository.source,
      authentication: null,
      files: error.done.map((d) => ({ filename: d.filename, status: d.status })),
      error: { code: error.code, message: error.message, hints: [...error.hints] },
    };
  }
  const { result } = outcome;
  return {
    repository_url: result.repositoryUrl,
    repository_source: repository.source,
    authentication: result.authentication,
    files: result.files.map((f) => ({
      filename: f.filename,
      status: f.status,
      path: f.path,
      project: f.project,
      version: f.version,
      size: f.size,
      ...(f.reason === undefined ? {} : { reason: f.reason }),
      url: f.url ?? null,
      ...(f.attestations === undefined ? {} : { attestations: f.attestations }),
      hashes: {
        sha256: f.hashes.sha256,
        md5: f.hashes.md5 ?? null,
        blake2_256: f.hashes.blake2_256 ?? null,
      },
    })),
    error: null,
  };
}
