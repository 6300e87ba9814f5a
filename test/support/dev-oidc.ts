// Running `pier dev-oidc` as users do, and reading the environment it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { PIER_BIN } from './server.js';

/** The claims of the standard release job: octo-org/octo-repo, release.yml, environment release. */
export const RELEASE_JOB: readonly string[] = [
  '--repository',
  'octo-org/octo-repo',
  '--workflow',
  'release.yml',
  '--environment',
  'release',
];

/** RELEASE_JOB's registration fields (PublisherService, the REST API), without its environment. */
export const RELEASE_JOB_FIELDS = {
  owner: 'octo-org',
  repository: 'octo-repo',
  workflow: 'release.yml',
  ownerId: '65',
} as const;

/** `pier publisher add PROJECT` trusting RELEASE_JOB (owner id 65) as issued by `issuerUrl`. */
export function releaseJobPublisher(project: string, issuerUrl: string): string[] {
  return [
    'publisher',
    'add',
    project,
    '--provider',
    'github',
    ...RELEASE_JOB,
    '--owner-id',
    '65',
    '--issuer',
    issuerUrl,
  ];
}

export interface DevOidcProcess {
  url: string;
  env: Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

export async function startDevOidcProcess(args: readonly string[]): Promise<DevOidcProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [PIER_BIN, 'dev-oidc', '--port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev-oidc did not start:\n${output}`)), 20_000);
    const check = () => {
      if (/^# Serving until interrupted/m.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dev-oidc exited with ${code}:\n${output}`));
    });
  });
  const env: Record<string, string> = {};
  for (const m of output.matchAll(/^export ([A-Z_]+)=(.*)$/gm))
    env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  const url = /pier issuer add --kind \w+ --url (\S+)/.exec(output)![1]!;
  return {
    url,
    env,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
