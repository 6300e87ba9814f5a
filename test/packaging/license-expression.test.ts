// PEP 639 License-Expression: packaging.licenses.canonicalize_license_expression's results and
// messages (checked against packaging 26), with the stricter SPDX grammar noted where it differs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalizeLicenseExpression } from '../../src/packaging/license-expression.js';

const canonical: [text: string, expected: string][] = [
  ['mit', 'MIT'],
  ['MIT', 'MIT'],
  ['mit and (apache-2.0 or bsd-2-clause)', 'MIT AND (Apache-2.0 OR BSD-2-Clause)'],
  ['MIT OR Apache-2.0', 'MIT OR Apache-2.0'],
  ['mit or apache-2.0 and bsd-3-clause', 'MIT OR Apache-2.0 AND BSD-3-Clause'],
  ['(MIT OR Apache-2.0) AND BSD-3-Clause', '(MIT OR Apache-2.0) AND BSD-3-Clause'],
  ['(mit or (apache-2.0 and (bsd-2-clause)))', '(MIT OR (Apache-2.0 AND (BSD-2-Clause)))'],
  ['(mit)', '(MIT)'],
  ['mit  and   apache-2.0', 'MIT AND Apache-2.0'],
  ['MIT\tAND\nApache-2.0', 'MIT AND Apache-2.0'],
  ['MIT WITH Classpath-exception-2.0', 'MIT WITH Classpath-exception-2.0'],
  [
    'gpl-2.0-or-later with classpath-exception-2.0',
    'GPL-2.0-or-later WITH Classpath-exception-2.0',
  ],
  ['Apache-2.0 WITH LLVM-exception', 'Apache-2.0 WITH LLVM-exception'],
  ['gpl-3.0 with nokia-qt-exception-1.1', 'GPL-3.0 WITH Nokia-Qt-exception-1.1'], // deprecated ids
  ['gpl-2.0 with cgal-linking-exception', 'GPL-2.0 WITH CGAL-linking-exception'], // SPDX 3.27
  ['gpl-2.0+', 'GPL-2.0+'],
  ['GPL-2.0', 'GPL-2.0'],
  ['bsd-2-clause-freebsd', 'BSD-2-Clause-FreeBSD'],
  ['licenseref-foo', 'LicenseRef-foo'],
  ['LicenseRef-Public-Domain', 'LicenseRef-Public-Domain'],
  ['licenseref-foo and mit', 'LicenseRef-foo AND MIT'],
  ['mit AND licenseref-Proprietary', 'MIT AND LicenseRef-Proprietary'],
];

for (const [text, expected] of canonical) {
  test(`canonicalizeLicenseExpression(${JSON.stringify(text)}) is ${expected}`, () => {
    assert.equal(canonicalizeLicenseExpression(text), expected);
  });
}

const invalid: [text: string, message: string][] = [
  ['', "Invalid license expression: ''"],
  [' ', "Invalid license expression: ' '"],
  ['(mit', "Invalid license expression: '(mit'"],
  ['mit or', "Invalid license expression: 'mit or'"],
  ['or mit', "Invalid license expression: 'or mit'"],
  ['and', "Invalid license expression: 'and'"],
  ['mit and and mit', "Invalid license expression: 'mit and and mit'"],
  ['()', "Invalid license expression: '()'"],
  ['mit (apache-2.0)', "Invalid license expression: 'mit (apache-2.0)'"],
  ['mit with', "Invalid license expression: 'mit with'"],
  ['Use-it-after-midnight', "Unknown license: 'use-it-after-midnight'"],
  ['mit,apache-2.0', "Unknown license: 'mit,apache-2.0'"],
  ['DocumentRef-x:LicenseRef-y', "Unknown license: 'documentref-x:licenseref-y'"],
  ['Nokia-Qt-exception-1.1', "Unknown license: 'nokia-qt-exception-1.1'"],
  ['mit with gpl-2.0', "Unknown license exception: 'gpl-2.0'"],
  ['LicenseRef-foo_bar', "Invalid licenseref: 'licenseref-foo_bar'"],
  // Accepted by packaging's token check, refused by the SPDX grammar:
  [
    '(mit) with classpath-exception-2.0',
    "Invalid license expression: '(mit) with classpath-exception-2.0'",
  ],
  ['LicenseRef-', "Invalid license expression: 'LicenseRef-'"],
];

for (const [text, message] of invalid) {
  test(`canonicalizeLicenseExpression(${JSON.stringify(text)}) fails`, () => {
    assert.throws(() => canonicalizeLicenseExpression(text), { name: 'PackagingError', message });
  });
}
