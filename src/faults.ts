// Failures of what pier stands on — a full disk, an unreachable blob store, a database that went
// away — told apart from bugs. Each becomes a status a client can act on (507: free space; 503:
// try again) with a one-line reason, instead of a 500. A pure function over the error's shape:
// the HTTP error handler (src/http/app.ts) asks it once for every failed request.
import { PierError } from './errors.js';

export type FaultKind =
  'disk-full' | 'storage-unavailable' | 'database-unavailable' | 'service-unavailable';

export interface Fault {
  kind: FaultKind;
  status: 503 | 507;
  message: string;
}

/** Out of space (or quota) on a local filesystem. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A connection that could not be made or was cut: the service behind it is down or restarting. */
const CONNECTION_LOST = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * PostgreSQL SQLSTATEs that mean the server is going away or not yet back: class 08 (connection
 * exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now.
 */
function isPostgresUnavailable(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}

/** node-postgres reports a connection cut mid-query with these messages and no code. */
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|Connection terminated unexpectedly|timeout exceeded when trying to connect)/;

interface ErrorShape {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errno?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $fault?: unknown;
}

const DISK_FULL_FAULT: Fault = {
  kind: 'disk-full',
  status: 507,
  message: 'Insufficient storage: the blob storage is full; try again once space is freed',
};
const STORAGE_FAULT: Fault = {
  kind: 'storage-unavailable',
  status: 503,
  message: 'Blob storage is unavailable; try again later',
};
const DATABASE_FAULT: Fault = {
  kind: 'database-unavailable',
  status: 503,
  message: 'The database is unavailable; try again later',
};

const SERVICE_FAULT: Fault = {
  kind: 'service-unavailable',
  status: 503,
  message: 'A service pier depends on (database or blob storage) is unavailable; try again later',
};

/** The fault `err` stands for, or null for an error that is not one (a bug, a bad input). */
export function faultOf(err: unknown): Fault | null {
  // Follow `cause` chains (the AWS SDK and undici wrap the socket error), a few levels at most.
  for (let e = err as ErrorShape | null | undefined, depth = 0; e && depth < 5; depth++) {
    if (e instanceof PierError) return null;
    const code = typeof e.code === 'string' ? e.code : '';
    const fromS3 = e.$metadata !== undefined;
    if (DISK_FULL.has(code)) return DISK_FULL_FAULT;
    if (fromS3) {
      // The store answered 5xx (or never answered: a socket error the SDK gave up retrying).
      const status = e.$metadata!.httpStatusCode;
      if (typeof status !== 'number' || status >= 500 || CONNECTION_LOST.has(code))
        return STORAGE_FAULT;
      if (e.name === 'TimeoutError' || e.$fault === 'server') return STORAGE_FAULT;
    }
    if (CONNECTION_LOST.has(code)) return connectionOwner(e);
    if (code && isPostgresUnavailable(code)) return DATABASE_FAULT;
    if (typeof e.message === 'string' && PG_CONNECTION_MESSAGE.test(e.message))
      return DATABASE_FAULT;
    e = e.cause as ErrorShape | null | undefined;
  }
  return null;
}

/** A bare socket error: from the blob store when the AWS SDK tagged it, else not known. */
function connectionOwner(e: ErrorShape): Fault {
  return e.$metadata !== undefined ? STORAGE_FAULT : SERVICE_FAULT;
}
