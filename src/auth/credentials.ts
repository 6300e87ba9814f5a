// Reading credentials from an Authorization header, the way PyPI's clients send them:
// HTTP Basic with username `__token__` and the token as password (twine, uv, the pypa action),
// `Bearer <token>` or `token <token>`, or HTTP Basic with a user's name and password (pip with
// credentials in the index URL, .netrc or keyring).

export type Credentials =
  { kind: 'token'; token: string } | { kind: 'password'; username: string; password: string };

export const TOKEN_USERNAME = '__token__';

export type ParsedAuthorization =
  Credentials | { kind: 'none' } | { kind: 'malformed'; reason: string };

export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(header);
  if (!m) return { kind: 'malformed', reason: 'Malformed Authorization header' };
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer' || scheme === 'token') return { kind: 'token', token: value };
  if (scheme !== 'basic')
    return { kind: 'malformed', reason: `Unsupported authorization scheme '${m[1]}'` };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    return { kind: 'malformed', reason: 'Malformed Basic credentials' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed', reason: 'Malformed Basic credentials' };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (username === TOKEN_USERNAME) return { kind: 'token', token: password };
  return { kind: 'password', username, password };
}
