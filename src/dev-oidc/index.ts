// `pier dev-oidc`, the development OIDC issuer: a local stand-in for GitHub Actions' token
// service, minting tokens shaped like any CI platform's whose provider module declares a `dev`
// shape (./shape.ts), so that trusted publishing runs on a laptop and in tests.
// It is a separate tool: nothing here imports the index server.
export { startDevOidc, type DevOidcServer } from './server.js';
export {
  registerDevOidcCommand,
  startupText,
  projectNameFromPyproject,
  type LaptopSetup,
  shellQuote,
  type DevOidcCommandIo,
} from './command.js';
export {
  DevOidcError,
  DEV_OIDC_KINDS,
  type DevOidcKind,
  type DevOidcOptions,
  type JobSettings,
} from './options.js';
export { DEFAULTS as DEV_OIDC_DEFAULTS, type Claims } from './claims.js';
export { githubSubject } from './actions.js';
export { devKinds, devShape, jobClaims } from './kinds.js';
export type { DevTokenShape, DevClaims } from './shape.js';
