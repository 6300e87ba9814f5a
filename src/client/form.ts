// The legacy upload request, as twine sends it: `multipart/form-data` with every core metadata
// field the file has (under the form names Warehouse reads), then name, pyversion, filetype, the
// digests, `:action` and `protocol_version`, and the file itself last as `content`. The body is
// streamed from disk with its exact length known beforehand.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { RawMetadata } from '../packaging/core-metadata.js';
import type { FileHashes } from './hashes.js';
import type { RequestBody } from './http.js';
import type { CheckedDistribution } from './inspect.js';

/** Core metadata field -> the form field Warehouse (and pier) read it from. */
export const FORM_FIELD_OF: Readonly<Record<string, string>> = {
  'metadata-version': 'metadata_version',
  name: 'name',
  version: 'version',
  platform: 'platform',
  'supported-platform': 'supported_platform',
  summary: 'summary',
  description: 'description',
  'description-content-type': 'description_content_type',
  keywords: 'keywords',
  'home-page': 'home_page',
  'download-url': 'download_url',
  author: 'author',
  'author-email': 'author_email',
  maintainer: 'maintainer',
  'maintainer-email': 'maintainer_email',
  license: 'license',
  'license-expression': 'license_expression',
  'license-file': 'license_file',
  classifier: 'classifiers',
  'requires-dist': 'requires_dist',
  'provides-dist': 'provides_dist',
  'obsoletes-dist': 'obsoletes_dist',
  'requires-python': 'requires_python',
  'requires-external': 'requires_external',
  'project-url': 'project_urls',
  'provides-extra': 'provides_extra',
  dynamic: 'dynamic',
  requires: 'requires',
  provides: 'provides',
  obsoletes: 'obsoletes',
  'import-name': 'import_name',
  'import-namespace': 'import_namespace',
};

/** twine's `safe_name`: runs of characters other than letters, digits and `.` become `-`. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9.]+/g, '-');
}

/** The form's text fields, in order (the file part `content` follows them). */
export function formFields(d: CheckedDistribution, hashes: FileHashes): [string, string][] {
  const metadata: RawMetadata = d.metadata;
  const first = ['metadata-version', 'name', 'version'];
  const fields: [string, string][] = [
    ['metadata_version', String(metadata['metadata-version'] ?? '')],
    ['name', safeName(d.name)],
    ['version', d.version],
  ];
  for (const [field, value] of Object.entries(metadata)) {
    const name = FORM_FIELD_OF[field];
    if (name === undefined || first.includes(field)) continue;
    for (const v of Array.isArray(value) ? value : [value]) fields.push([name, v]);
  }
  fields.push(
    ['pyversion', d.pyversion],
    ['filetype', d.filetype],
    ['sha256_digest', hashes.sha256],
    ...(hashes.blake2_256 === undefined
      ? []
      : [['blake2_256_digest', hashes.blake2_256] as [string, string]]),
    [':action', 'file_upload'],
    ['protocol_version', '1'],
  );
  return fields;
}

/** A header parameter value in quotes (RFC 7578: `"` and line breaks percent-encoded). */
function quoted(value: string): string {
  return `"${value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

export interface MultipartUpload {
  contentType: string;
  body: RequestBody;
}

/**
 * The multipart body: the fields, then the file as `content` — its `bytes` when the client
 * holds them (the very bytes it checked and hashed), else read from `path` (`size` bytes).
 */
export function multipartUpload(
  fields: readonly [string, string][],
  file: { path: string; filename: string; size: number; bytes?: Buffer | null },
  boundary = randomBytes(16).toString('hex'),
): MultipartUpload {
  const parts: Buffer[] = [];
  for (const [name, value] of fields)
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(name)}\r\n\r\n${value}\r\n`,
        'utf8',
      ),
    );
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename=${quoted(file.filename)}\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
      'utf8',
    ),
  );
  const head = Buffer.concat(parts);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  const { bytes } = file;
  const size = bytes ? bytes.length : file.size;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: {
      length: head.length + size + tail.length,
      chunks: bytes
        ? function* () {
            yield head;
            yield bytes;
            yield tail;
          }
        : async function* () {
            yield head;
            let read = 0;
            for await (const chunk of createReadStream(file.path, { highWaterMark: 256 * 1024 })) {
              const buf = chunk as Buffer;
              read += buf.length;
              if (read > file.size)
                throw new Error(`${file.path} grew while it was being uploaded`);
              yield buf;
            }
            if (read !== file.size)
              throw new Error(`${file.path} changed while it was being uploaded`);
            yield tail;
          },
    },
  };
}
