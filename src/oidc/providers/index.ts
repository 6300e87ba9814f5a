// The trusted-publishing providers pier knows, and the issuer each one has built in.
import { activestateProvider, ACTIVESTATE_ISSUER_URL } from './activestate.js';
import { githubProvider, GITHUB_ISSUER_URL } from './github.js';
import { gitlabProvider, GITLAB_ISSUER_URL } from './gitlab.js';
import { googleProvider, GOOGLE_ISSUER_URL } from './google.js';
import type { Provider, ProviderKind } from './types.js';

export { PREVERIFIED_CLAIMS } from './core.js';

export const PROVIDERS: Record<ProviderKind, Provider<unknown>> = {
  github: githubProvider,
  gitlab: gitlabProvider,
  google: googleProvider,
  activestate: activestateProvider,
};

/** Issuer URLs, exactly as tokens carry them in `iss`. */
export const BUILTIN_ISSUERS: Record<ProviderKind, string> = {
  github: GITHUB_ISSUER_URL,
  gitlab: GITLAB_ISSUER_URL,
  google: GOOGLE_ISSUER_URL,
  activestate: ACTIVESTATE_ISSUER_URL,
};
