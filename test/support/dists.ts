// Synthetic distributions built in memory: valid wheels and sdists with any name, version and
// content, and deliberately broken ones. (The real-client tests use setuptools' builds instead.)
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import yazl from 'yazl';

export function metadataText(name: string, version: string, extra = ''): string {
  return `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: synthetic\nRequires-Python: >=3.8\n${extra}\nA synthetic distribution.\n`;
}

/** Form fields that are not core metadata, or that name their header otherwise. */
const NOT_METADATA = new Set(['comment', 'filetype', 'pyversion', 'description']);
const HEADER_OF: Record<string, string> = {
  classifiers: 'Classifier',
  project_urls: 'Project-URL',
  provides_extras: 'Provides-Extra',
};

/**
 * The METADATA a build tool would write for the core metadata fields of an upload form (as
 * `uploadParts` takes them): pier records the file's metadata, so a test that wants values shown
 * puts them in the file.
 */
export function metadataFromFields(fields: Record<string, string | string[]>): string {
  const lines: string[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (NOT_METADATA.has(field) || field.endsWith('_digest')) continue;
    const header =
      HEADER_OF[field] ??
      field
        .split('_')
        .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
        .join('-');
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${header}: ${one}`);
  }
  const description = fields.description;
  return `${lines.join('\n')}\n\n${typeof description === 'string' ? description : ''}`;
}

async function zipBuffer(
  entries: Record<string, string | Buffer>,
  compress = true,
): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, content] of Object.entries(entries))
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), path, { compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface WheelOptions {
  /** Project name as in the metadata; the filename uses its normalized `_` form. */
  name?: string;
  version?: string;
  tag?: string;
  /** Replace or remove (null) files of the default layout, keyed by path inside dist-info. */
  distInfo?: Record<string, string | Buffer | null>;
  extra?: Record<string, string | Buffer>;
  metadata?: string;
  /** Bytes to make the wheel unique. */
  salt?: string;
}

export async function makeWheel(
  opts: WheelOptions = {},
): Promise<{ filename: string; content: Buffer }> {
  const name = opts.name ?? 'pier-sample';
  const version = opts.version ?? '1.0.0';
  const fileName = name.toLowerCase().replace(/[-_.]+/g, '_');
  const distInfo = `${fileName}-${version}.dist-info`;
  const files: Record<string, string | Buffer | null> = {
    METADATA: opts.metadata ?? metadataText(name, version),
    WHEEL: 'Wheel-Version: 1.0\nGenerator: pier-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    RECORD: '',
    ...opts.distInfo,
  };
  const entries: Record<string, string | Buffer> = {
    [`${fileName}/__init__.py`]: `SALT = ${JSON.stringify(opts.salt ?? '')}\n`,
    ...opts.extra,
  };
  for (const [path, content] of Object.entries(files))
    if (content !== null) entries[`${distInfo}/${path}`] = content;
  return {
    filename: `${fileName}-${version}-${opts.tag ?? 'py3-none-any'}.whl`,
    content: await zipBuffer(entries),
  };
}

export async function makeSdist(
  opts: {
    name?: string;
    version?: string;
    pkgInfo?: string | null;
    topLevel?: string;
    extra?: Record<string, string>;
  } = {},
): Promise<{ filename: string; content: Buffer }> {
  const name = opts.name ?? 'pier-sample';
  const version = opts.version ?? '1.0.0';
  const base = `${name.toLowerCase().replace(/[-_.]+/g, '_')}-${version}`;
  const top = opts.topLevel ?? base;
  const tar = pack();
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  tar.pipe(gzip);
  const pkgInfo = opts.pkgInfo === undefined ? metadataText(name, version) : opts.pkgInfo;
  if (pkgInfo !== null) tar.entry({ name: `${top}/PKG-INFO` }, pkgInfo);
  tar.entry({ name: `${top}/pyproject.toml` }, '[project]\n');
  for (const [path, content] of Object.entries(opts.extra ?? {}))
    tar.entry({ name: path }, content);
  tar.finalize();
  await done;
  return { filename: `${base}.tar.gz`, content: Buffer.concat(chunks) };
}

export { zipBuffer };
