// Reading url-encoded form bodies (@fastify/formbody gives strings, or arrays for repeated keys).
export type FormBody = Record<string, unknown>;

export function formBody(body: unknown): FormBody {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as FormBody)
    : {};
}

/** The field's value ('' when absent; the first when repeated). */
export function formString(body: FormBody, name: string): string {
  const v = body[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

/** A checkbox: present and not '0'. */
export function formBool(body: FormBody, name: string): boolean {
  const v = formString(body, name);
  return v !== '' && v !== '0' && v !== 'false';
}

/** A local path to go to after sign-in: '/…' but never '//host' or a backslash trick. */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string') return '/';
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\x00-\x1f]/.test(value)) return '/';
  return value;
}
