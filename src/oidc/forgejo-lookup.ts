// Looking up a Forgejo repository's immutable ids at registration: a Forgejo publisher pins
// `repository_id` and `repository_owner_id` (src/oidc/providers/forgejo.ts), so a repository or
// account deleted and re-created under the same name matches nothing. Left empty, they are asked
// of the instance the issuer belongs to: the issuer is `https://HOST[/PATH]/api/actions`, its
// REST API `https://HOST[/PATH]/api/v1` (or the issuer's `--api-url`), and
//   GET /api/v1/repos/{owner}/{repo} → Repository { id, name, owner: User { id, login } }
// (operation `repoGet`; Forgejo's API documentation, https://forgejo.org/docs/latest/user/api-usage/,
// and its Swagger definition served at https://HOST/api/swagger, `templates/swagger/v1_json.tmpl`
// in forgejo/forgejo: `Repository.id` and `User.id` are int64 JSON numbers). Anonymous, as a
// registration has no token of the instance: a private repository answers 404, and then its ids
// are given by hand (the message says so).
//
// Given ids: when both are given, nothing is asked (as for GitHub's owner id): the instance may be
// out of pier's reach or the repository private, and a wrong id fails closed (it matches no
// token). When one is given and the other looked up, the answer must agree with the given one.
// The names are taken as the instance spells them; an answer for another repository than the one
// asked for (Forgejo redirects a renamed or moved repository's old name) is refused, since its
// tokens carry the new name.
import { apiId, apiLookup } from './api-lookup.js';
import type { Issuer } from './issuers.js';
import { forgejoWebBase } from './providers/forgejo.js';

/** The instance's REST API root for an issuer of kind forgejo, or null. */
export function forgejoApiBase(issuer: Issuer): string | null {
  if (issuer.apiUrl) return issuer.apiUrl;
  const web = forgejoWebBase(issuer.url);
  return web === null ? null : `${web}/api/v1`;
}

export type ForgejoRepositoryLookup =
  | { ok: true; owner: string; ownerId: string; repository: string; repositoryId: string }
  | { ok: false; message: string };

const HINT = "give the repository's and its owner's numeric ids";

export async function lookupForgejoRepository(
  issuer: Issuer,
  owner: string,
  repository: string,
  fetchImpl: typeof fetch = fetch,
): Promise<ForgejoRepositoryLookup> {
  const base = forgejoApiBase(issuer);
  if (!base) return { ok: false, message: `pier does not know the API of ${issuer.url}; ${HINT}` };
  const full = `${owner}/${repository}`;
  const answer = await apiLookup(
    {
      base,
      path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repository)}`,
      subject: `'${full}'`,
      hint: HINT,
      notFound: `Unknown repository '${full}' at ${base} (a private repository answers so too: ${HINT}).`,
      headers: { accept: 'application/json' },
    },
    fetchImpl,
  );
  if (!answer.ok) return answer;
  const unexpected = {
    ok: false as const,
    message: `${base} gave an unexpected answer for '${full}'; ${HINT}`,
  };
  const body = answer.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return unexpected;
  const repo = body as { id?: unknown; name?: unknown; owner?: unknown };
  const ownerObject = repo.owner;
  if (ownerObject === null || typeof ownerObject !== 'object') return unexpected;
  const user = ownerObject as { id?: unknown; login?: unknown };
  const repositoryId = apiId(repo.id, false);
  const ownerId = apiId(user.id, false);
  if (
    repositoryId === null ||
    ownerId === null ||
    typeof repo.name !== 'string' ||
    typeof user.login !== 'string'
  )
    return unexpected;
  const answered = `${user.login}/${repo.name}`;
  if (answered.toLowerCase() !== full.toLowerCase())
    return {
      ok: false,
      message: `${base} answered for '${answered}', not '${full}': the repository was renamed or moved; register it under its new name`,
    };
  return { ok: true, owner: user.login, ownerId, repository: repo.name, repositoryId };
}

/**
 * A Forgejo registration's fields with the ids filled in from the instance when either is
 * empty (see above), or the message for the field it belongs to.
 */
export async function completeForgejoIds(
  issuer: Issuer,
  fields: Record<string, string | undefined>,
  fetchImpl: typeof fetch = fetch,
): Promise<{ ok: true } | { ok: false; errors: Record<string, string> }> {
  const given = { repositoryId: fields.repositoryId?.trim(), ownerId: fields.ownerId?.trim() };
  const owner = fields.owner?.trim();
  const repository = fields.repository?.trim();
  if ((given.repositoryId && given.ownerId) || !owner || !repository) return { ok: true };
  const found = await lookupForgejoRepository(issuer, owner, repository, fetchImpl);
  if (!found.ok)
    return {
      ok: false,
      errors: { [given.repositoryId ? 'ownerId' : 'repositoryId']: found.message },
    };
  for (const name of ['repositoryId', 'ownerId'] as const)
    if (given[name] && given[name] !== found[name])
      return {
        ok: false,
        errors: {
          [name]: `${forgejoApiBase(issuer)} says the ${name === 'ownerId' ? "owner's" : "repository's"} id of '${found.owner}/${found.repository}' is ${found[name]}, not ${given[name]}`,
        },
      };
  fields.owner = found.owner;
  fields.repository = found.repository;
  fields.repositoryId = found.repositoryId;
  fields.ownerId = found.ownerId;
  return { ok: true };
}
