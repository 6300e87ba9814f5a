// The issuer's signing key: a 2048-bit RSA key made at start, or kept in a PEM (PKCS#8) file so
// that a restarted issuer signs with the same key and an index's cached JWKS stays right. The key
// id is the key's RFC 7638 thumbprint, so the same key always has the same `kid`.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { DevOidcError } from './options.js';

export const SIGNING_ALG = 'RS256';
const MODULUS_BITS = 2048;

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** The public half as a JWK with kid, alg and use. */
  publicJwk: JWK;
}

const generateRsa = promisify(generateKeyPair);

async function newPrivateKey(): Promise<KeyObject> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: MODULUS_BITS });
  return privateKey;
}

function parsePrivateKey(pem: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new DevOidcError(
      `the --key-file ${path} does not hold an unencrypted PEM private key: ${(err as Error).message}`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MODULUS_BITS)
    throw new DevOidcError(
      `the --key-file ${path} must hold an RSA key of at least ${MODULUS_BITS} bits for RS256, ` +
        `got ${key.asymmetricKeyType ?? 'an unknown key type'}${bits ? ` of ${bits} bits` : ''}`,
    );
  return key;
}

/** The key in `path`, written there first (mode 0600) when the file does not exist. */
async function keyFromFile(path: string): Promise<KeyObject> {
  let pem: string | undefined;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new DevOidcError(`cannot read the --key-file ${path}: ${(err as Error).message}`);
  }
  if (pem !== undefined) return parsePrivateKey(pem, path);
  const key = await newPrivateKey();
  const out = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    await mkdir(dirname(path), { recursive: true });
    // 'wx': if another process made the file meanwhile, use theirs rather than overwrite it.
    await writeFile(path, out, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return parsePrivateKey(await readFile(path, 'utf8'), path);
    throw new DevOidcError(`cannot write the --key-file ${path}: ${(err as Error).message}`);
  }
  return key;
}

export async function loadSigningKey(keyFile: string | undefined): Promise<SigningKey> {
  const privateKey = keyFile === undefined ? await newPrivateKey() : await keyFromFile(keyFile);
  const { kty, n, e } = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint({ kty, n, e }, 'sha256');
  return { kid, privateKey, publicJwk: { kty, n, e, kid, alg: SIGNING_ALG, use: 'sig' } };
}
