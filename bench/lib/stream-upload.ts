// A legacy upload (POST /legacy/) streamed from a file, as twine sends it: the form fields first,
// then the `content` part, whose bytes are piped from disk; the length is known in advance.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';

export interface UploadFile {
  path: string;
  filename: string;
  size: number;
}

export interface UploadAnswer {
  status: number;
  body: string;
  /** From the first byte sent to the whole answer read. */
  seconds: number;
  /** From the last byte of the body sent to the answer's headers (pier's work after the bytes). */
  tailSeconds: number;
}

export async function streamUpload(
  baseUrl: string,
  token: string,
  fields: [string, string][],
  file: UploadFile,
): Promise<UploadAnswer> {
  const boundary = `----pierbench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    fields
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      )
      .join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${file.filename}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = performance.now();
  let sentAt = NaN;
  const req = request(new URL('/legacy/', baseUrl), {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + file.size + tail.length),
      authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
    },
  });
  req.once('finish', () => (sentAt = performance.now())); // every byte handed to the OS
  let answered = false;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      answered = true;
      resolve(res);
    });
    req.once('error', reject);
  });
  response.catch(() => undefined); // awaited below; an early failure must not go unhandled

  req.write(head);
  for await (const chunk of createReadStream(file.path, { highWaterMark: 1024 * 1024 })) {
    if (answered) break; // refused early: stop sending, read the answer
    if (!req.write(chunk)) await Promise.race([once(req, 'drain'), response]);
  }
  if (!answered) req.end(tail);
  const res = await response;
  const answeredAt = performance.now();
  let body = '';
  for await (const chunk of res) body += chunk;
  if (Number.isNaN(sentAt)) req.destroy(); // answered before the whole body was sent
  return {
    status: res.statusCode ?? 0,
    body,
    seconds: (performance.now() - started) / 1000,
    tailSeconds: (answeredAt - sentAt) / 1000,
  };
}
