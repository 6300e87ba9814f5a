// The development issuer's HTTP side: OIDC discovery, the JWKS, and a token endpoint that
// behaves like GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL (GET with `audience` in the query and
// `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`, answering `{"value": "<jwt>"}`);
// for a platform whose jobs ask otherwise (its shape's `tokenRequest`), that request too:
// Google's metadata server, Azure DevOps' POST to SYSTEM_OIDCREQUESTURI.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import { mergeClaims, type Claims } from './claims.js';
import { devShape } from './kinds.js';
import type { DevTokenShape, TokenRequest } from './shape.js';
import { loadSigningKey, SIGNING_ALG } from './keys.js';
import { DevOidcError, resolveOptions, type DevOidcKind, type DevOidcOptions } from './options.js';

export interface DevOidcServer {
  /** The issuer URL: tokens' `iss`, the discovery document's `issuer`. No trailing slash. */
  url: string;
  /** Where the server listens (differs from `url` only with `issuer`). */
  baseUrl: string;
  kind: DevOidcKind;
  /** The signing key's id (its JWK thumbprint). */
  kid: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN: the bearer token the token endpoint requires. */
  requestToken: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL: the token endpoint, `…/token?api-version=2.0`. */
  requestUrl: string;
  /** The job's claims: every claim a token carries except iss, aud, iat, nbf, exp and jti. */
  claims: Readonly<Claims>;
  /** The audience of a token requested without one (GitHub: https://github.com/OWNER). */
  defaultAudience: string | undefined;
  /** How the kind's jobs ask for a token (the variables `env()` exports follow it). */
  tokenRequest: TokenRequest;
  /** The environment variables a CI job would have, by name. */
  env(): Record<string, string>;
  /** Sign a token in-process; `overrides` are merged last (null removes a claim). */
  mintToken(audience: string, overrides?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const NOT_BEFORE_SKEW_SECONDS = 5;

/** Google's metadata server: a service account's identity token (GCE_METADATA_HOST). */
export const GCE_IDENTITY_PATH = '/computeMetadata/v1/instance/service-accounts/default/identity';

/**
 * Where an Azure Pipelines job POSTs for its token (its SYSTEM_OIDCREQUESTURI, whose real form is
 * `https://dev.azure.com/ORG/PROJECT_ID/_apis/distributedtask/hubs/build/plans/PLAN/jobs/JOB/oidctoken`).
 */
export const AZURE_OIDC_REQUEST_PATH =
  '/_apis/distributedtask/hubs/build/plans/5b4ec6a3-9c1f-4b6e-8d2a-0f3e7c9a1d24/jobs/12f1170f-54f2-53f3-20dd-22fc7dff55f9/oidctoken';

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison of two strings of any lengths. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(bytes.length),
    ...headers,
  });
  res.end(bytes);
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Start the development issuer. Resolves once it listens; rejects with a DevOidcError on bad options. */
export async function startDevOidc(options: DevOidcOptions = {}): Promise<DevOidcServer> {
  const o = resolveOptions(options);
  const found = devShape(o.kind);
  if (!found) throw new DevOidcError(`no development token shape for ${o.kind}`);
  const shape: DevTokenShape = found;
  const key = await loadSigningKey(o.keyFile);
  const requestToken = o.requestToken ?? randomBytes(32).toString('base64url');

  const server = o.tls
    ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key })
    : createHttpServer();
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new DevOidcError(`cannot listen on ${o.host}:${o.port}: ${err.message}`)),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `${o.tls ? 'https' : 'http'}://${urlHost(o.host)}:${port}`;
  // E.g. a Forgejo instance's issuer is its web root + /api/actions.
  const issuer = o.issuer ?? shape.issuer?.(baseUrl, o.job, o.fileClaims) ?? baseUrl;
  const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '');
  const jwksPath = shape.jwksPath ?? '/.well-known/jwks';
  const claims = Object.freeze(shape.claims(o.job, o.fileClaims, issuer));
  const defaultAudience = shape.fixedAudience ?? shape.defaultAudience?.(claims);
  const requestUrl = `${baseUrl}/token?api-version=2.0`;
  const tokenRequest = shape.tokenRequest ?? 'actions';

  const discovery = {
    issuer,
    jwks_uri: `${issuer}${jwksPath}`,
    subject_types_supported: ['public', 'pairwise'],
    response_types_supported: ['id_token'],
    claims_supported: [
      ...new Set(['iss', 'aud', 'iat', 'nbf', 'exp', 'jti', ...Object.keys(claims)]),
    ],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
    scopes_supported: ['openid'],
  };
  const jwks = { keys: [key.publicJwk] };

  async function mintToken(
    audience: string,
    overrides: Record<string, unknown> = {},
  ): Promise<string> {
    if (typeof audience !== 'string' || audience === '')
      throw new DevOidcError('a token needs an audience');
    const iat = Math.floor(Date.now() / 1000);
    const registered = {
      iss: issuer,
      aud: audience,
      iat,
      nbf: iat - NOT_BEFORE_SKEW_SECONDS,
      exp: iat + o.lifetime,
      jti: randomUUID(),
    };
    const payload = mergeClaims(registered, claims, overrides);
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  /** The bearer token a request carries is the request token; else the refusal was sent. */
  function authorized(req: IncomingMessage, res: ServerResponse, variable: string): boolean {
    const bearer = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
    const challenge = { 'www-authenticate': 'Bearer' };
    if (bearer === undefined)
      send(res, 401, { message: `Authorization: bearer <${variable}> is required` }, challenge);
    else if (!sameSecret(bearer, requestToken))
      send(res, 401, { message: `the bearer token is not this issuer’s ${variable}` }, challenge);
    else return true;
    return false;
  }

  /** The audience a job gets: the platform's fixed one, else the one it asked for, else none. */
  const audienceOf = (asked: string | null): string | undefined =>
    shape.fixedAudience ?? (asked || defaultAudience);

  async function token(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<void> {
    if (!authorized(req, res, 'ACTIONS_ID_TOKEN_REQUEST_TOKEN')) return;
    const audience = audienceOf(query.get('audience'));
    if (!audience)
      return send(res, 400, {
        message: `${shape.platform} tokens have no default audience: add &audience=<aud> to the URL`,
      });
    const jwt = await mintToken(audience);
    o.log(`issued a ${o.kind} token for audience ${JSON.stringify(audience)}`);
    send(res, 200, { value: jwt }, { 'cache-control': 'no-store' });
  }

  /** Google's metadata server: no secret, the Metadata-Flavor header, the bare JWT. */
  async function gceIdentity(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<void> {
    const flavor = { 'metadata-flavor': 'Google' };
    const plain = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...flavor });
      res.end(text);
    };
    if (req.headers['metadata-flavor'] !== 'Google')
      return plain(403, 'Missing required header: Metadata-Flavor: Google\n');
    const audience = query.get('audience');
    if (!audience) return plain(400, 'non-empty audience parameter required\n');
    // format=full adds the `google` claim (the instance); the standard format has none.
    const jwt = await mintToken(audience, query.get('format') === 'full' ? {} : { google: null });
    o.log(`issued a ${o.kind} identity token for audience ${JSON.stringify(audience)}`);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...flavor });
    res.end(jwt);
  }

  /** Azure DevOps' oidctoken request: a POST, bearer System.AccessToken, `{"oidcToken": …}`. */
  async function azureOidcToken(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<void> {
    req.resume(); // the body (empty, or {}) says nothing: the audience cannot be asked for
    if (!authorized(req, res, 'SYSTEM_ACCESSTOKEN')) return;
    if (!query.get('api-version'))
      return send(res, 400, { message: 'the api-version query parameter is required (7.1)' });
    if (query.has('serviceConnectionId'))
      return send(res, 400, {
        message:
          "this development issuer mints the pipeline's own token (p://…), not a service connection's: leave serviceConnectionId out",
      });
    const audience = audienceOf(null);
    if (!audience) return send(res, 500, { message: `${shape.platform} has no fixed audience` });
    const jwt = await mintToken(audience);
    o.log(`issued a ${o.kind} token for audience ${JSON.stringify(audience)}`);
    send(res, 200, { oidcToken: jwt }, { 'cache-control': 'no-store' });
  }

  type Handler = (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => unknown;
  const READ = ['GET', 'HEAD'];
  const routes: Record<string, { methods: string[]; handle: Handler }> = {
    '/.well-known/openid-configuration': {
      methods: READ,
      handle: (_req, res) => send(res, 200, discovery),
    },
    '/.well-known/jwks': { methods: READ, handle: (_req, res) => send(res, 200, jwks) },
    '/token': { methods: READ, handle: token },
  };
  if (jwksPath !== '/.well-known/jwks') routes[jwksPath] = routes['/.well-known/jwks']!;
  if (tokenRequest === 'gce-metadata')
    routes[GCE_IDENTITY_PATH] = { methods: ['GET'], handle: gceIdentity };
  if (tokenRequest === 'azure-devops')
    routes[AZURE_OIDC_REQUEST_PATH] = { methods: ['POST'], handle: azureOidcToken };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dev-oidc.invalid');
    let path = url.pathname;
    // Behind another name (--issuer https://host/prefix), a proxy may keep the prefix.
    if (issuerPath && path.startsWith(`${issuerPath}/`)) path = path.slice(issuerPath.length);
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return send(res, 404, { message: 'Not Found' });
    if (!route.methods.includes(req.method ?? ''))
      return send(res, 405, { message: 'Method Not Allowed' }, { allow: route.methods.join(', ') });
    Promise.resolve(route.handle(req, res, url.searchParams)).catch((err: unknown) => {
      o.log(`error serving ${path}: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, { message: 'internal error' });
      else res.destroy();
    });
  });

  /** The variables of the job's token request (`tokenRequest`). */
  const requestVariables: Record<TokenRequest, Record<string, string>> = {
    actions: {
      ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      GITHUB_ACTIONS: 'true',
    },
    'gce-metadata': { GCE_METADATA_HOST: new URL(baseUrl).host },
    'azure-devops': {
      SYSTEM_OIDCREQUESTURI: `${baseUrl}${AZURE_OIDC_REQUEST_PATH}`,
      SYSTEM_ACCESSTOKEN: requestToken,
    },
  };

  let closing: Promise<void> | undefined;
  return {
    url: issuer,
    baseUrl,
    kind: o.kind,
    kid: key.kid,
    requestToken,
    requestUrl,
    claims,
    defaultAudience,
    tokenRequest,
    env() {
      const vars: Record<string, string | undefined> = {
        ...requestVariables[tokenRequest],
        ...shape.environment(claims, issuer),
      };
      return Object.fromEntries(
        Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined),
      );
    },
    mintToken,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
