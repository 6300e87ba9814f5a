// The token format lives with the rest of a token's life in src/auth/tokens.ts.
export {
  generateToken,
  hashToken,
  isWellFormedToken,
  TOKEN_PREFIX,
  tokenDisplayPrefix,
} from './tokens.js';
