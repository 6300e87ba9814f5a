// Blob store on S3-compatible object storage:
//   s3://BUCKET/PREFIX?endpoint=https://…&region=…&presign=SECONDS&path_style=true
// Credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a
// profile, an instance role). Uploads stream as multipart uploads (never the whole file in
// memory) to a fresh key; a failed one is aborted. Downloads stream through pier, or, with
// `presign=SECONDS`, redirect clients to a presigned URL valid that long.
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ByteSource } from '../packaging/archive.js';
import type { BlobInfo, BlobStore } from './blob-store.js';

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PART_SIZE = 8 * 1024 * 1024;

export interface S3Location {
  bucket: string;
  prefix: string;
  endpoint: string | null;
  region: string;
  pathStyle: boolean;
  presignSeconds: number | null;
}

export function parseS3Url(url: string): S3Location {
  const parsed = new URL(url);
  if (parsed.protocol !== 's3:') throw new Error(`not an s3:// URL: ${url}`);
  const bucket = parsed.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(
      `'${bucket}' is not a valid bucket name (3 to 63 lowercase letters, digits, '.' and '-')`,
    );
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  const q = parsed.searchParams;
  const known = new Set(['endpoint', 'region', 'presign', 'path_style']);
  for (const key of q.keys())
    if (!known.has(key))
      throw new Error(`unknown S3 storage setting '${key}' (known: ${[...known].join(', ')})`);
  const presign = q.get('presign');
  if (presign !== null && !/^[1-9]\d*$/.test(presign))
    throw new Error(`presign must be a number of seconds, got '${presign}'`);
  const endpoint = q.get('endpoint');
  return {
    bucket,
    prefix: prefix ? `${prefix}/` : '',
    endpoint,
    region: q.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    // A custom endpoint (MinIO, s3rver, Ceph …) usually wants path-style addressing.
    pathStyle: q.get('path_style') === null ? endpoint !== null : q.get('path_style') === 'true',
    presignSeconds: presign === null ? null : Number(presign),
  };
}

export class S3BlobStore implements BlobStore {
  readonly describe: string;
  private readonly client: S3Client;

  constructor(
    private readonly location: S3Location,
    config: S3ClientConfig = {},
  ) {
    this.describe = `s3://${location.bucket}/${location.prefix}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
    this.client = new S3Client({
      region: location.region,
      forcePathStyle: location.pathStyle,
      ...(location.endpoint ? { endpoint: location.endpoint } : {}),
      ...config,
    });
  }

  private key(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`invalid blob key: ${key}`);
    return `${this.location.prefix}${key}`;
  }

  async put(key: string, source: Readable): Promise<BlobInfo> {
    // Counted on the way through (a 'data' listener on `source` would race the SDK's reader).
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    const flowing = pipeline(source, counted);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.location.bucket, Key: this.key(key), Body: counted },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      // A source that fails mid-way must abort the upload, not complete it short.
      await Promise.all([upload.done(), flowing]);
    } catch (err) {
      await upload.abort().catch(() => undefined);
      await this.delete(key).catch(() => undefined);
      throw err;
    }
    return { size };
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return null;
      throw err;
    }
  }

  async open(key: string): Promise<ByteSource> {
    const info = await this.stat(key);
    if (!info) throw new Error(`no blob ${key}`);
    const read = async (start: number, end: number): Promise<Readable> => {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.location.bucket,
          Key: this.key(key),
          Range: `bytes=${start}-${end}`,
        }),
      );
      return res.Body as Readable;
    };
    return {
      size: info.size,
      async read(offset: number, length: number): Promise<Buffer> {
        if (length === 0) return Buffer.alloc(0);
        const chunks: Buffer[] = [];
        for await (const chunk of await read(offset, offset + length - 1))
          chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      },
      stream(start = 0, end = info.size - 1): NodeJS.ReadableStream {
        // A stream that fetches lazily, so the caller may destroy it before it starts.
        const out = new PassThrough();
        if (end < start) {
          out.end();
          return out;
        }
        read(start, end).then(
          (body) => {
            body.on('error', (err) => out.destroy(err));
            out.on('close', () => body.destroy());
            body.pipe(out);
          },
          (err: Error) => out.destroy(err),
        );
        return out;
      },
    };
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const res = await this.client.send(
      new GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.key(key),
        ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }),
    );
    return res.Body as Readable;
  }

  async directUrl(key: string, filename: string): Promise<string | null> {
    if (this.location.presignSeconds === null) return null;
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.key(key),
        ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
      }),
      { expiresIn: this.location.presignSeconds },
    );
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }),
    );
  }

  async *keys(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: this.location.prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.location.prefix.length);
        if (key && KEY_RE.test(key)) yield key;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Interrupted multipart uploads are aborted by put(); after a crash, a bucket lifecycle rule cleans them. */
  async sweep(): Promise<number> {
    return 0;
  }

  close(): void {
    this.client.destroy();
  }
}
