// The token exchange as a CI job calls it: POST the job's OIDC token to an index's
// `/_/oidc/mint-token` (PyPI's path) and read the JSON answer, whatever its status.
export interface MintAnswer {
  status: number;
  // The answer's JSON: { token, expires } or PyPI's { message, errors: [{ code, description }] }.
  body: any;
}

/** POST `{ token }` (or, for a malformed request, any JSON body) to the exchange at baseUrl. */
export async function postMintToken(
  baseUrl: string,
  token: unknown,
  path = '/_/oidc/mint-token',
): Promise<MintAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof token === 'string' ? JSON.stringify({ token }) : JSON.stringify(token),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
