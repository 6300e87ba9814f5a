// The set-up of a provider's exchange test: a pier trusting an issuer the test writes (registered
// with the provider's kind), a user 'owner' owning one project, and one publisher of that kind
// for it. What the test then sends is its own.
import type { ProviderKind } from '../../src/oidc/providers/types.js';
import { startTestIssuer, type TestIssuer } from './oidc-issuer.js';
import { OPERATOR, startServer, type TestServer } from './server.js';

export interface TrustingServer {
  server: TestServer;
  issuer: TestIssuer;
  /** The audience the index's tokens must carry: its host. */
  audience: string;
  close(): Promise<void>;
}

export async function startTrustingServer(options: {
  kind: ProviderKind;
  project: string;
  /** The publisher's registration fields. */
  fields: Record<string, string | undefined>;
}): Promise<TrustingServer> {
  const issuer = await startTestIssuer();
  const server = await startServer();
  const { services } = server;
  await services.issuers.add(OPERATOR, { kind: options.kind, url: issuer.url, insecure: true });
  await services.auth.addUser(OPERATOR, { username: 'owner', password: 'owner-password' });
  await services.projects.create(OPERATOR, options.project, 'owner');
  await services.publishers.add(OPERATOR, options.project, {
    kind: options.kind,
    issuerUrl: issuer.url,
    fields: options.fields,
  });
  return {
    server,
    issuer,
    audience: new URL(server.url).host,
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}
