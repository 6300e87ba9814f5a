// The attestation files next to a distribution, as uv and twine find them:
// `<dist>.<type>.attestation` (`foo-1.0.tar.gz.publish.attestation`, written by pier's own
// signing, the pypa action or astral-sh/attest-action). Each is sent, as its bytes, in the
// upload's `attestations` field (a JSON array); the index verifies them.
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PublishError } from './errors.js';

const ATTESTATION_FILE = /^(.+\.(?:whl|tar\.gz))\.([A-Za-z0-9_-]+)\.attestation$/i;

/** The distribution filename and attestation type a file's name stands for, or null. */
export function attestationFileOf(name: string): { distribution: string; type: string } | null {
  const m = ATTESTATION_FILE.exec(name);
  return m ? { distribution: m[1]!, type: m[2]! } : null;
}

export interface AttestationFile {
  path: string;
  /** The file's text, as it is sent. */
  text: string;
}

/** The attestation files of the distribution at `path`, by name. */
export async function attestationFilesFor(path: string): Promise<AttestationFile[]> {
  const dir = dirname(path);
  const filename = basename(path);
  const names = (await readdir(dir))
    .filter((name) => attestationFileOf(name)?.distribution === filename)
    .sort();
  const found: AttestationFile[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = (await readFile(file, 'utf8')).trim();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new PublishError(
        'invalid-distribution',
        `${file}: not a JSON attestation (${(err as Error).message})`,
        { hints: ['Remove the file, or sign the distribution again.'] },
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new PublishError(
        'invalid-distribution',
        `${file}: not an attestation object (a PEP 740 attestation is a JSON object)`,
        { hints: ['Remove the file, or sign the distribution again.'] },
      );
    found.push({ path: file, text });
  }
  return found;
}

/** The `attestations` form field's value: the files' JSON texts, as one array. */
export function attestationsField(files: readonly AttestationFile[]): string {
  return `[${files.map((f) => f.text).join(',')}]`;
}
