/**
 * Which metadata an upload records: the distribution file's own METADATA or PKG-INFO, which is
 * what installers read (a wheel's METADATA is also served as its PEP 658 `.metadata` file), and
 * not what the upload form says about the file. As Warehouse's `forklift/metadata.py` (`parse`:
 * the file's content when there is one, the form otherwise), the form is the source only for an
 * sdist whose PKG-INFO predates Metadata 2.2 (PEP 643): before 2.2 an sdist's PKG-INFO made no
 * promise about the metadata of what it builds, and tools wrote it carelessly.
 *
 * The form is still validated first (it is checked before the file's bytes are read); a form
 * that disagrees with the file is not refused, as long as it names the same project and version.
 */
import {
  isKnownField,
  listValue,
  METADATA_VERSIONS,
  type ParsedMetadata,
  type RawMetadata,
  singleValue,
} from './core-metadata.js';
import { type MetadataResult, validateUploadMetadata } from './upload-metadata.js';

export type MetadataSource = 'file' | 'form';

export type DistributionKind = 'wheel' | 'sdist';

/** The first metadata version whose sdist PKG-INFO is reliable (PEP 643). */
const RELIABLE_SDIST_METADATA = '2.2';

/**
 * Where the recorded metadata comes from: a wheel's METADATA always; an sdist's PKG-INFO when it
 * declares Metadata 2.2 or later, the form when it declares an older version. A PKG-INFO
 * declaring no version, or one pier does not know, is the source too, so that its validation
 * refuses it rather than the form hiding it.
 */
export function recordedMetadataSource(
  kind: DistributionKind,
  fileMetadataVersion: string | undefined,
): MetadataSource {
  if (kind === 'wheel') return 'file';
  const age = METADATA_VERSIONS.indexOf(fileMetadataVersion ?? '');
  return age !== -1 && age < METADATA_VERSIONS.indexOf(RELIABLE_SDIST_METADATA) ? 'form' : 'file';
}

/** The first metadata version in which License-File means something (PEP 639). */
const LICENSE_FILE_METADATA = '2.4';

/**
 * License-File in a file declaring a version before 2.4: setuptools wrote it so for years, before
 * PEP 639 gave it a meaning, and twine leaves it out of the form for those versions, which is
 * how PyPI accepts such files. It is dropped here the same way, rather than refused — by the
 * index reading a file's metadata and by `pier publish` before it builds the form.
 */
export function withoutPreStandardLicenseFiles(raw: RawMetadata): RawMetadata {
  const declared = METADATA_VERSIONS.indexOf(singleValue(raw, 'metadata-version') ?? '');
  const standard = METADATA_VERSIONS.indexOf(LICENSE_FILE_METADATA);
  if (declared === -1 || declared >= standard || listValue(raw, 'license-file') === undefined)
    return raw;
  return Object.fromEntries(Object.entries(raw).filter(([field]) => field !== 'license-file'));
}

/**
 * Validates a distribution's own metadata by the rules the form's metadata follows
 * (`validateUploadMetadata`), and a known field that could not be read as one value is refused.
 * Unknown fields are ignored, as in the form and by installers.
 */
export function validateFileMetadata(
  parsed: ParsedMetadata,
  options: { allowLocalVersions?: boolean; legacy?: boolean } = {},
): MetadataResult {
  const unreadable = Object.keys(parsed.unparsed).filter(isKnownField);
  return validateUploadMetadata(withoutPreStandardLicenseFiles(parsed.raw), {
    ...options,
    unreadable,
  });
}
