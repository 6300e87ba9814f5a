/**
 * sdist (`.tar.gz`) inspection: Warehouse's tar checks (§2.3 step 19) and PKG-INFO (§3.5),
 * read in one sequential pass: `source.stream()` → node:zlib gunzip → tar-stream.
 *
 * Bounds, whatever the input:
 * - inflated bytes: counted as they leave gunzip; once the total exceeds both
 *   `ratioThresholdBytes` and `maxCompressionRatio × compressed size`, reading stops
 *   (`File exceeds compression ratio of 50`). Memory stays at a few stream buffers because
 *   every member body except PKG-INFO is drained, not kept;
 * - members: at most `maxMembers`, names at most `MAX_MEMBER_NAME_LENGTH` each and
 *   `MAX_TOTAL_NAME_LENGTH` together; tar-stream caps pax and GNU long-name headers at 4 MiB;
 * - PKG-INFO: at most `maxMetadataBytes`.
 * The first failure destroys the whole chain (source stream, gunzip, extractor).
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import {
  InvalidArchiveError,
  Messages,
  NameBudget,
  isSourceError,
  markSourceError,
  memberNameProblem,
  quoteName,
  resolveLimits,
  type ArchiveLimits,
  type ByteSource,
} from './archive-common.js';
import { isGzip, isZipArchive, startsWithTar } from './archive-sniff.js';

export interface SdistContents {
  /** The single top-level directory, e.g. `foo-1.0`. */
  topLevel: string;
  /** The bytes of `<topLevel>/PKG-INFO`, unchanged. */
  pkgInfo: Buffer;
  /**
   * Every member name in archive order: pax and GNU long names applied, leading `./` and
   * trailing `/` removed (as Python's tarfile does for directories); the `.` entry is left out.
   */
  members: string[];
}

/** Raw inflated bytes kept to look up a header's type flag (tar-stream hides unknown ones). */
const HISTORY_BYTES = 1024 * 1024;

type EntryArgs = tar.ExtractEvents['entry'];
/** tar-stream gives `type: null` for type flags it does not know (GNU sparse `S` among them). */
type EntryHeader = Omit<EntryArgs[0], 'type'> & { type: EntryArgs[0]['type'] | null };
type EntryStream = EntryArgs[1];

function tarError(reason: string): InvalidArchiveError {
  return new InvalidArchiveError(Messages.tar(reason));
}

class SdistReader {
  // allowUnknownFormat: accept pre-POSIX (v7) headers, as Python's tarfile does.
  private readonly extract = tar.extract({ allowUnknownFormat: true } as Parameters<
    typeof tar.extract
  >[0]);
  private readonly budget = new NameBudget(tarError);
  private readonly members: string[] = [];
  private readonly history: { start: number; data: Buffer }[] = [];
  private historyBytes = 0;
  private failed = false;
  private failure: unknown = undefined;
  private wake: (() => void) | null = null;
  private inflated = 0;
  private entries = 0;
  private top: string | null = null;
  private pkgInfo: Buffer | null = null;
  private pkgInfoSeen = false;

  constructor(
    private readonly source: ByteSource,
    private readonly limits: ArchiveLimits,
  ) {}

  async run(): Promise<SdistContents> {
    this.extract.on('entry', (header, stream, next) => {
      // Destroying the extractor errors the current entry stream; never leave that unheard.
      stream.on('error', () => {});
      if (this.failed) return;
      try {
        this.onEntry(header as EntryHeader, stream, () => next());
      } catch (err) {
        this.fail(err);
      }
    });
    this.extract.on('error', (err: unknown) => this.fail(err));

    const input = this.source.stream() as Readable;
    input.on('error', markSourceError);
    try {
      await pipeline(input, zlib.createGunzip(), (inflated: AsyncIterable<Buffer>) =>
        this.feed(inflated),
      );
    } catch (err) {
      this.fail(err);
    } finally {
      if (!this.extract.destroyed) this.extract.destroy();
    }
    if (this.failed) throw this.translate(this.failure);

    if (this.top === null) throw new InvalidArchiveError(Messages.notTar); // no members at all
    if (this.pkgInfo === null) throw new InvalidArchiveError(Messages.pkgInfoNotFound(this.top));
    return { topLevel: this.top, pkgInfo: this.pkgInfo, members: this.members };
  }

  private translate(err: unknown): unknown {
    if (err instanceof InvalidArchiveError) return err;
    if (isSourceError(err)) return err; // storage trouble, not the file's fault
    return new InvalidArchiveError(Messages.notTar, { cause: err });
  }

  private fail(err: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = err;
    }
    if (!this.extract.destroyed) this.extract.destroy();
    this.wake?.();
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failure;
  }

  /** Counts and forwards inflated bytes; records its own failure first (pipeline may not). */
  private async feed(inflated: AsyncIterable<Buffer>): Promise<void> {
    try {
      await this.forward(inflated);
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  private async forward(inflated: AsyncIterable<Buffer>): Promise<void> {
    const { ratioThresholdBytes, maxCompressionRatio } = this.limits;
    const ratioBytes = maxCompressionRatio * this.source.size;
    for await (const chunk of inflated) {
      this.throwIfFailed();
      this.inflated += chunk.length;
      if (this.inflated > ratioThresholdBytes && this.inflated > ratioBytes) {
        throw new InvalidArchiveError(Messages.ratio(maxCompressionRatio));
      }
      this.remember(chunk);
      if (!this.extract.write(chunk)) await this.waitFor('drain');
      this.throwIfFailed();
    }
    this.extract.end(undefined);
    await this.waitFor('finish');
    this.throwIfFailed();
  }

  private waitFor(event: 'drain' | 'finish'): Promise<void> {
    if (this.failed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.extract.off(event, done);
        this.extract.off('close', onClose);
        this.wake = null;
        resolve();
      };
      const onClose = (): void => {
        if (!this.failed) this.fail(new Error(`tar extractor closed while waiting for ${event}`));
        done();
      };
      this.extract.on(event, done);
      this.extract.on('close', onClose);
      this.wake = done;
    });
  }

  private remember(chunk: Buffer): void {
    this.history.push({ start: this.inflated - chunk.length, data: chunk });
    this.historyBytes += chunk.length;
    while (
      this.history.length > 1 &&
      this.historyBytes - (this.history[0]?.data.length ?? 0) >= HISTORY_BYTES
    ) {
      this.historyBytes -= this.history.shift()?.data.length ?? 0;
    }
  }

  /** The raw type flag of the header at `offset` in the tar stream, if still in the history. */
  private typeflagAt(offset: number | undefined): string | null {
    if (offset === undefined) return null;
    const at = offset + 156;
    for (const { start, data } of this.history) {
      if (at >= start && at < start + data.length)
        return String.fromCharCode(data[at - start] ?? 0);
    }
    return null;
  }

  private onEntry(header: EntryHeader, stream: EntryStream, next: () => void): void {
    this.entries += 1;
    if (this.entries > this.limits.maxMembers) {
      throw tarError(`More than ${this.limits.maxMembers} members`);
    }
    const pax = header.pax as Record<string, string> | null | undefined;
    if (pax && Object.keys(pax).some((key) => key.startsWith('GNU.sparse.'))) {
      throw new InvalidArchiveError(Messages.sparse);
    }
    if (header.type === null || header.type === undefined) {
      const flag = this.typeflagAt(stream.offset);
      if (flag === 'S') throw new InvalidArchiveError(Messages.sparse);
      throw tarError(
        `Member ${quoteName(header.name)} has an unsupported type${flag === null ? '' : ` ${quoteName(flag)}`}`,
      );
    }

    let name = header.name;
    while (name.startsWith('./')) name = name.slice(2);
    if (name === '.') name = '';
    name = name.replace(/\/+$/, '');
    const hasBody = header.type !== 'directory' && (header.size ?? 0) > 0;
    if (name === '') {
      this.skip(stream, next, hasBody); // the archive root itself (`./`)
      return;
    }

    const problem = memberNameProblem(name, { backslash: false, windowsAbsolute: false });
    if (problem !== null) throw tarError(problem);
    const top = name.split('/')[0] as string;
    if (this.top === null) this.top = top;
    else if (top !== this.top) throw new InvalidArchiveError(Messages.topLevel);
    this.budget.take(name);
    this.members.push(name);

    switch (header.type) {
      case 'character-device':
      case 'block-device':
      case 'fifo':
        throw tarError(`Member ${quoteName(name)} is a device file or FIFO`);
      case 'symlink':
      case 'link':
        this.checkLink(name, header.type, header.linkname ?? '');
        break;
    }

    const isFile = header.type === 'file' || header.type === 'contiguous-file';
    if (isFile && name === `${top}/PKG-INFO`) {
      this.readPkgInfo(name, header.size ?? 0, stream, next);
      return;
    }
    this.skip(stream, next, hasBody);
  }

  /** A link may only point inside the top-level directory. */
  private checkLink(name: string, type: 'symlink' | 'link', target: string): void {
    const top = this.top as string;
    let resolved: string;
    if (target.startsWith('/')) {
      resolved = '/';
    } else if (type === 'symlink') {
      resolved = posix.normalize(posix.join(posix.dirname(name), target));
    } else {
      let t = target;
      while (t.startsWith('./')) t = t.slice(2);
      resolved = posix.normalize(t);
    }
    if (resolved !== top && !resolved.startsWith(`${top}/`)) {
      throw tarError(`Member ${quoteName(name)} links to ${quoteName(target)}, outside ${top}/`);
    }
  }

  private skip(stream: EntryStream, next: () => void, hasBody: boolean): void {
    if (!hasBody) {
      // tar-stream gives bodiless entries (directories, empty files) a stream that may never end.
      next();
      return;
    }
    stream.on('end', () => next());
    stream.resume();
  }

  private readPkgInfo(name: string, size: number, stream: EntryStream, next: () => void): void {
    const max = this.limits.maxMetadataBytes;
    if (this.pkgInfoSeen) throw tarError(`Duplicate member ${quoteName(name)}`);
    this.pkgInfoSeen = true;
    if (size > max) throw tarError(`Member ${quoteName(name)} is larger than ${max} bytes`);
    if (size === 0) {
      this.pkgInfo = Buffer.alloc(0);
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let got = 0;
    stream.on('data', (data) => {
      const chunk = data as Buffer;
      got += chunk.length;
      if (got > max) this.fail(tarError(`Member ${quoteName(name)} is larger than ${max} bytes`));
      else chunks.push(chunk);
    });
    stream.on('end', () => {
      this.pkgInfo = Buffer.concat(chunks, got);
      next();
    });
  }
}

/**
 * Inspects a stored `.tar.gz` sdist. Rejects with `InvalidArchiveError` (all messages follow
 * `Invalid distribution file. `); errors of the byte source itself are passed through unchanged.
 */
export async function inspectSdist(
  source: ByteSource,
  _filename: string,
  limits?: Partial<ArchiveLimits>,
): Promise<SdistContents> {
  const lim = resolveLimits(limits);
  if (await isZipArchive(source)) {
    // Warehouse asks is_zipfile, then is_tarfile; a zip that is no tar fails the tar.gz checks.
    throw new InvalidArchiveError(
      (await startsWithTar(source)) ? Messages.bothZipAndTar : Messages.notTar,
    );
  }
  const head = await source.read(0, Math.min(2, source.size));
  if (!isGzip(head)) throw new InvalidArchiveError(Messages.notTar);
  return new SdistReader(source, lim).run();
}
