// Reading an upstream's project page: PEP 691 JSON or PEP 503 HTML, into UpstreamFile[]. Links
// are resolved against the page's own URL (static indexes use relative links); anything that does
// not have the standard's shape is refused as a whole, so a broken page is never cached.
import { Parser } from 'htmlparser2';
import { SHA256_RE, UpstreamError, versionOfFilename, type UpstreamFile } from './model.js';

const garbage = (why: string) =>
  new UpstreamError('garbage', `the upstream sent a malformed page: ${why}`);

function absolute(href: string, pageUrl: string): URL {
  let url: URL;
  try {
    url = new URL(href, pageUrl);
  } catch {
    throw garbage(`a link is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw garbage(`a link is not http(s)`);
  // An HTTPS upstream never sends its files over plain HTTP.
  if (new URL(pageUrl).protocol === 'https:' && url.protocol !== 'https:')
    throw garbage(`a link downgrades to plain HTTP`);
  return url;
}

/** The file row, or null when pier cannot offer it (no usable sha256, not a wheel or sdist). */
function fileOf(
  raw: {
    filename: string;
    href: string;
    sha256: string | null;
    requiresPython: string | null;
    yanked: false | string;
    size: number | null;
    uploadTime: string | null;
    metadata: string | null;
  },
  pageUrl: string,
): UpstreamFile | null {
  if (!raw.filename || /[/\\]/.test(raw.filename) || raw.filename.startsWith('.'))
    throw garbage(`a file has an unsafe name`);
  const url = absolute(raw.href, pageUrl);
  const fragment = /^#sha256=([0-9a-fA-F]{64})$/.exec(url.hash);
  url.hash = '';
  const sha256 = (raw.sha256 ?? fragment?.[1] ?? '').toLowerCase();
  if (!SHA256_RE.test(sha256)) return null;
  const version = versionOfFilename(raw.filename);
  if (version === null) return null;
  const metadata = raw.metadata?.toLowerCase() ?? null;
  return {
    filename: raw.filename,
    url: url.href,
    sha256,
    requiresPython: raw.requiresPython || null,
    yanked: raw.yanked,
    size: raw.size,
    uploadTime: raw.uploadTime,
    metadataSha256: metadata && SHA256_RE.test(metadata) ? metadata : null,
    version,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalString(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw garbage(`'${field}' is not a string`);
  return v;
}

function metadataHash(v: unknown): string | null {
  if (isObject(v) && typeof v.sha256 === 'string') return v.sha256;
  return null;
}

/** A PEP 691 project page. */
export function parseJsonPage(body: Buffer, pageUrl: string): UpstreamFile[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw garbage('not JSON');
  }
  if (!isObject(doc) || !Array.isArray(doc.files)) throw garbage("no 'files' list");
  const files: UpstreamFile[] = [];
  for (const f of doc.files) {
    if (!isObject(f) || typeof f.filename !== 'string' || typeof f.url !== 'string')
      throw garbage('a file without filename or url');
    const hashes = isObject(f.hashes) ? f.hashes : {};
    const yanked =
      f.yanked === true ? '' : typeof f.yanked === 'string' && f.yanked !== '' ? f.yanked : false;
    if (
      f.size !== undefined &&
      f.size !== null &&
      !(Number.isSafeInteger(f.size) && (f.size as number) >= 0)
    )
      throw garbage("a file's size is not a whole number");
    const file = fileOf(
      {
        filename: f.filename,
        href: f.url,
        sha256: typeof hashes.sha256 === 'string' ? hashes.sha256 : null,
        requiresPython: optionalString(f['requires-python'], 'requires-python'),
        yanked,
        size: typeof f.size === 'number' ? f.size : null,
        uploadTime: optionalString(f['upload-time'], 'upload-time'),
        metadata: metadataHash(f['core-metadata'] ?? f['data-dist-info-metadata']),
      },
      pageUrl,
    );
    if (file) files.push(file);
  }
  return files;
}

/** A PEP 503 project page, read with a real HTML parser (entities decoded as browsers do). */
export function parseHtmlPage(body: Buffer, pageUrl: string): UpstreamFile[] {
  const anchors: { attrs: Record<string, string>; text: string }[] = [];
  let current: { attrs: Record<string, string>; text: string } | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'a') current = { attrs, text: '' };
      },
      ontext(text) {
        if (current) current.text += text;
      },
      onclosetag(name) {
        if (name === 'a' && current) {
          anchors.push(current);
          current = null;
        }
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true },
  );
  parser.write(body.toString('utf8'));
  parser.end();
  const files: UpstreamFile[] = [];
  for (const a of anchors) {
    const href = a.attrs.href;
    if (href === undefined) continue;
    const metadata = a.attrs['data-core-metadata'] ?? a.attrs['data-dist-info-metadata'] ?? null;
    const file = fileOf(
      {
        filename: a.text.trim(),
        href,
        sha256: null,
        requiresPython: a.attrs['data-requires-python'] ?? null,
        yanked: a.attrs['data-yanked'] === undefined ? false : a.attrs['data-yanked'],
        size: null,
        uploadTime: null,
        metadata: metadata?.startsWith('sha256=') ? metadata.slice(7) : null,
      },
      pageUrl,
    );
    if (file) files.push(file);
  }
  return files;
}

/** The page in whichever format the upstream answered. */
export function parseProjectPage(
  body: Buffer,
  contentType: string | undefined,
  pageUrl: string,
): UpstreamFile[] {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/vnd.pypi.simple.v1+json' || type === 'application/json')
    return parseJsonPage(body, pageUrl);
  if (type === 'text/html' || type === 'application/vnd.pypi.simple.v1+html' || type === '')
    return parseHtmlPage(body, pageUrl);
  throw garbage(`unexpected content type ${JSON.stringify(type)}`);
}
