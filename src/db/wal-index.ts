// SQLite's WAL-index header (https://www.sqlite.org/walformat.html, "The WAL-Index Header"):
// the first 96 bytes of the database's `-shm` file hold two copies of a 48-byte header. Every
// writer that commits, in any process, rewrites it — the second copy, a memory barrier, then the
// first — and its contents change with every commit: `mxFrame` grows by the frames written, and
// when the WAL starts over its salts change. The file is shared memory by design, its format
// fixed across SQLite versions (processes of different versions share it), and a reader begins
// exactly this way: it reads the header without a lock and trusts it only when both copies agree.
//
// So an unchanged header means that nothing was committed since it was last read, and a reader
// can keep what it read then — for the price of one read() instead of a read transaction (which
// locks and unlocks the shared memory and checks the file: three system calls and the query).
// (A connection in `locking_mode=EXCLUSIVE` keeps its WAL index in its own memory instead, but it
// also locks every other connection out, pier's included; pier never sets it.)
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes of one copy of the header (walformat.html §2.1). */
export const WAL_INDEX_HEADER_SIZE = 48;
/** The only header version SQLite has written since WAL began (3.7.0). */
const WAL_INDEX_VERSION = 3007000;
/** Offset of `isInit`, set once the header describes the WAL. */
const IS_INIT_OFFSET = 12;

export class WalIndexHeader {
  private fd: number | null = null;
  private readonly buffer = Buffer.alloc(2 * WAL_INDEX_HEADER_SIZE);

  /** `databasePath` is the SQLite file; the header lives in `<databasePath>-shm`. */
  constructor(private readonly databasePath: string) {}

  /**
   * The header as it is now, or null when it cannot be trusted: no `-shm` file, a short read, a
   * header not (yet) initialised or of another version, or the two copies differing because a
   * writer is rewriting them at this moment. The buffer is reused by the next call.
   */
  read(): Buffer | null {
    try {
      this.fd ??= openSync(`${this.databasePath}-shm`, 'r');
      const size = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      if (size !== this.buffer.length) return null;
    } catch {
      return null;
    }
    const b = this.buffer;
    if (b.readUInt32LE(0) !== WAL_INDEX_VERSION && b.readUInt32BE(0) !== WAL_INDEX_VERSION)
      return null;
    if (b[IS_INIT_OFFSET] !== 1) return null;
    if (b.compare(b, 0, WAL_INDEX_HEADER_SIZE, WAL_INDEX_HEADER_SIZE) !== 0) return null;
    return b;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Values read from the database, kept while its WAL-index header stays the same: `get` answers
 * from memory when nothing was committed since the value was read, by any connection in any
 * process, and otherwise reads again. The header is read before the value, so a commit that
 * lands between the two makes the value newer than its header, never older: the next call sees
 * a changed header and reads again.
 */
export class UnchangedSinceCommit<K, V> {
  private readonly values = new Map<K, V>();
  private readonly seen = Buffer.alloc(WAL_INDEX_HEADER_SIZE);
  private seenValid = false;

  constructor(
    private readonly header: WalIndexHeader,
    private readonly load: (key: K) => V,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: K): V {
    const now = this.header.read();
    if (now === null) {
      this.seenValid = false;
      this.values.clear();
      return this.load(key);
    }
    if (
      !this.seenValid ||
      now.compare(this.seen, 0, WAL_INDEX_HEADER_SIZE, 0, WAL_INDEX_HEADER_SIZE) !== 0
    ) {
      this.values.clear();
      now.copy(this.seen, 0, 0, WAL_INDEX_HEADER_SIZE);
      this.seenValid = true;
    } else if (this.values.has(key)) return this.values.get(key) as V;
    const value = this.load(key);
    if (this.values.size >= this.maxEntries) this.values.clear();
    this.values.set(key, value);
    return value;
  }
}
