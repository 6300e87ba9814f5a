// Errors that services raise for people to read. The HTTP layer turns `status` into the
// response code and `message` into the reason phrase and body; the CLI prints the message.
export class PierError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra fields for JSON bodies (e.g. the field a form error belongs to). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, extra?: Record<string, unknown>) =>
  new PierError(400, message, extra);
export const unauthorized = (message: string) => new PierError(401, message);
export const forbidden = (message: string) => new PierError(403, message);
export const notFound = (message = 'Not Found') => new PierError(404, message);
export const notAcceptable = (message: string) => new PierError(406, message);
export const conflict = (message: string) => new PierError(409, message);
