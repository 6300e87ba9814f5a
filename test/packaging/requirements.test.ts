// PEP 508 dependency specifiers (Requires-Dist, Provides-Dist, Obsoletes-Dist): what
// packaging.requirements.Requirement accepts, its string form str(Requirement), and its
// syntax-error messages. Every row was checked against packaging 26.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatRequirement,
  parseRequirement,
  type Requirement,
} from '../../src/packaging/requirements.js';

// [requirement, str(Requirement(requirement))]
const valid: [text: string, formatted: string][] = [
  ['requests', 'requests'],
  ['requests>=2.0', 'requests>=2.0'],
  ['requests >= 2.0, < 3', 'requests<3,>=2.0'],
  ['requests (>=2.0,<3)', 'requests<3,>=2.0'],
  [
    'requests[security,socks]>=2.8.1; python_version < "2.7"',
    'requests[security,socks]>=2.8.1; python_version < "2.7"',
  ],
  [
    'name[quux, strange];python_version<"2.7" and platform_version=="2"',
    'name[quux,strange]; python_version < "2.7" and platform_version == "2"',
  ],
  ['name; os_name=="a" or os_name=="b"', 'name; os_name == "a" or os_name == "b"'],
  [
    'name; os_name=="a" and os_name=="b" or os_name=="c"',
    'name; os_name == "a" and os_name == "b" or os_name == "c"',
  ],
  [
    'name; os_name=="a" and (os_name=="b" or os_name=="c")',
    'name; os_name == "a" and (os_name == "b" or os_name == "c")',
  ],
  ['name; (os_name=="a")', 'name; os_name == "a"'],
  ["name; os.name == 'posix'", 'name; os_name == "posix"'],
  ['name; python_implementation == "CPython"', 'name; platform_python_implementation == "CPython"'],
  ['name; platform.python_implementation=="x"', 'name; platform_python_implementation == "x"'],
  ['name; extra == "Foo_Bar"', 'name; extra == "foo-bar"'],
  ['name; "Foo.Bar" == extra', 'name; "foo-bar" == extra'],
  ['name; (extra == "Foo_Bar")', 'name; extra == "Foo_Bar"'],
  ['name; extra == "a" and (extra == "B_C")', 'name; extra == "a" and extra == "B_C"'],
  [
    'pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686',
    'pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686',
  ],
  [
    'pip @ https://x.com/a.zip ; python_version >= "3"',
    'pip @ https://x.com/a.zip ; python_version >= "3"',
  ],
  [
    'pip @ https://x.com/a.zip;python_version>="3"',
    'pip @ https://x.com/a.zip;python_version>="3"',
  ],
  ['pip@https://x.com/a.zip', 'pip @ https://x.com/a.zip'],
  ['pip @ file:///tmp/x', 'pip @ file:///tmp/x'],
  ['foo[]', 'foo'],
  ['foo[ bar , baz ]', 'foo[bar,baz]'],
  ['foo==1.0+local', 'foo==1.0+local'],
  ['foo==1.0.*', 'foo==1.0.*'],
  ['foo; os_name not in "abc"', 'foo; os_name not in "abc"'],
  ['foo; "a" in os_name', 'foo; "a" in os_name'],
  ['foo; os_name ~= "1"', 'foo; os_name ~= "1"'],
  ['foo; os_name === "1"', 'foo; os_name === "1"'],
  [
    'foo; sys_platform == "linux" and python_full_version >= "3.8.1"',
    'foo; sys_platform == "linux" and python_full_version >= "3.8.1"',
  ],
  ['foo; platform_machine == "x86_64"', 'foo; platform_machine == "x86_64"'],
  ['foo; implementation_name == "cpython"', 'foo; implementation_name == "cpython"'],
  ['foo; dependency_groups == "a"', 'foo; dependency_groups == "a"'],
  ['foo; extras == "a"', 'foo; extras == "a"'],
  ["foo; os_name == 'a\"b'", 'foo; os_name == "a"b"'],
  [' foo', 'foo'],
  ['foo ', 'foo'],
  ['foo\n', 'foo'],
  ['foo\t>=1', 'foo>=1'],
  ['Foo_Bar.baz', 'Foo_Bar.baz'],
  ['foo>=1,<2,!=1.5', 'foo!=1.5,<2,>=1'],
  ['foo<2,>=1', 'foo<2,>=1'],
  ['foo===1.0', 'foo===1.0'],
  ['foo~=1.0', 'foo~=1.0'],
  ['foo >=1.0 ; os_name=="a"', 'foo>=1.0; os_name == "a"'],
  ['foo;os_name=="a"', 'foo; os_name == "a"'],
  ['foo ==1.0 ,<2', 'foo<2,==1.0'],
  ['foo>=1.0,', 'foo>=1.0'],
  ['foo; os_name == "\\t"', 'foo; os_name == "\t"'],
  [
    'foo; python_version >= "3" and (sys_platform == "win32" or (os_name == "nt" and platform_release >= "10"))',
    'foo; python_version >= "3" and (sys_platform == "win32" or (os_name == "nt" and platform_release >= "10"))',
  ],
  ['foo; os_name=="a"and os_name=="b"', 'foo; os_name == "a" and os_name == "b"'],
  ['foo;os_name=="a" or(os_name=="b")', 'foo; os_name == "a" or os_name == "b"'],
  ['foo[bar]>=1; extra=="X"', 'foo[bar]>=1; extra == "x"'],
  ['foo [bar] >= 1', 'foo[bar]>=1'],
  [
    'foo[bar] @ https://x.com/a.zip ; extra == "y"',
    'foo[bar] @ https://x.com/a.zip ; extra == "y"',
  ],
  ['foo; (os_name=="a") and (os_name=="b")', 'foo; os_name == "a" and os_name == "b"'],
  ['foo; ((os_name=="a"))', 'foo; os_name == "a"'],
  ['foo>= 1.0', 'foo>=1.0'],
  ['foo>=  1.0 ,  <2', 'foo<2,>=1.0'],
  ['foo(>=1.0)', 'foo>=1.0'],
  ['foo ( >=1.0 )', 'foo>=1.0'],
];

for (const [text, formatted] of valid) {
  test(`parseRequirement(${JSON.stringify(text)})`, () => {
    assert.equal(formatRequirement(parseRequirement(text)), formatted);
  });
}

const parts: [text: string, expected: Requirement][] = [
  [
    'requests[security,socks]>=2.8.1; python_version < "2.7"',
    {
      name: 'requests',
      extras: ['security', 'socks'],
      specifier: '>=2.8.1',
      url: null,
      marker: 'python_version < "2.7"',
    },
  ],
  [
    'name[strange, quux];os.name=="a" and (extra == "B_C")',
    {
      name: 'name',
      extras: ['quux', 'strange'],
      specifier: '',
      url: null,
      marker: 'os_name == "a" and extra == "B_C"',
    },
  ],
  [
    'Foo_Bar (>=1.0, <2)',
    { name: 'Foo_Bar', extras: [], specifier: '<2,>=1.0', url: null, marker: null },
  ],
  [
    'pip[x] @ https://x.com/a.zip ; extra == "Y"',
    {
      name: 'pip',
      extras: ['x'],
      specifier: '',
      url: 'https://x.com/a.zip',
      marker: 'extra == "y"',
    },
  ],
];

for (const [text, expected] of parts) {
  test(`parseRequirement(${JSON.stringify(text)}) parts`, () => {
    assert.deepEqual(parseRequirement(text), expected);
  });
}

// [requirement, packaging's error message (its first line)]
const invalid: [text: string, message: string][] = [
  ['foo @', 'Expected URL after @'],
  ['foo @ ', 'Expected URL after @'],
  ['foo bar', 'Expected semicolon (after name with no version specifier) or end'],
  [
    'foo>=1.0 bar',
    'Expected comma (within version specifier), semicolon (after version specifier) or end',
  ],
  ['foo[bar', 'Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras'],
  ['foo[bar baz]', 'Expected comma between extra names'],
  ['foo[bar,]', 'Expected extra name after comma'],
  [
    'foo (>=1.0',
    'Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after version specifier',
  ],
  ['foo>=1.0.*', '.* suffix can only be used with `==` or `!=` operators'],
  ['foo>=1.0+local', 'Local version label can only be used with `==` or `!=` operators'],
  ['foo; os_name', 'Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in'],
  ['foo; os_name ==', 'Expected a marker variable or quoted string'],
  ['foo; os_name == "a" and', 'Expected a marker variable or quoted string'],
  [
    'foo; (os_name == "a"',
    'Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after marker expression',
  ],
  [
    'foo; os_name notin "abc"',
    'Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in',
  ],
  ['foo; unknown == "a"', 'Expected a marker variable or quoted string'],
  ['-foo', 'Expected package name at the start of dependency specifier'],
  ['foo-', 'Expected semicolon (after name with no version specifier) or end'],
  ['foo~=1', 'Expected semicolon (after name with no version specifier) or end'],
  ['foo,', 'Expected semicolon (after name with no version specifier) or end'],
  ['', 'Expected package name at the start of dependency specifier'],
  ['foo>=1.0;', 'Expected a marker variable or quoted string'],
  ['foo @ https://x.com/a.zip extra', 'Expected semicolon (after URL and whitespace) or end'],
  ['fooé', 'Expected package name at the start of dependency specifier'],
  ['foo[é]', 'Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras'],
  [
    'foo>=1.0 foo',
    'Expected comma (within version specifier), semicolon (after version specifier) or end',
  ],
  ['foo>=1 ;', 'Expected a marker variable or quoted string'],
  ['foo; os_name=="a" foo', 'Expected end of dependency specifier'],
  ['foo===1,2', "Invalid specifier: '2'"], // packaging raises InvalidSpecifier here
  ['foo; os_name == "\\x4"', 'Invalid escape in "\\x4"'], // ast.literal_eval raises SyntaxError
];

for (const [text, message] of invalid) {
  test(`parseRequirement(${JSON.stringify(text)}) fails`, () => {
    assert.throws(() => parseRequirement(text), { name: 'PackagingError', message });
  });
}
