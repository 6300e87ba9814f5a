// API tokens: their one home. A token is `pypi-pier_` followed by 43 base62 characters of
// randomness (256 bits) and a 6-character base62 CRC-32 of them:
//   - `pypi-` so that clients which check the prefix (the pypa publish action warns otherwise)
//     accept it; `pier_` so nobody mistakes it for a PyPI token and secret scanners can tell;
//   - the checksum lets pier (and scanners) reject a mistyped or truncated token without a
//     database lookup.
// Only a SHA-256 of the whole token is stored. This module generates, hashes and recognises
// tokens, and is the only one that inserts `tokens` rows (with their `token_projects`): the
// users' API tokens (src/auth/service.ts) and the tokens minted by the trusted-publishing
// exchange (src/oidc/exchange.ts) alike.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { crc32 } from 'node:zlib';
import type { Database } from '../db/schema.js';
import type { Scope } from './principal.js';

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

/** A token to insert: who it belongs to, what it may do, and on which projects. */
export interface NewToken {
  /** The user of an API token; null for a minted one. */
  userId: number | null;
  /** The publisher of a minted token; null for an API token. */
  publisherId: number | null;
  name: string;
  scope: Scope;
  /**
   * The projects it is limited to (for minted tokens, each with the publisher that trusts it);
   * null: not limited to projects.
   */
  projects: readonly { projectId: number; publisherId?: number | null }[] | null;
  createdAt: number;
  expiresAt: number | null;
  /** For minted tokens: the provenance (JSON). */
  claimsJson: string | null;
}

/** Inserts the token and its project links in the caller's transaction; returns its id and text. */
export async function insertToken(
  trx: Transaction<Database> | Kysely<Database>,
  token: NewToken,
): Promise<{ id: number; raw: string }> {
  const raw = generateToken();
  const row = await trx
    .insertInto('tokens')
    .values({
      user_id: token.userId,
      publisher_id: token.publisherId,
      name: token.name,
      token_hash: hashToken(raw),
      display_prefix: tokenDisplayPrefix(raw),
      scope: token.scope,
      project_limited: token.projects !== null && token.projects.length > 0 ? 1 : 0,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      revoked_at: null,
      last_used_at: null,
      claims_json: token.claimsJson,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const p of token.projects ?? [])
    await trx
      .insertInto('token_projects')
      .values({
        token_id: row.id,
        project_id: p.projectId,
        ...(p.publisherId !== undefined ? { publisher_id: p.publisherId } : {}),
      })
      .execute();
  return { id: row.id, raw };
}
