/**
 * Wheel inspection: the zip checks of Warehouse's `_is_valid_dist_file` (§2.3 step 19), then
 * WHEEL, METADATA and RECORD at the `.dist-info` directory (§2.3 step 21, §3.5).
 *
 * Order: not a zip → both zip and tar → member names (pier) → compression ratio → compression
 * type → WHEEL → METADATA. The ratio uses the central directory's declared sizes, as Warehouse
 * does; what is actually inflated (METADATA and WHEEL only) is separately capped by counting.
 */
import pep440 from '@renovatebot/pep440';
import type yauzl from 'yauzl';
import {
  InvalidArchiveError,
  Messages,
  NameBudget,
  memberNameProblem,
  quoteName,
  resolveLimits,
  type ArchiveLimits,
  type ByteSource,
} from './archive-common.js';
import { startsWithTar } from './archive-sniff.js';
import { DEFLATED, STORED, entryName, openZip, readMember } from './archive-zip.js';
import { normalizeProjectName } from './names.js';

export interface WheelContents {
  /** Path of the METADATA member that was read, e.g. `foo-1.0.dist-info/METADATA`. */
  metadataPath: string;
  /** The METADATA bytes, unchanged (served as the PEP 658 `.metadata` file). */
  metadata: Buffer;
  /** The WHEEL file, decoded as UTF-8. */
  wheelFile: string;
  /** Whether `<distInfoDir>/RECORD` exists (the caller words the missing-RECORD error). */
  hasRecord: boolean;
  /** Every member name, in central-directory order, as stored (directories keep their `/`). */
  members: string[];
  /**
   * The `.dist-info` directory used: `<rawName>-<rawVersion>.dist-info`, or the fallback
   * directory when METADATA is not there (see `inspectWheel`).
   */
  distInfoDir: string;
}

const DIST_INFO_FILE = /^[^/]+\.dist-info\/(?:METADATA|WHEEL|RECORD)$/;

function zipError(reason: string): InvalidArchiveError {
  return new InvalidArchiveError(Messages.zip(reason));
}

function versionsEqual(a: string, b: string): boolean {
  if (a === b) return true;
  return pep440.valid(a) !== null && pep440.valid(b) !== null && pep440.eq(a, b);
}

/** `<name>-<version>.dist-info` whose name normalizes to `rawName` and version equals `rawVersion`. */
function distInfoMatches(dir: string, rawName: string, rawVersion: string): boolean {
  const stem = dir.slice(0, -'.dist-info'.length);
  const wanted = normalizeProjectName(rawName);
  for (let dash = stem.indexOf('-'); dash !== -1; dash = stem.indexOf('-', dash + 1)) {
    const name = stem.slice(0, dash);
    const version = stem.slice(dash + 1);
    if (normalizeProjectName(name) === wanted && versionsEqual(version, rawVersion)) return true;
  }
  return false;
}

/**
 * §3.5's recommendation: the exact `<rawName>-<rawVersion>.dist-info` if it holds METADATA;
 * otherwise the single top-level `*.dist-info` holding METADATA whose name and version match the
 * filename's (normalized name, PEP 440 equality); otherwise the exact path, for the messages.
 */
function chooseDistInfo(found: Set<string>, rawName: string, rawVersion: string): string {
  const exact = `${rawName}-${rawVersion}.dist-info`;
  if (found.has(`${exact}/METADATA`)) return exact;
  const candidates: string[] = [];
  for (const path of found) {
    if (!path.endsWith('/METADATA')) continue;
    const dir = path.slice(0, -'/METADATA'.length);
    if (distInfoMatches(dir, rawName, rawVersion)) candidates.push(dir);
  }
  return candidates.length === 1 ? (candidates[0] as string) : exact;
}

/**
 * Inspects a stored wheel. `rawName` and `rawVersion` are the filename's first two `-`-separated
 * fields, unchanged. Rejects with `InvalidArchiveError`; reads only the central directory,
 * WHEEL and METADATA, never the whole file.
 */
export async function inspectWheel(
  source: ByteSource,
  filename: string,
  rawName: string,
  rawVersion: string,
  limits?: Partial<ArchiveLimits>,
): Promise<WheelContents> {
  const lim = resolveLimits(limits);
  const open = await openZip(source);
  try {
    if (await startsWithTar(source)) throw new InvalidArchiveError(Messages.bothZipAndTar);
    if (open.zip.entryCount > lim.maxMembers) {
      throw zipError(`More than ${lim.maxMembers} members`);
    }

    const members: string[] = [];
    const seen = new Set<string>();
    const distInfoFiles = new Map<string, yauzl.Entry>();
    const budget = new NameBudget(zipError);
    let declaredTotal = 0;
    let unsupportedCompression = false;
    for (let entry = await open.next(); entry !== null; entry = await open.next()) {
      const name = entryName(entry);
      const problem = memberNameProblem(name, { backslash: true, windowsAbsolute: true });
      if (problem !== null) throw zipError(problem);
      if (seen.has(name)) throw zipError(`Duplicate member name ${quoteName(name)}`);
      seen.add(name);
      budget.take(name);
      members.push(name);
      if (entry.isEncrypted()) throw zipError(`Member ${quoteName(name)} is encrypted`);
      declaredTotal += entry.uncompressedSize;
      if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
        unsupportedCompression = true;
      }
      if (DIST_INFO_FILE.test(name)) distInfoFiles.set(name, entry);
    }

    if (
      declaredTotal > lim.ratioThresholdBytes &&
      declaredTotal / source.size > lim.maxCompressionRatio
    ) {
      throw new InvalidArchiveError(Messages.ratio(lim.maxCompressionRatio));
    }
    if (unsupportedCompression) throw new InvalidArchiveError(Messages.compressionType);

    const distInfoDir = chooseDistInfo(new Set(distInfoFiles.keys()), rawName, rawVersion);
    const wheelPath = `${distInfoDir}/WHEEL`;
    const wheelEntry = distInfoFiles.get(wheelPath);
    if (wheelEntry === undefined) throw new InvalidArchiveError(Messages.wheelNotFound(wheelPath));
    const metadataPath = `${distInfoDir}/METADATA`;
    const metadataEntry = distInfoFiles.get(metadataPath);
    if (metadataEntry === undefined) {
      throw new InvalidArchiveError(Messages.metadataNotFound(filename, metadataPath), {
        distributionFilePrefix: false,
      });
    }

    const wheelBytes = await readMember(source, open, wheelEntry, wheelPath, lim.maxMetadataBytes);
    const metadata = await readMember(
      source,
      open,
      metadataEntry,
      metadataPath,
      lim.maxMetadataBytes,
    );
    return {
      metadataPath,
      metadata,
      wheelFile: wheelBytes.toString('utf8'),
      hasRecord: distInfoFiles.has(`${distInfoDir}/RECORD`),
      members,
      distInfoDir,
    };
  } finally {
    open.close();
  }
}
