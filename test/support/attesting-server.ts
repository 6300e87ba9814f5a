// A pier that verifies attestations against a private Sigstore (test/support/sigstore.ts): a
// test OIDC issuer of kind github registered, project `octo-lib` owned by `owner` with that
// issuer's octo-org/octo-repo release.yml as its trusted publisher, and helpers to upload a wheel
// with attestations, as uv posts them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { OPERATOR, startServer, type TestServer } from './server.js';
import { githubClaims, startTestIssuer, type TestIssuer } from './oidc-issuer.js';
import { postUpload, sha256, uploadParts, type Part, type UploadResponse } from './upload.js';
import { makeWheel } from './dists.js';
import { tempDir } from './tmp.js';
import {
  githubIdentity,
  startMockSigstore,
  type MockSigstore,
  type SigningIdentity,
} from './sigstore.js';
import { RELEASE_JOB_FIELDS } from './dev-oidc.js';

export interface AttestingServer {
  server: TestServer;
  issuer: TestIssuer;
  mock: MockSigstore;
  /** An upload token of `owner`. */
  apiToken: string;
  /** A token minted for the trusted publisher. */
  mintToken(): Promise<string>;
  /** The certificate identity of the publisher's job (repositories at the issuer's origin). */
  identity(over?: Parameters<typeof githubIdentity>[0]): SigningIdentity;
  /** An octo-lib wheel of `version`, with its sha256. */
  wheel(version: string): Promise<{ filename: string; content: Buffer; sha256: string }>;
  /** The form of an octo-lib upload, with `attestations` (the field's text) when not null. */
  parts(
    w: { filename: string; content: Buffer },
    version: string,
    attestations: string | null,
  ): Promise<Part[]>;
  /** Uploads octo-lib `version` with one attestation of the publisher (or `attest: false`). */
  upload(version: string, opts?: { token?: string; attest?: boolean }): Promise<UploadResponse>;
  close(): Promise<void>;
}

export async function startAttestingServer(
  overrides: Partial<Record<keyof Config, unknown>> = {},
): Promise<AttestingServer> {
  const mock = await startMockSigstore();
  const rootFile = join(tempDir(), 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(mock.trustedRoot));
  const issuer = await startTestIssuer();
  const server = await startServer({ sigstoreTrustedRoot: rootFile, ...overrides });
  await server.services.issuers.add(OPERATOR, { kind: 'github', url: issuer.url, insecure: true });
  await server.services.auth.addUser(OPERATOR, {
    username: 'owner',
    password: 'owner-password',
    mayCreateProjects: true,
  });
  await server.services.projects.create(OPERATOR, 'octo-lib', 'owner');
  await server.services.publishers.add(OPERATOR, 'octo-lib', {
    kind: 'github',
    issuerUrl: issuer.url,
    fields: RELEASE_JOB_FIELDS,
  });
  const apiToken = await server.userWithToken('owner');

  const identity = (over: Parameters<typeof githubIdentity>[0] = {}) =>
    githubIdentity({ issuer: issuer.url, web: issuer.url, ref: 'refs/tags/v1.0.0', ...over });

  async function mintToken(): Promise<string> {
    const jwt = await issuer.sign(githubClaims(issuer.url, new URL(server.url).host));
    const res = await fetch(`${server.url}/_/oidc/mint-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: jwt }),
    });
    const body = (await res.json()) as { token: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.token;
  }

  async function wheel(version: string) {
    const w = await makeWheel({ name: 'octo-lib', version });
    return { ...w, sha256: sha256(w.content) };
  }

  async function parts(
    w: { filename: string; content: Buffer },
    version: string,
    attestations: string | null,
  ): Promise<Part[]> {
    const form = await uploadParts({ ...w, fields: { name: 'octo-lib', version } });
    // After the other fields and before the file, as uv sends it.
    if (attestations !== null) form.splice(form.length - 1, 0, ['attestations', attestations]);
    return form;
  }

  return {
    server,
    issuer,
    mock,
    apiToken,
    mintToken,
    identity,
    wheel,
    parts,
    async upload(version, opts = {}) {
      const w = await wheel(version);
      const field =
        opts.attest === false
          ? null
          : JSON.stringify([
              await mock.attest({ filename: w.filename, sha256: w.sha256, identity: identity() }),
            ]);
      return postUpload(server.url, opts.token ?? apiToken, await parts(w, version, field));
    },
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}
