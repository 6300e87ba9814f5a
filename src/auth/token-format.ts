// API token format. A token is `pypi-pier_` followed by 43 base62 characters of randomness
// (256 bits) and a 6-character base62 CRC-32 of them:
//   - `pypi-` so that clients which check the prefix (the pypa publish action warns otherwise)
//     accept it; `pier_` so nobody mistakes it for a PyPI token and secret scanners can tell;
//   - the checksum lets pier (and scanners) reject a mistyped or truncated token without a
//     database lookup.
// Only a SHA-256 of the whole token is stored.
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const TOKEN_PREFIX = 'pypi-pier_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECK_LENGTH = 6;
const TOKEN_RE = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECK_LENGTH}}$`);

function base62(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), CHECK_LENGTH);
}

export function generateToken(): string {
  const body = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH);
  return `${TOKEN_PREFIX}${body}${checksum(body)}`;
}

/** True when `text` has the form of a pier token and its checksum is right. */
export function isWellFormedToken(text: string): boolean {
  if (!TOKEN_RE.test(text)) return false;
  const body = text.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  return checksum(body) === text.slice(TOKEN_PREFIX.length + BODY_LENGTH);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What lists show of a token: enough to recognise it, far too little to use it. */
export function tokenDisplayPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 6);
}
