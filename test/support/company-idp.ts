// A company's identity provider for the tests of company sign-in: panva's oidc-provider (the
// certified OpenID Provider implementation) on loopback, with its development login and consent
// pages (any login name signs in as that account, whatever the password). Accounts are a map the
// test changes: their claims (user name, groups) as the ID token carries them, and removing one
// makes the provider refuse it (its authorization code no longer redeems).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// oidc-provider ships no type declarations.
// @ts-expect-error -- untyped JavaScript module
import Provider from 'oidc-provider';

export interface IdpAccount {
  preferred_username?: unknown;
  email?: string;
  groups?: unknown;
}

export interface CompanyIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, IdpAccount>;
  /** Registers the redirect URIs of pier's providers (once pier's URL is known). */
  allowRedirects(uris: string[]): void;
  close(): Promise<void>;
}

export async function startCompanyIdp(): Promise<CompanyIdp> {
  let handler: ((req: unknown, res: unknown) => void) | null = null;
  const server: Server = createServer((req, res) => {
    if (!handler) {
      res.statusCode = 503;
      res.end('not ready');
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, IdpAccount>();
  const clientId = 'pier-index';
  const clientSecret = 'company-idp-client-secret-0123456789';
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    allowRedirects(uris) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: uris,
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        async findAccount(_ctx: unknown, id: string) {
          const account = accounts.get(id);
          if (!account) return undefined;
          return { accountId: id, claims: async () => ({ sub: id, ...account }) };
        },
        claims: {
          openid: ['sub'],
          profile: ['preferred_username', 'groups'],
          email: ['email'],
        },
        // The scopes' claims in the ID token itself, as Okta, Entra ID and Keycloak can send them.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: true } },
        pkce: { required: () => true },
        cookies: { keys: ['company-idp-cookie-key'] },
      });
      // Plain HTTP on loopback: oidc-provider's cookies are not Secure then.
      provider.proxy = false;
      handler = provider.callback();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
