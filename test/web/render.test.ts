// The web interface's pure parts, as tables: escaping, URLs that may become links, the
// description renderer and its sanitiser, provenance lines and their links, the ready-to-copy
// workflows, the CSRF comparison and the TOTP window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import { escapeHtml, html, safeHttpUrl, trusted } from '../../src/web/html.js';
import { descriptionFormat, sanitize } from '../../src/web/render/markdown.js';
import { renderDescription } from '../../src/web/render/markup.js';
import { provenanceFacts, renderProvenance } from '../../src/web/render/provenance.js';
import {
  workflowFor,
  yamlScalar,
  PYPA_ACTION,
  runnerCanReach,
} from '../../src/web/render/workflow.js';
import { csrfMatches } from '../../src/web/csrf.js';
import { safeNext } from '../../src/web/forms.js';
import { cleanCode, matchingStep } from '../../src/web/totp.js';
import type { PublisherView } from '../../src/oidc/publishers.js';
import { loadConfig } from '../../src/config.js';

test('every interpolation is escaped unless it is SafeHtml', () => {
  const hostile = `<script>alert(1)</script>"'\`&`;
  assert.equal(
    html`<p title="${hostile}">${hostile}</p>`.value,
    '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;</p>',
  );
  assert.equal(
    html`${[hostile, trusted('<b>ok</b>'), null, undefined, false, 3]}`.value,
    `${escapeHtml(hostile)}<b>ok</b>3`,
  );
  assert.equal(html`<div>${html`<i>${'<x>'}</i>`}</div>`.value, '<div><i>&lt;x&gt;</i></div>');
});

test('only absolute http(s) URLs become links', () => {
  const cases: [unknown, string | null][] = [
    ['https://example.com/a?b=c', 'https://example.com/a?b=c'],
    ['HTTP://example.com', 'http://example.com/'],
    ['  https://example.com  ', 'https://example.com/'],
    ['javascript:alert(1)', null],
    ['JaVaScRiPt:alert(1)', null],
    ['java\nscript:alert(1)', null],
    ['data:text/html,<script>alert(1)</script>', null],
    ['vbscript:x', null],
    ['//evil.example.com', null],
    ['/relative', null],
    ['https://', null],
    [42, null],
    [null, null],
  ];
  for (const [input, expected] of cases) assert.equal(safeHttpUrl(input), expected, String(input));
});

test('the Markdown renderer leaves nothing that runs', () => {
  const markdown = [
    '# Title',
    '<script>window.__pwned = 1</script>',
    '[click](javascript:window.__pwned=1)',
    '[click2](JAVASCRIPT:window.__pwned=1)',
    '<a href="javascript:window.__pwned=1">raw link</a>',
    '<a href="jav&#x09;ascript:alert(1)">entity link</a>',
    '<img src="x" onerror="window.__pwned=1">',
    '<img src="javascript:alert(1)">',
    '<svg onload="window.__pwned=1"><circle/></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<style>body{display:none}</style>',
    '<form action="https://evil.example.com"><input name="x"></form>',
    '<div onclick="alert(1)" style="position:fixed">styled</div>',
    '<object data="x"></object><embed src="x">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example.com">',
    '<p id="login-form" class="x">clobbering</p>',
    '[ok](https://example.com/docs) and ![img](https://example.com/i.png)',
    '```python\nprint("<b>hi</b>")\n```',
  ].join('\n\n');
  const out = renderDescription(markdown, 'text/markdown; charset=UTF-8').value;
  assert.doesNotMatch(out, /<script|<iframe|<style|<svg|<object|<embed|<form|<input|<meta/i);
  assert.doesNotMatch(out, /\son\w+\s*=/i, 'no event handler attribute');
  assert.doesNotMatch(out, /(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):/i);
  assert.doesNotMatch(out, /<a href="[^h]/, 'every link is http(s) or mailto');
  assert.doesNotMatch(out, /style=/i);
  assert.doesNotMatch(out, /\sid=/i, 'no id: a description cannot clobber the page');
  assert.match(out, /<h1>Title<\/h1>/);
  assert.match(
    out,
    /<a href="https:\/\/example\.com\/docs" rel="nofollow ugc noopener noreferrer">ok<\/a>/,
  );
  assert.match(
    out,
    /<img src="https:\/\/example\.com\/i\.png" alt="img" referrerpolicy="no-referrer" loading="lazy" \/>/,
  );
  assert.match(out, /<code class="language-python">print\("&lt;b&gt;hi&lt;\/b&gt;"\)/);
  assert.equal(
    sanitize('<a href="mailto:a@example.com">m</a>').value,
    '<a href="mailto:a@example.com" rel="nofollow ugc noopener noreferrer">m</a>',
  );
});

test('reStructuredText is rendered (the default type too); plain text is preformatted, escaped', () => {
  const rst = 'Title\n=====\n\nSome *emphasis* <script>window.__pwned=1</script>\n';
  for (const type of ['text/x-rst', null, undefined, 'text/unknown']) {
    const out = renderDescription(rst, type).value;
    assert.match(out, /^<div class="description rst">\s*<h1>\s*Title\s*<\/h1>/);
    assert.match(out, /<em>emphasis<\/em> &lt;script&gt;window\.__pwned=1&lt;\/script&gt;/);
    assert.doesNotMatch(out, /<script/);
  }
  const plain = renderDescription(rst, 'text/plain').value;
  assert.match(plain, /^<pre class="description plain">Title\n=====/);
  assert.match(plain, /&lt;script&gt;window\.__pwned=1&lt;\/script&gt;/);
  // A raw directive is refused: the whole description is shown as plain text.
  const raw = renderDescription(`${rst}\n.. raw:: html\n\n   <b>x</b>\n`, null).value;
  assert.match(raw, /could not be rendered \(the raw directive is not allowed\)/);
  assert.match(raw, /<pre class="description rst">Title\n=====/);
  assert.equal(descriptionFormat('text/markdown; variant=GFM'), 'markdown');
  assert.equal(descriptionFormat('TEXT/MARKDOWN'), 'markdown');
  assert.equal(descriptionFormat('text/plain'), 'plain');
  assert.equal(descriptionFormat(null), 'rst');
  assert.match(renderDescription('', 'text/markdown').value, /No description/);
});

const githubProvenance = {
  publisher: {
    id: 3,
    kind: 'github',
    issuer: 'https://token.actions.githubusercontent.com',
    description: 'GitHub octo-org/octo-repo, workflow release.yml, environment release',
    url: 'https://github.com/octo-org/octo-repo/commit/1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4',
  },
  claims: {
    repository: 'octo-org/octo-repo',
    repository_owner_id: '65',
    workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0',
    job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0',
    ref: 'refs/tags/v1.0.0',
    sha: '1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4',
    run_id: '1234567890',
    run_attempt: '2',
    environment: 'release',
    event_name: 'push',
  },
};

test('provenance: repository, workflow, environment, commit and the run link from the claims', () => {
  const f = provenanceFacts(githubProvenance);
  assert.equal(f.repository, 'octo-org/octo-repo');
  assert.equal(f.workflow, 'release.yml');
  assert.equal(f.ref, 'refs/tags/v1.0.0');
  assert.equal(f.environment, 'release');
  assert.equal(
    f.commitUrl,
    'https://github.com/octo-org/octo-repo/commit/1c4a7a3f0b8e2d9c6f5e4d3c2b1a09f8e7d6c5b4',
  );
  assert.equal(
    f.runUrl,
    'https://github.com/octo-org/octo-repo/actions/runs/1234567890/attempts/2',
  );
  assert.equal(f.runLabel, 'run 1234567890, attempt 2');

  const ghes = provenanceFacts({
    ...githubProvenance,
    publisher: {
      ...githubProvenance.publisher,
      issuer: 'https://github.example.com/_services/token',
    },
  });
  assert.equal(
    ghes.runUrl,
    'https://github.example.com/octo-org/octo-repo/actions/runs/1234567890/attempts/2',
  );

  const gitlab = provenanceFacts({
    publisher: {
      id: 4,
      kind: 'gitlab',
      issuer: 'https://gitlab.example.com',
      description: 'GitLab g/p',
      url: null,
    },
    claims: {
      project_path: 'group/sub/project',
      ci_config_ref_uri: 'gitlab.example.com/group/sub/project//.gitlab-ci.yml@refs/tags/v1',
      ref_path: 'refs/tags/v1',
      sha: 'abcdef1234567',
      pipeline_id: '777',
      job_id: '778',
      environment: 'release',
    },
  });
  assert.equal(gitlab.workflow, '.gitlab-ci.yml');
  assert.equal(gitlab.runUrl, 'https://gitlab.example.com/group/sub/project/-/pipelines/777');
  assert.equal(
    gitlab.commitUrl,
    'https://gitlab.example.com/group/sub/project/-/commit/abcdef1234567',
  );
});

test('provenance: claims of the wrong shape make no link and are escaped', () => {
  const hostile = {
    publisher: {
      id: 1,
      kind: 'github',
      issuer: 'https://token.actions.githubusercontent.com',
      description: '<script>window.__pwned=1</script>',
      url: 'javascript:window.__pwned=1',
    },
    claims: {
      repository: 'x/y"><script>window.__pwned=1</script>',
      job_workflow_ref: 'a/b/.github/workflows/<img src=x onerror=alert(1)>.yml@refs/heads/main',
      sha: 'javascript:alert(1)',
      run_id: '1/../../evil',
      run_attempt: '<b>',
      environment: '<svg onload=alert(1)>',
    },
  };
  const f = provenanceFacts(hostile);
  assert.equal(f.runUrl, null);
  assert.equal(f.commitUrl, null);
  assert.equal(f.commit, null);
  assert.equal(f.publisherUrl, null);
  const out = renderProvenance(hostile).value;
  assert.doesNotMatch(out, /<script|<img|<svg|javascript:/i);
  assert.match(out, /&lt;script&gt;/);
});

test('provenance: a repository path with . or .. segments makes no link (it would leave the repository)', () => {
  for (const [kind, issuer, claims] of [
    ['github', 'https://token.actions.githubusercontent.com', { repository: 'octo-org/..' }],
    ['github', 'https://token.actions.githubusercontent.com', { repository: '../octo-repo' }],
    [
      'gitlab',
      'https://gitlab.example.com',
      {
        project_path: 'group/./..',
        ci_config_ref_uri: 'gitlab.example.com/group/./..//.gitlab-ci.yml@refs/heads/main',
      },
    ],
  ] as const) {
    const f = provenanceFacts({
      publisher: { id: 1, kind, issuer, description: 'x', url: null },
      claims: { ...claims, sha: 'a'.repeat(40), run_id: '12', pipeline_id: '12' },
    });
    assert.equal(f.commitUrl, null, `${kind} ${JSON.stringify(claims)}`);
    assert.equal(f.runUrl, null, `${kind} ${JSON.stringify(claims)}`);
  }
});

function publisher(kind: PublisherView['kind'], config: Record<string, string>): PublisherView {
  return {
    id: 7,
    kind,
    issuer: 'https://token.actions.githubusercontent.com',
    description: 'x',
    config,
    url: null,
    projects: ['pier-sample'],
    readOnly: [],
    stageOnly: [],
    pending: null,
    organizationWide: null,
    createdAt: new Date().toISOString(),
  };
}

test('the GitHub workflow: two jobs, id-token: write in the environment, this index’s upload URL', () => {
  const wf = workflowFor(
    publisher('github', {
      owner: 'octo-org',
      ownerId: '65',
      repository: 'octo-repo',
      workflow: 'release.yml',
      environment: 'release',
      ref: 'refs/tags/v*',
    }),
    { publicUrl: 'https://pypi.example.com', audience: 'pypi.example.com', actionRef: null },
  );
  assert.equal(wf.path, '.github/workflows/release.yml');
  const t = wf.text;
  const has = (text: string, lines: string[]) =>
    assert.ok(text.includes(lines.join('\n')), `${lines.join('\n')}\n--- not in ---\n${text}`);
  has(t, [
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - run: pipx run build',
    '      - uses: actions/upload-artifact@v4',
  ]);
  has(t, [
    '  publish:',
    '    needs: build',
    '    runs-on: ubuntu-latest',
    '    environment: release #',
  ]);
  has(t, ['    permissions:', '      id-token: write #']);
  has(t, ['      - uses: actions/download-artifact@v4']);
  has(t, [`      - uses: ${PYPA_ACTION}`, '        with:']);
  assert.equal(wf.unreachable, null);
  has(t, ['        with:', '          repository-url: https://pypi.example.com/legacy/', '']);
  has(t, ['  push:', '    tags: ["v*"]']);
  const noEnv = workflowFor(
    publisher('github', {
      owner: 'o',
      ownerId: '1',
      repository: 'r',
      workflow: 'publish.yaml',
      environment: '',
      ref: '',
    }),
    { publicUrl: 'https://pypi.example.com/', audience: 'pypi.example.com', actionRef: null },
  );
  assert.doesNotMatch(noEnv.text, /environment:/);
  assert.match(noEnv.text, /repository-url: https:\/\/pypi\.example\.com\/legacy\/\n/);
});

test('the GitHub workflow names the configured action, never a placeholder', () => {
  const config = {
    owner: 'o',
    ownerId: '1',
    repository: 'r',
    workflow: 'release.yml',
    environment: '',
    ref: '',
  };
  const settings = { publicUrl: 'https://pypi.example.com', audience: 'pypi.example.com' };
  const own = workflowFor(publisher('github', config), { ...settings, actionRef: 'acme/pier@v2' });
  assert.match(
    own.text,
    /\n {6}- uses: acme\/pier@v2\n {8}with:\n {10}repository-url: https:\/\/pypi\.example\.com\/legacy\/\n/,
  );
  const pypa = workflowFor(publisher('github', config), { ...settings, actionRef: null });
  assert.match(pypa.text, /- uses: pypa\/gh-action-pypi-publish@release\/v1\n/);
  for (const wf of [own, pypa]) assert.doesNotMatch(wf.text, /OWNER|<|>/);
});

test('a loopback public URL is never handed to a runner: the page says the index must be reachable', () => {
  for (const url of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:9000'])
    assert.equal(runnerCanReach(url), false, url);
  for (const url of ['https://pypi.example.com', 'http://10.0.0.5:8080', 'http://pier.internal'])
    assert.equal(runnerCanReach(url), true, url);
  const settings = {
    publicUrl: 'http://127.0.0.1:8080',
    audience: '127.0.0.1:8080',
    actionRef: null,
  };
  const github = workflowFor(
    publisher('github', {
      owner: 'o',
      ownerId: '1',
      repository: 'r',
      workflow: 'release.yml',
      environment: '',
      ref: '',
    }),
    settings,
  );
  const gitlab = workflowFor(
    publisher('gitlab', {
      namespace: 'g',
      project: 'p',
      workflowPath: '.gitlab-ci.yml',
      environment: '',
      ref: '',
    }),
    settings,
  );
  for (const wf of [github, gitlab]) {
    assert.doesNotMatch(wf.text, /http:\/\/127\.0\.0\.1/);
    assert.match(wf.unreachable ?? '', /must be reachable by the runner/);
  }
  assert.match(github.text, /repository-url: \$\{\{ vars\.PIER_REPOSITORY_URL \}\}\n/);
  assert.match(gitlab.text, /--repository-url "\$PIER_REPOSITORY_URL" dist\//);
});

test('the GitLab pipeline asks for an ID token for this index’s audience', () => {
  const wf = workflowFor(
    publisher('gitlab', {
      namespace: 'g',
      project: 'p',
      workflowPath: 'ci/release.yml',
      environment: 'release',
      ref: '',
    }),
    { publicUrl: 'https://pypi.example.com', audience: 'pypi.example.com', actionRef: null },
  );
  assert.equal(wf.path, 'ci/release.yml');
  assert.ok(
    wf.text.includes(
      ['  id_tokens:', '    PYPI_EXAMPLE_COM_ID_TOKEN:', '      aud: pypi.example.com', ''].join(
        '\n',
      ),
    ),
    wf.text,
  );
  assert.match(
    wf.text,
    /pier publish --repository-url https:\/\/pypi\.example\.com\/legacy\/ dist\//,
  );
  assert.match(wf.text, /environment: release/);
});

test('YAML scalars are quoted when they could be read otherwise', () => {
  const cases: [string, string][] = [
    ['release', 'release'],
    ['prod/eu-1', 'prod/eu-1'],
    ['yes', '"yes"'],
    ['123', '"123"'],
    ['a: b', '"a: b"'],
    ['#x', '"#x"'],
    ['', '""'],
  ];
  for (const [input, expected] of cases) assert.equal(yamlScalar(input), expected, input);
});

test('CSRF tokens compare exactly, in constant time', () => {
  const token = 'a'.repeat(43);
  assert.equal(csrfMatches(token, token), true);
  assert.equal(csrfMatches(token, `${token}x`), false);
  assert.equal(csrfMatches(token, 'b'.repeat(43)), false);
  assert.equal(csrfMatches(token, undefined), false);
  assert.equal(csrfMatches(token, [token]), false);
  assert.equal(csrfMatches(null, token), false);
  assert.equal(csrfMatches('', ''), false);
  assert.equal(csrfMatches('short', 'short'), false);
});

test('after sign-in, only local paths', () => {
  const cases: [unknown, string][] = [
    ['/project/x/', '/project/x/'],
    ['//evil.example.com/', '/'],
    ['/\\evil.example.com', '/'],
    ['https://evil.example.com/', '/'],
    ['javascript:alert(1)', '/'],
    ['/a\nb', '/'],
    [undefined, '/'],
  ];
  for (const [input, expected] of cases) assert.equal(safeNext(input), expected, String(input));
});

test('TOTP codes: the current step and one either side, nothing else', () => {
  const secret = new Secret({ size: 20 }).base32;
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  const now = 1_700_000_000_000;
  const step = Math.floor(now / 30_000);
  assert.equal(matchingStep(secret, totp.generate({ timestamp: now }), now), step);
  assert.equal(matchingStep(secret, totp.generate({ timestamp: now - 30_000 }), now), step - 1);
  assert.equal(matchingStep(secret, totp.generate({ timestamp: now + 30_000 }), now), step + 1);
  assert.equal(matchingStep(secret, totp.generate({ timestamp: now + 90_000 }), now), null);
  assert.equal(cleanCode(' 123 456 '), '123456');
  assert.equal(cleanCode('12345'), null);
  assert.equal(cleanCode('12345a'), null);
  assert.equal(cleanCode(['123456']), null);
});

test('PIER_REQUIRE_2FA_FOR_ADMINS is read like every other setting', () => {
  const cwd = '/nonexistent';
  assert.equal(loadConfig({ env: {}, cwd }).requireTwoFactorForAdmins, false);
  assert.equal(
    loadConfig({ env: { PIER_REQUIRE_2FA_FOR_ADMINS: 'true' }, cwd }).requireTwoFactorForAdmins,
    true,
  );
  assert.equal(
    loadConfig({ env: { PIER_REQUIRE_2FA_FOR_ADMINS: '0' }, cwd }).requireTwoFactorForAdmins,
    false,
  );
  assert.throws(
    () => loadConfig({ env: { PIER_REQUIRE_2FA_FOR_ADMINS: 'maybe' }, cwd }),
    /expected true or false/,
  );
});
