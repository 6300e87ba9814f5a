// The mock Sigstore (sigstore.ts) served as Fulcio and Rekor are, over HTTPS with the test CA,
// so the publish client signs through @sigstore/sign's real HTTP requests. Rekor is
// @sigstore/mock's own handler, after the step a real Rekor takes and the mock skips: a
// proposed `dsse` entry (the envelope and its verifier) becomes the canonical body Rekor logs
// (the envelope's and payload's hashes, each signature with its verifier). Fulcio is a small front on the mock's CA, because the mock's
// `fulcioHandler` writes every GitHub URI under https://github.com: this one does what a Fulcio
// configured for a GitHub Enterprise issuer does: it verifies the OIDC token (audience
// `sigstore`, signature against the issuer's JWKS) and fills the certificate from its claims
// with the issuer's origin as the web host (Fulcio's GitHub template, reference attestations.md §4).
import { createHash } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { rekorHandler } from '@sigstore/mock';
import { OID, type MockSigstore } from './sigstore.js';
import type { TestCertificates } from './tls.js';

export interface SigstoreServices {
  fulcioUrl: string;
  rekorUrl: string;
  /** Paths of the requests served, in order. */
  requests: string[];
  /** Answer requests to `path` with `status` until reset with null. */
  fail(path: string | null, status?: number): void;
  close(): Promise<void>;
}

const pem = (der: ArrayBufferView) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')}\n-----END CERTIFICATE-----\n`;

const fromPem = (text: string) =>
  Buffer.from(text.replace(/-{5}(BEGIN|END) [^-]+-{5}/g, '').replace(/\s/g, ''), 'base64');

async function issue(mock: MockSigstore, body: string): Promise<string> {
  const request = JSON.parse(body);
  const token: string = request.credentials.oidcIdentityToken;
  const iss = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  const discovery = (await (await fetch(`${iss}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const { payload: c } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
    issuer: iss,
    audience: 'sigstore',
  });
  const web = new URL(iss).origin;
  const extensions: Record<keyof typeof OID, unknown> = {
    issuer: iss,
    buildSignerUri: `${web}/${c.job_workflow_ref}`,
    runnerEnvironment: c.runner_environment,
    sourceRepositoryUri: `${web}/${c.repository}`,
    sourceRepositoryDigest: c.sha,
    sourceRepositoryRef: c.ref,
    sourceRepositoryOwnerId: c.repository_owner_id,
    buildConfigUri: `${web}/${c.workflow_ref}`,
  };
  const leaf = await mock.ca.issueCertificate({
    publicKey: fromPem(request.publicKeyRequest.publicKey.content),
    subjectAltName: `${web}/${c.job_workflow_ref}`,
    extensions: Object.entries(extensions)
      .filter(([, v]) => typeof v === 'string')
      .map(([name, value]) => ({ oid: OID[name as keyof typeof OID], value: value as string })),
  });
  return JSON.stringify({
    signedCertificateEmbeddedSct: {
      chain: { certificates: [pem(leaf), pem(mock.ca.rootCertificate)] },
    },
  });
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Rekor v1's canonical `dsse` 0.0.1 body for a proposed entry (others pass unchanged). */
function canonicalEntry(body: string): string {
  const proposed = JSON.parse(body);
  const content = proposed.kind === 'dsse' ? proposed.spec?.proposedContent : undefined;
  if (!content) return body;
  const envelope = JSON.parse(content.envelope);
  return JSON.stringify({
    apiVersion: proposed.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256Hex(content.envelope) },
      payloadHash: {
        algorithm: 'sha256',
        value: sha256Hex(Buffer.from(envelope.payload, 'base64')),
      },
      signatures: envelope.signatures.map((s: { sig: string }) => ({
        signature: s.sig,
        verifier: content.verifiers[0],
      })),
    },
  });
}

export async function serveMockSigstore(
  mock: MockSigstore,
  certs: TestCertificates,
): Promise<SigstoreServices> {
  const rekor = rekorHandler(mock.tlog);
  const requests: string[] = [];
  let failing: { path: string; status: number } | null = null;
  const server = createServer(
    { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '').replace(/^\/(fulcio|rekor)/, '');
        requests.push(path);
        const send = (status: number, body: string, type = 'application/json') => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        };
        if (failing && failing.path === path)
          return send(
            failing.status,
            JSON.stringify({ code: failing.status, message: 'refused by the test' }),
          );
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.method === 'POST' && path === '/api/v2/signingCert')
          issue(mock, body).then(
            (answer) => send(201, answer),
            (err: Error) => send(400, JSON.stringify({ code: 400, message: err.message })),
          );
        else if (req.method === 'POST' && path === rekor.path)
          rekor
            .fn(canonicalEntry(body))
            .then(({ statusCode, response, contentType }) =>
              send(statusCode, String(response), contentType ?? 'text/plain'),
            );
        else send(404, JSON.stringify({ code: 404, message: `no ${req.method} ${path}` }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    fulcioUrl: `${base}/fulcio`,
    rekorUrl: `${base}/rekor`,
    requests,
    fail(path, status = 500) {
      failing = path === null ? null : { path, status };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
