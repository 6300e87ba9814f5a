// An OIDC issuer written by the tests themselves (so pier never only trusts tokens that its own
// dev-oidc signed): discovery and JWKS on loopback, tokens signed with jose, and knobs for the
// failures an index must refuse — rotated and unknown keys, a lying discovery document, ES256,
// a request counter to prove that some tokens are refused without any network request, HTTPS
// with the tests' own CA, and a hook to answer any path as a hostile issuer would (redirects,
// huge bodies, garbage).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: SigningKey;
  publicJwk: JWK;
}

export async function makeKey(
  alg: 'RS256' | 'ES256' = 'RS256',
  kid: string = randomUUID(),
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

export interface TestIssuer {
  url: string;
  keys: TestKey[];
  /** Requests served, by path. */
  requests: string[];
  /** Override what discovery says the issuer is. */
  discoveryIssuer: string | null;
  /** GitHub-style /users/<name> API answers: name -> id. */
  users: Map<string, number>;
  /** Answers a request itself when it returns true (a hostile or broken issuer). */
  override: ((path: string, req: IncomingMessage, res: ServerResponse) => boolean) | null;
  sign(
    claims: JWTPayload,
    options?: { key?: TestKey; header?: Record<string, unknown>; omitKid?: boolean },
  ): Promise<string>;
  close(): Promise<void>;
}

/** `tls`: serve HTTPS with this certificate and key (PEM files), e.g. testCertificates(). */
export async function startTestIssuer(
  options: { tls?: { cert: string; key: string } } = {},
): Promise<TestIssuer> {
  const issuer: TestIssuer = {
    url: '',
    keys: [await makeKey('RS256')],
    requests: [],
    discoveryIssuer: null,
    users: new Map(),
    override: null,
    async sign(claims, options = {}) {
      const key = options.key ?? issuer.keys[0]!;
      const header = {
        alg: key.alg,
        typ: 'JWT',
        ...(options.omitKid ? {} : { kid: key.kid }),
        ...options.header,
      };
      return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    issuer.requests.push(path);
    if (issuer.override?.(path, req, res)) return;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration')
      return json(200, {
        issuer: issuer.discoveryIssuer ?? issuer.url,
        jwks_uri: `${issuer.url}/keys`,
      });
    if (path === '/keys') return json(200, { keys: issuer.keys.map((k) => k.publicJwk) });
    const user = /^\/api\/users\/([^/]+)$/.exec(path);
    if (user) {
      const id = issuer.users.get(decodeURIComponent(user[1]!).toLowerCase());
      return id === undefined
        ? json(404, { message: 'Not Found' })
        : json(200, { login: decodeURIComponent(user[1]!), id });
    }
    json(404, { message: 'Not Found' });
  };
  const server: Server = options.tls
    ? createHttpsServer(
        { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) },
        handler,
      )
    : createServer(handler);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  issuer.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  server.unref();
  return issuer;
}

/** Claims of a GitHub Actions job, as GitHub's documentation shows them. */
export function githubClaims(
  issuerUrl: string,
  audience: string,
  over: Record<string, unknown> = {},
): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const repository = (over.repository as string | undefined) ?? 'octo-org/octo-repo';
  const workflow = (over.workflow_file as string | undefined) ?? 'release.yml';
  const ref = (over.ref as string | undefined) ?? 'refs/tags/v1.0.0';
  const sha = 'a'.repeat(40);
  const claims: Record<string, unknown> = {
    iss: issuerUrl,
    aud: audience,
    iat: now,
    nbf: now - 5,
    exp: now + 300,
    jti: randomUUID(),
    sub: `repo:${repository}:environment:release`,
    repository,
    repository_owner: repository.split('/')[0],
    repository_owner_id: '65',
    repository_id: '74',
    repository_visibility: 'private',
    actor: 'octocat',
    actor_id: '12',
    workflow: 'Release',
    workflow_ref: `${repository}/.github/workflows/${workflow}@${ref}`,
    workflow_sha: sha,
    job_workflow_ref: `${repository}/.github/workflows/${workflow}@${ref}`,
    job_workflow_sha: sha,
    ref,
    ref_type: 'tag',
    ref_protected: 'false',
    sha,
    run_id: '4242',
    run_number: '7',
    run_attempt: '1',
    event_name: 'push',
    environment: 'release',
    runner_environment: 'github-hosted',
    head_ref: '',
    base_ref: '',
    ...over,
  };
  delete claims.workflow_file;
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims as JWTPayload;
}
