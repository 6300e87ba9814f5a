// Stable UUIDs for development tokens: the same name gives the same UUID in every run, so the
// publisher `pier dev-oidc` prints keeps matching its tokens (platforms whose ids are UUIDs:
// CircleCI, Bitbucket). A name-based UUID (version 5 layout, SHA-1 of pier's namespace string and
// the name), never a platform's real id.
import { createHash } from 'node:crypto';

export function nameUuid(name: string): string {
  const h = createHash('sha1').update(`pier-dev-oidc\u0000${name}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
