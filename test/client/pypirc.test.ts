// .pypirc as twine reads it, and where the upload URL and a configured credential come from:
// tables of cases for the INI dialect (configparser's), twine's `get_config`, the order of the
// URL's sources, and where a .pypirc password ranks among the credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explicitCredentials } from '../../src/client/credentials.js';
import { PublishError } from '../../src/client/errors.js';
import {
  parseIni,
  pypircRepositories,
  pypircRepository,
  TESTPYPI_REPOSITORY,
} from '../../src/client/pypirc.js';
import { resolveRepository } from '../../src/client/repository.js';
import { PYPI_UPLOAD_URL } from '../../src/client/urls.js';
import { describeRate, formatDuration, textReporter } from '../../src/client/report.js';

const plain = (text: string) =>
  Object.fromEntries([...parseIni(text, 'rc')].map(([k, v]) => [k, Object.fromEntries(v)]));

test('the INI dialect: = and :, continuation lines, comments, case-insensitive option names', () => {
  assert.deepEqual(
    plain(
      '\uFEFF# comment\n[distutils]\nindex-servers =\n    one\n    two\n\n[one]\n; note\nRepository: https://a.example/legacy/\nPassword = p=q:r\nusername=\n',
    ),
    {
      distutils: { 'index-servers': '\none\ntwo' },
      one: { repository: 'https://a.example/legacy/', password: 'p=q:r', username: '' },
    },
  );
});

test('a line configparser refuses is an error naming the file and line', () => {
  const cases: [string, RegExp][] = [
    ['[a]\nno separator\n', /^rc line 2: expected 'name = value' \(or 'name: value'\)$/],
    ['x = 1\n[a]\n', /^rc line 1: an option comes before any section header like \[pypi\]$/],
    ['[a\n', /^rc line 1: a section header must be a name in brackets, like \[pypi\]$/],
    ['[a]\n[a]\n', /^rc line 2: the section \[a\] appears twice$/],
    ['[a]\nk = 1\nK = 2\n', /^rc line 3: the option 'k' appears twice in its section$/],
  ];
  for (const [text, message] of cases)
    assert.throws(
      () => parseIni(text, 'rc'),
      (err: unknown) =>
        err instanceof PublishError && err.code === 'usage' && message.test(err.message),
      text,
    );
});

test("twine's get_config: index-servers, the built-in pypi and testpypi, [server-login]", () => {
  const repos = (text: string) => Object.fromEntries(pypircRepositories(parseIni(text, 'rc')));
  assert.deepEqual(repos(''), {
    pypi: { repository: PYPI_UPLOAD_URL },
    testpypi: { repository: TESTPYPI_REPOSITORY },
  });
  assert.deepEqual(
    repos(
      '[distutils]\nindex-servers = pypi internal\n[server-login]\nusername = old\n[internal]\nrepository = https://i.example/legacy/\npassword = s\n[pypi]\npassword = pp\n[unlisted]\nrepository = https://u.example/\n',
    ),
    {
      pypi: { repository: PYPI_UPLOAD_URL, username: 'old', password: 'pp' },
      internal: { repository: 'https://i.example/legacy/', username: 'old', password: 's' },
    },
  );
  assert.deepEqual(pypircRepository(null, '~/.pypirc', 'testpypi'), {
    repository: TESTPYPI_REPOSITORY,
  });
  assert.throws(
    () => pypircRepository(null, '~/.pypirc', 'internal'),
    /The repository 'internal' is not in ~\/\.pypirc \(there is no such file\)/,
  );
  assert.throws(
    () => pypircRepository('[distutils]\nindex-servers = x\n[x]\nusername = u\n', 'rc', 'x'),
    /The \[x\] section of rc has no repository URL/,
  );
});

test('the upload URL: flag, PIER_REPOSITORY_URL, TWINE_REPOSITORY_URL, then the named .pypirc section', () => {
  const rc =
    '[distutils]\nindex-servers = a b\n[a]\nrepository = https://a.example/legacy/\nusername = ua\npassword = pa\n[b]\nrepository = https://b.example/legacy/\n';
  let reads = 0;
  const file = { path: 'rc', read: () => (reads++, rc) };
  const cases: [Parameters<typeof resolveRepository>[0], Record<string, string>, string, string][] =
    [
      [
        { repositoryUrl: 'https://f.example/legacy/', repository: 'a' },
        { PIER_REPOSITORY_URL: 'https://p.example/', TWINE_REPOSITORY_URL: 'https://t.example/' },
        'https://f.example/legacy/',
        '--repository-url',
      ],
      [
        { repository: 'a' },
        { PIER_REPOSITORY_URL: 'https://p.example/', TWINE_REPOSITORY_URL: 'https://t.example/' },
        'https://p.example/',
        'PIER_REPOSITORY_URL',
      ],
      [
        { repository: 'a' },
        { TWINE_REPOSITORY_URL: 'https://t.example/' },
        'https://t.example/',
        'TWINE_REPOSITORY_URL',
      ],
    ];
  for (const [inputs, env, url, source] of cases)
    assert.deepEqual(resolveRepository(inputs, env, file), { url, source });
  // A URL given directly never reads the file (a broken one cannot get in its way).
  assert.equal(reads, 0);
  assert.deepEqual(resolveRepository({ repository: 'a' }, { TWINE_REPOSITORY: 'b' }, file), {
    url: 'https://a.example/legacy/',
    source: '[a] in rc',
    credentials: { username: 'ua', password: 'pa', source: '[a] in rc' },
  });
  assert.deepEqual(resolveRepository({}, { PIER_REPOSITORY: 'b', TWINE_REPOSITORY: 'a' }, file), {
    url: 'https://b.example/legacy/',
    source: '[b] in rc',
  });
  assert.deepEqual(resolveRepository({}, {}, { path: '~/.pypirc', read: () => null }), {
    url: PYPI_UPLOAD_URL,
    source: '[pypi] in ~/.pypirc',
  });
});

test('a .pypirc password ranks below every flag and variable; TWINE_USERNAME wins over its username', () => {
  const configured = { username: 'file-user', password: 'file-pw', source: '[a] in rc' };
  const pick = (inputs: object, env: Record<string, string>) => {
    const c = explicitCredentials({ ...inputs, configured }, env);
    return c && `${c.source} ${c.username}:${c.password}`;
  };
  assert.equal(pick({}, {}), '[a] in rc file-user:file-pw');
  assert.equal(pick({}, { TWINE_USERNAME: 'env-user' }), '[a] in rc env-user:file-pw');
  assert.equal(pick({}, { TWINE_PASSWORD: 'env-pw' }), 'TWINE_PASSWORD __token__:env-pw');
  assert.equal(pick({}, { PIER_TOKEN: 'tok' }), 'PIER_TOKEN __token__:tok');
  assert.equal(pick({ token: 'flag' }, { PIER_TOKEN: 'tok' }), '--token __token__:flag');
  assert.equal(
    explicitCredentials({ configured: { password: 'p', source: 's' } }, {})?.username,
    '__token__',
  );
});

test('the speed and the time left of an upload', () => {
  assert.equal(formatDuration(0.2), '1 s');
  assert.equal(formatDuration(125), '2 min 05 s');
  assert.equal(formatDuration(3725), '1 h 02 min');
  assert.equal(describeRate(1_000_000, 4_000_000, 100), '…');
  assert.equal(describeRate(10_000_000, 40_000_000, 2000), '5.0 MB/s, 6 s left');
  let clock = 1000;
  const lines: string[] = [];
  const reporter = textReporter({ write: (l) => lines.push(l), now: () => clock });
  reporter.start('big.whl', 40_000_000);
  clock += 2000;
  reporter.progress('big.whl', 10_000_000, 40_000_000);
  clock += 2000;
  reporter.progress('big.whl', 20_000_000, 40_000_000);
  assert.deepEqual(lines.slice(1), [
    '  25% of big.whl sent (5.0 MB/s, 6 s left)',
    '  50% of big.whl sent (5.0 MB/s, 4 s left)',
  ]);
});
