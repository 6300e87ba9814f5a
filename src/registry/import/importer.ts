// `pier import`: brings the files of another index over, each through the upload pipeline
// (`UploadService`), with the same validation and the same "nothing half-written" storage path
// as an upload. What differs is said by `ImportFacts`, and nowhere else. Importing the same
// folder twice changes nothing the second time: an identical file is "already present".
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database, User } from '../../db/schema.js';
import type { Actor } from '../../audit/log.js';
import { PierError, badRequest } from '../../errors.js';
import { parseCoreMetadata } from '../../packaging/core-metadata.js';
import { uploadFormFromMetadata } from '../../packaging/upload-metadata.js';
import {
  byteSourceFromFile,
  InvalidArchiveError,
  inspectSdist,
  inspectWheel,
} from '../../packaging/archive.js';
import type { UploadService } from '../upload/pipeline.js';
import { detectFormat, readImportSource, type ImportEntry, type ImportFormat } from './sources.js';

export interface ImportOptions {
  /** null: told by the folder (a devpi export has a dataindex.json). */
  format: ImportFormat | null;
  owner: string;
  /** Accept files from before today's naming and metadata rules. */
  legacy: boolean;
}

export type ImportOutcome = 'imported' | 'present' | 'refused';

export interface ImportLine {
  file: string;
  outcome: ImportOutcome;
  project: string | null;
  version: string | null;
  /** Why it was refused; null otherwise. */
  reason: string | null;
}

export interface ImportReport {
  format: ImportFormat;
  files: ImportLine[];
  counts: Record<ImportOutcome, number>;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The upload form a client would send for the file: its own metadata, as twine sends it. */
async function formFor(entry: ImportEntry): Promise<[string, string][]> {
  const { filename } = entry;
  const source = await byteSourceFromFile(entry.path);
  let metadata: Buffer;
  let filetype: string;
  let pyversion: string;
  if (filename.endsWith('.whl')) {
    const parts = filename.slice(0, -'.whl'.length).split('-');
    if (parts.length < 5)
      throw badRequest(
        'Invalid distribution file. Unable to parse name and version from wheel filename',
      );
    const wheel = await inspectWheel(source, filename, parts[0]!, parts[1]!);
    metadata = wheel.metadata;
    filetype = 'bdist_wheel';
    pyversion = parts[parts.length - 3]!;
  } else if (filename.endsWith('.tar.gz')) {
    metadata = (await inspectSdist(source, filename)).pkgInfo;
    filetype = 'sdist';
    pyversion = 'source';
  } else {
    throw badRequest(
      filename.endsWith('.zip')
        ? 'A .zip sdist cannot be imported: only a .tar.gz sdist (PEP 625) can be read and checked.'
        : 'Not a distribution: use .whl or .tar.gz files.',
    );
  }
  const fields: [string, string][] = [
    [':action', 'file_upload'],
    ['protocol_version', '1'],
    ...uploadFormFromMetadata(parseCoreMetadata(metadata).raw),
    ['filetype', filetype],
    ['pyversion', pyversion],
    ['sha256_digest', entry.sha256 ?? (await sha256Of(entry.path))],
  ];
  if (entry.md5 !== null) fields.push(['md5_digest', entry.md5]);
  return fields;
}

export class ImportService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly uploads: UploadService,
  ) {}

  async run(actor: Actor, dir: string, options: ImportOptions): Promise<ImportReport> {
    const owner: User | undefined = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', options.owner)
      .executeTakeFirst();
    if (!owner) throw new PierError(404, `No user named '${options.owner}'`);
    const format = options.format ?? (await detectFormat(dir));
    const entries = await readImportSource(dir, format);
    const files: ImportLine[] = [];
    for (const entry of entries)
      files.push(await this.importOne(actor, entry, owner, format, options));
    const counts = { imported: 0, present: 0, refused: 0 };
    for (const line of files) counts[line.outcome]++;
    return { format, files, counts };
  }

  private async importOne(
    actor: Actor,
    entry: ImportEntry,
    owner: User,
    format: ImportFormat,
    options: ImportOptions,
  ): Promise<ImportLine> {
    const refused = (reason: string): ImportLine => ({
      file: entry.shown,
      outcome: 'refused',
      project: null,
      version: null,
      reason,
    });
    if (entry.problem !== null) return refused(entry.problem);
    const session = this.uploads.begin(actor, undefined, {
      legacy: options.legacy,
      uploadedAt: entry.uploadedAt,
      yanked: entry.yanked,
      owner,
      source: format,
    });
    try {
      for (const [name, value] of await formFor(entry)) session.addField(name, value);
      await session.receiveFile('content', entry.filename, undefined, createReadStream(entry.path));
      const result = await session.finish();
      return {
        file: entry.shown,
        outcome: result.identical ? 'present' : 'imported',
        project: result.project,
        version: result.version,
        reason: null,
      };
    } catch (err) {
      await session.abort();
      if (err instanceof PierError) return refused(err.message);
      if (err instanceof InvalidArchiveError) return refused(err.responseMessage);
      throw err;
    }
  }
}

/** The report, one line per file then the counts, as `pier import` prints it. */
export function formatImportReport(report: ImportReport): string[] {
  const lines = report.files.map((f) => {
    switch (f.outcome) {
      case 'imported':
        return `imported  ${f.file} (${f.project} ${f.version})`;
      case 'present':
        return `present   ${f.file}: already present`;
      case 'refused':
        return `refused   ${f.file}: ${f.reason}`;
    }
  });
  const { imported, present, refused } = report.counts;
  lines.push(`${imported} imported, ${present} already present, ${refused} refused`);
  return lines;
}
