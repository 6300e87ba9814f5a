// Raw legacy uploads, built by hand so that tests control every field, part and byte.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createBLAKE2b } from 'hash-wasm';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { makeWheel } from './dists.js';

export type Part =
  | [name: string, value: string]
  | [name: string, file: { filename: string; content: Buffer; contentType?: string | null }];

export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----pier${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"`;
    if (typeof value === 'string') {
      chunks.push(Buffer.from(`${head}\r\n\r\n`), Buffer.from(value, 'utf8'), Buffer.from('\r\n'));
    } else {
      head += `; filename="${value.filename}"\r\n`;
      if (value.contentType !== null)
        head += `Content-Type: ${value.contentType ?? 'application/octet-stream'}\r\n`;
      chunks.push(Buffer.from(`${head}\r\n`), value.content, Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function blake2(data: Buffer): Promise<string> {
  const h = await createBLAKE2b(256);
  h.init();
  h.update(data);
  return h.digest('hex');
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
export const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

export interface UploadSpec {
  path?: string;
  filename?: string;
  content?: Buffer;
  fields?: Record<string, string | string[] | null>;
  omit?: string[];
  contentType?: string | null;
}

/** The fields twine would send for a pier-sample distribution, with digests of its bytes. */
export async function uploadParts(spec: UploadSpec): Promise<Part[]> {
  const content = spec.content ?? readFileSync(spec.path!);
  const filename = spec.filename ?? basename(spec.path!);
  const isWheel = filename.endsWith('.whl');
  const base: Record<string, string | string[] | null> = {
    name: 'pier-sample',
    version: '1.0.0',
    filetype: isWheel ? 'bdist_wheel' : 'sdist',
    pyversion: isWheel ? 'py3' : 'source',
    metadata_version: '2.1',
    summary: "A sample project for pier's tests",
    sha256_digest: sha256(content),
    blake2_256_digest: await blake2(content),
    md5_digest: md5(content),
    requires_python: '>=3.8',
    ':action': 'file_upload',
    protocol_version: '1',
    ...spec.fields,
  };
  const parts: Part[] = [];
  for (const [k, v] of Object.entries(base)) {
    if (v === null || spec.omit?.includes(k)) continue;
    for (const value of Array.isArray(v) ? v : [v]) parts.push([k, value]);
  }
  parts.push(['content', { filename, content, contentType: spec.contentType }]);
  return parts;
}

export interface UploadResponse {
  status: number;
  statusText: string;
  body: string;
}

export async function postUpload(
  url: string,
  token: string | null,
  parts: Part[],
  headers: Record<string, string> = {},
  path = '/legacy/',
): Promise<UploadResponse> {
  const { body, contentType } = multipart(parts);
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': contentType,
      ...(token
        ? { authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}` }
        : {}),
      ...headers,
    },
  });
  return { status: res.status, statusText: res.statusText, body: await res.text() };
}

export type UploadOutcome = { status: number } | { error: string };

/**
 * An upload to `uploadUrl` (the /legacy/ URL, with a query if the caller wants to find it in a
 * log) on a connection of its own, that sends half of its body, then the rest once `gate` opens:
 * an upload in flight when the server is told to stop.
 */
export function slowUpload(
  uploadUrl: string,
  token: string,
  body: Buffer,
  type: string,
  gate: Promise<void>,
): Promise<UploadOutcome> {
  return new Promise<UploadOutcome>((resolve) => {
    const req = request(uploadUrl, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': type,
        'content-length': body.length,
        authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
    });
    req.on('error', (err) =>
      resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    const half = Math.floor(body.length / 2);
    req.write(body.subarray(0, half));
    void gate.then(() => req.end(body.subarray(half)));
  });
}

/**
 * Upload a fresh wheel of `name` `version` with an upload token (a minted one, say) and check
 * that the index then lists that version in its JSON API.
 */
export async function uploadWheelWith(
  serverUrl: string,
  token: string,
  name: string,
  version: string,
): Promise<void> {
  const wheel = await makeWheel({ name, version });
  const up = await postUpload(
    serverUrl,
    token,
    await uploadParts({ ...wheel, fields: { name, version } }),
  );
  assert.equal(up.status, 200, up.body);
  const doc = (await (await fetch(`${serverUrl}/pypi/${name}/json`)).json()) as {
    info: { version: string };
  };
  assert.equal(doc.info.version, version);
}
