/**
 * Inspecting a stored distribution after upload: is it a well-formed wheel or sdist, and what are
 * its METADATA / PKG-INFO bytes and member names.
 *
 * Spec: reference §2.3 steps 19–21 (Warehouse's archive checks and their messages) and §3.5
 * (extracting metadata). Wheels are read with yauzl through random access (central directory,
 * WHEEL and METADATA only); sdists are streamed once through node:zlib and tar-stream.
 *
 * Modules: `archive-common` (contract, limits, error, name rules), `archive-source` (byte
 * sources), `archive-zip` (yauzl adapter), `archive-sniff` (zip/tar detection),
 * `archive-wheel`, `archive-sdist`.
 */
export {
  DEFAULT_ARCHIVE_LIMITS,
  InvalidArchiveError,
  MAX_MEMBER_NAME_LENGTH,
  MAX_TOTAL_NAME_LENGTH,
  type ArchiveLimits,
  type ByteSource,
} from './archive-common.js';
export { byteSourceFromBuffer, byteSourceFromFile } from './archive-source.js';
export { inspectWheel, type WheelContents } from './archive-wheel.js';
export { inspectSdist, type SdistContents } from './archive-sdist.js';
