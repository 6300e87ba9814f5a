// What must never reach a log: tokens (ours and PyPI-style, `pypi-…`), JWTs (`eyJ….….…`), and
// the password part of URLs.
const TOKEN_RE = /pypi-[A-Za-z0-9_-]{8,}/g;
const JWT_RE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const URL_PASSWORD_RE = /(\/\/[^/:@\s]*:)[^/@\s]+@/g;

export function redactSecrets(text: string): string {
  return text
    .replace(TOKEN_RE, 'pypi-[redacted]')
    .replace(JWT_RE, '[redacted-jwt]')
    .replace(URL_PASSWORD_RE, '$1[redacted]@');
}
