// What @sigstore/sign gets for `make-fetch-happen` in the bundles (scripts/build-action.mjs
// aliases it): Node's own fetch. @sigstore/sign calls it as `fetch(url, {method, headers, body,
// timeout, retry: false})` and does its own retries; make-fetch-happen's caching, proxy agents
// and encodings, over a megabyte bundled, serve nothing here. TLS is verified by Node, with
// NODE_EXTRA_CA_CERTS as everywhere in the client.
interface Options {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeout?: number;
}

export default function sigstoreFetch(url: string, options: Options = {}): Promise<Response> {
  return fetch(url, {
    method: options.method,
    headers: options.headers,
    body: options.body,
    redirect: 'manual',
    signal: options.timeout ? AbortSignal.timeout(options.timeout) : undefined,
  });
}
