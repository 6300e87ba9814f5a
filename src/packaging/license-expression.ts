/**
 * License-Expression (PEP 639; core metadata 2.4): an SPDX license expression, canonicalized as
 * `packaging.licenses.canonicalize_license_expression` does.
 *
 * Identifiers are matched case-insensitively against the SPDX lists (`spdx-license-ids`, with its
 * deprecated ids, and `spdx-exceptions`) and written in their SPDX case; operators are written in
 * upper case; `LicenseRef-<id>` is kept with its prefix fixed (`licenseref-foo` ->
 * `LicenseRef-foo`). The grammar is then checked by `spdx-expression-parse` on the shape of the
 * canonical form (every license written `MIT`, every exception `Classpath-exception-2.0`, so that
 * the parser's own, older copy of the lists does not matter). That grammar is the SPDX one,
 * slightly stricter than packaging's token check: `(MIT) WITH X`, `A WITH X WITH Y` and an empty
 * `LicenseRef-` are refused here.
 */
import parseSpdx from 'spdx-expression-parse';
// Imported, not read at run time, so that bundles (the action, `pier publish`) carry the lists.
import spdxExceptionIds from 'spdx-exceptions/index.json' with { type: 'json' };
import deprecatedExceptionIds from 'spdx-exceptions/deprecated.json' with { type: 'json' };
import spdxLicenseIds from 'spdx-license-ids/index.json' with { type: 'json' };
import deprecatedLicenseIds from 'spdx-license-ids/deprecated.json' with { type: 'json' };
import { PackagingError, pythonRepr } from './errors.js';

const LICENSE_IDS: string[] = [...spdxLicenseIds, ...deprecatedLicenseIds];
/**
 * Exceptions of SPDX license list 3.27 (the list packaging 26 bundles) that `spdx-exceptions`
 * 2.5.0, its latest release, predates.
 */
const NEWER_EXCEPTION_IDS = [
  'Asterisk-linking-protocols-exception',
  'CGAL-linking-exception',
  'Digia-Qt-LGPL-exception-1.1',
  'erlang-otp-linking-exception',
  'GPL-3.0-389-ds-base-exception',
  'harbour-exception',
  'Independent-modules-exception',
  'mxml-exception',
  'PCRE2-exception',
  'polyparse-exception',
  'romic-exception',
  'RRDtool-FLOSS-exception-2.0',
];
const EXCEPTION_IDS: string[] = [
  ...spdxExceptionIds,
  ...deprecatedExceptionIds,
  ...NEWER_EXCEPTION_IDS,
];

const byLowerCase = (ids: string[]) => new Map(ids.map((id) => [id.toLowerCase(), id] as const));
const LICENSES = byLowerCase(LICENSE_IDS);
const EXCEPTIONS = byLowerCase(EXCEPTION_IDS);

const OPERATORS = new Set(['and', 'or', 'with', '(', ')']);
const LICENSE_REF_PREFIX = 'licenseref-';
/** What may follow `LicenseRef-` (packaging's `license_ref_allowed`, SPDX's idstring). */
const LICENSE_REF_ID = /^[A-Za-z0-9.-]*$/;

/**
 * `canonicalizeLicenseExpression('mit and (apache-2.0 or bsd-2-clause)')` is
 * `'MIT AND (Apache-2.0 OR BSD-2-Clause)'`. Throws `PackagingError` with packaging's messages
 * (`Invalid license expression: '(mit'`, `Unknown license: 'foo'`, ...).
 */
export function canonicalizeLicenseExpression(text: string): string {
  const invalid = () => new PackagingError(`Invalid license expression: ${pythonRepr(text)}`);
  // Parentheses are padded so that splitting on whitespace tokenizes.
  const tokens = text.replace(/\(/g, ' ( ').replace(/\)/g, ' ) ').split(/\s+/).filter(Boolean);
  if (tokens.length === 0) throw invalid();

  const canonical: string[] = [];
  const shape: string[] = [];
  for (const token of tokens) {
    const lower = token.toLowerCase();
    if (OPERATORS.has(lower)) {
      canonical.push(lower.toUpperCase());
      shape.push(lower.toUpperCase());
      continue;
    }
    if (canonical[canonical.length - 1] === 'WITH') {
      const exception = EXCEPTIONS.get(lower);
      if (exception === undefined) {
        throw new PackagingError(`Unknown license exception: ${pythonRepr(lower)}`);
      }
      canonical.push(exception);
      shape.push('Classpath-exception-2.0');
      continue;
    }
    const plus = lower.endsWith('+') ? '+' : '';
    const id = plus ? lower.slice(0, -1) : lower;
    if (id.startsWith(LICENSE_REF_PREFIX)) {
      if (!LICENSE_REF_ID.test(id))
        throw new PackagingError(`Invalid licenseref: ${pythonRepr(id)}`);
      const ref = `LicenseRef-${token.slice(LICENSE_REF_PREFIX.length, token.length - plus.length)}`;
      canonical.push(ref + plus);
      shape.push(ref + plus);
      continue;
    }
    const license = LICENSES.get(id);
    if (license === undefined) throw new PackagingError(`Unknown license: ${pythonRepr(id)}`);
    canonical.push(license + plus);
    shape.push(`MIT${plus}`);
  }

  try {
    parseSpdx(shape.join(' '));
  } catch {
    throw invalid();
  }
  return canonical.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
}
