// Running the publish client as users and CI runners do — `pier publish` and the action's bundle
// as separate processes — in an environment without this machine's CI, token or CA settings,
// so that only what a test gives counts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { PIER_BIN, REPO_ROOT } from '../support/server.js';

export const ACTION_BUNDLE = join(REPO_ROOT, 'action', 'dist', 'index.cjs');

/** Variables that would make the client see a CI platform, a token or a CA it was not given. */
const LEAKY =
  /^(CI|GITHUB_.*|ACTIONS_.*|RUNNER_.*|INPUT_.*|GITLAB_CI|CI_.*|BUILDKITE.*|CIRCLECI|CIRCLE_.*|BITBUCKET_.*|GCE_METADATA_HOST|TF_BUILD|SYSTEM_OIDCREQUESTURI|SYSTEM_ACCESSTOKEN|PIER_.*|TWINE_.*|NODE_EXTRA_CA_CERTS|.*_ID_TOKEN)$/;

export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !LEAKY.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function runNode(args: string[], env: Record<string, string>, cwd?: string): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/** `pier publish ARGS` with a clean environment plus `env`. */
export function runPublish(
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd?: string,
) {
  return runNode([PIER_BIN, 'publish', ...args], cleanEnv(env), cwd);
}

/** GET a JSON document over HTTPS trusting `ca`. */
export function getJson(
  url: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<any> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: readFileSync(ca), headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(new Error(`${url}: ${res.statusCode} ${body.slice(0, 200)} (${String(err)})`));
          }
        });
      })
      .on('error', reject);
  });
}

/** A fresh OIDC token from a dev-oidc issuer's token endpoint, for `audience`. */
export async function devToken(devEnv: Record<string, string>, audience: string): Promise<string> {
  const res = await fetch(
    `${devEnv.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`,
    { headers: { authorization: `bearer ${devEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } },
  );
  if (res.status !== 200) throw new Error(`dev-oidc answered ${res.status}`);
  return ((await res.json()) as { value: string }).value;
}
