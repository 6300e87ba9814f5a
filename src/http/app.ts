// The Fastify application: one route module per area, errors rendered in one place.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createFastSimple } from './fast-simple.js';
import proxyAddr from '@fastify/proxy-addr';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import type { Services } from '../services.js';
import { PierError } from '../errors.js';
import { sendError } from './reply.js';
import { redactSecrets } from './redact.js';
import { isUniqueViolation } from '../db/errors.js';
import { faultOf, type Fault } from '../faults.js';
import type { Registry } from 'prom-client';
import {
  createMetrics,
  localMetrics,
  registerProxyMetrics,
  type MetricsSource,
} from './metrics.js';
import { registerSimpleRoutes } from './routes/simple.js';
import { registerFileRoutes } from './routes/files.js';
import { registerIntegrityRoutes } from './routes/integrity.js';
import { registerProxyRoutes } from './routes/proxy.js';
import { registerUploadRoutes } from './routes/upload.js';
import { FORM_LIMITS } from '../registry/upload/form.js';
import { registerStagedRoutes } from './routes/staged.js';
import { registerApiRoutes } from './routes/api.js';
import { registerSsoApi } from './routes/api-sso.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerOidcRoutes } from './routes/oidc.js';
import { registerTrustedPublishingApi } from './routes/api-trusted-publishing.js';
import { registerNamespaceRoutes } from './routes/namespaces.js';
import { registerOrganizationApi } from './routes/api-organizations.js';
import { registerWebRoutes } from '../web/index.js'; // the web interface
import { helpUrl, withHelpSentence } from '../help.js';

export interface AppOptions {
  /** A pino logger configuration, or false for none (tests). */
  logger?: FastifyServerOptions['logger'];
  /** What /metrics answers with, given this process's registry: by default that registry. */
  metrics?: (registry: Registry) => MetricsSource;
}

export const REDACTED_HEADERS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
];

export async function buildApp(s: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = s;
  const tls =
    config.tlsCert && config.tlsKey
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
      : null;
  const logger =
    options.logger === undefined
      ? { level: config.logLevel, redact: { paths: REDACTED_HEADERS, censor: '[redacted]' } }
      : options.logger;
  // The client's address, believed from X-Forwarded-For only for trusted proxies (as Fastify does).
  const trustProxy = proxyAddr.compile(config.trustedProxies);
  // The server is made here so that the Simple API's fast path sees requests before Fastify.
  let fastPath: ReturnType<typeof createFastSimple> | null = null;
  const serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const fast = fastPath?.(req, res) ?? false;
      if (fast === true) return;
      if (fast === false) return handler(req, res);
      fast.then(
        (answered) => answered || handler(req, res),
        () => handler(req, res),
      );
    };
    const server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
    server.keepAliveTimeout = 72_000;
    return server;
  };
  const app = Fastify({
    logger,
    serverFactory,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    // pier writes one line per answered request itself (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 500 },
  }) as unknown as FastifyInstance;

  const metrics = createMetrics({
    unverifiedExchangeFailures: () => s.exchange.unverifiedFailures(),
  });
  if (s.proxy.enabled)
    registerProxyMetrics(metrics.registry, s.proxy.stats, () => s.proxy.client?.requests ?? 0);

  // Graceful close: requests in flight finish, their connections close after the answer, and
  // keep-alive connections that fall idle meanwhile are closed at once rather than after the
  // keep-alive timeout (Fastify's is 72 s).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    const timer = setInterval(() => app.server.closeIdleConnections(), 50);
    timer.unref();
    app.server.once('close', () => clearInterval(timer));
    done();
  });
  // Staged releases past their time expire on every read of them; this sweep also removes those
  // nobody looks at (their blobs with them).
  const stagedSweep = setInterval(() => void s.staged.expireDue().catch(() => undefined), 60_000);
  stagedSweep.unref();
  app.addHook('onClose', (_app, done) => {
    clearInterval(stagedSweep);
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  await app.register(multipart, {
    // Keep the client's filename as sent: a name with '/' or '\\' is refused, not shortened.
    preservePath: true,
    // The form's fields are bounded as a whole (FORM_LIMITS): one field longer than the whole
    // bound is cut here and refused; the sum is counted as the fields arrive.
    limits: {
      fieldNameSize: FORM_LIMITS.fieldNameBytes,
      fieldSize: FORM_LIMITS.bytes,
      fields: FORM_LIMITS.fields,
      fileSize: config.maxUploadSize + 1,
      files: 3,
      parts: FORM_LIMITS.fields + 3,
      headerPairs: 100,
    },
  });

  // Callback-style hooks, and nothing computed for a log line that will not be written: this
  // runs on every request, including the Simple API's hottest path.
  const requestTimers = new Map<string, (seconds: number) => void>();
  const logRequests = ['trace', 'debug', 'info'].includes(app.log.level);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let observe = requestTimers.get(key);
    if (!observe) {
      const child = metrics.requests.labels(request.method, route, String(reply.statusCode));
      observe = (seconds) => child.observe(seconds);
      requestTimers.set(key, observe);
    }
    observe(reply.elapsedTime / 1000);
    if (logRequests)
      request.log.info(
        {
          method: request.method,
          url: redactSecrets(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          ip: request.ip,
        },
        'request',
      );
    done();
  });

  app.setErrorHandler(async (err, request, reply) => {
    const url = request.url;
    let status: number;
    let message: string;
    let extra: Record<string, unknown> = {};
    let fault: Fault | null;
    if (err instanceof PierError) {
      status = err.status;
      message = err.message;
      extra = err.extra;
    } else if (
      typeof (err as { statusCode?: number }).statusCode === 'number' &&
      (err as { statusCode: number }).statusCode < 500
    ) {
      status = (err as { statusCode: number }).statusCode;
      message = (err as Error).message;
    } else if ((fault = faultOf(err))) {
      // Not a bug: the disk, the blob store or the database failed under this request.
      request.log.warn({ err, fault: fault.kind }, 'request failed: %s', fault.message);
      status = fault.status;
      message = fault.message;
    } else if (isUniqueViolation(err)) {
      // Two requests made the same thing at once; this one lost the race.
      status = 409;
      message = 'Another request changed the same thing at the same time; try again.';
    } else {
      request.log.error({ err }, 'request failed');
      status = 500;
      message = 'Internal server error';
    }
    // An error that names a help topic ends with PyPI's "See …/help/#topic" sentence.
    ({ message, extra } = withHelpSentence(
      message,
      extra,
      helpUrl(s.config.helpUrl, s.publicUrl()),
    ));
    // A throttled password check says when to try again (src/http/principal.ts).
    if (status === 429 && typeof extra.retry_after_seconds === 'number')
      reply.header('retry-after', String(extra.retry_after_seconds));
    if (status === 404 && url.startsWith('/simple/'))
      return reply.code(404).type('text/plain; charset=utf-8').send('404 Not Found');
    if (url.startsWith('/api/'))
      return sendError(request, reply, status, message, extra, { json: true });
    if (url.startsWith('/pypi/') && status !== 401)
      return reply
        .code(status)
        .type('application/json')
        .send({ message: status === 404 ? 'Not Found' : message });
    return sendError(request, reply, status, message, extra);
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (request.url.startsWith('/simple/'))
      return reply.code(404).type('text/plain; charset=utf-8').send('404 Not Found');
    if (request.url.startsWith('/pypi/'))
      return reply.code(404).type('application/json').send({ message: 'Not Found' });
    return sendError(request, reply, 404, 'Not Found');
  });

  const fastTimers = [
    metrics.requests.labels('GET', '/simple/:name/', '200'),
    metrics.requests.labels('GET', '/simple/:name/', '304'),
  ] as const;
  fastPath = createFastSimple(s, {
    closing: () => closing,
    answered(req, status, started) {
      const seconds = (performance.now() - started) / 1000;
      fastTimers[status === 304 ? 1 : 0].observe(seconds);
      if (logRequests)
        app.log.info(
          {
            method: 'GET',
            url: redactSecrets(req.url ?? ''),
            status,
            ms: Math.round(seconds * 1000),
            ip: proxyAddr(req, trustProxy),
          },
          'request',
        );
    },
  });
  registerOpsRoutes(app, s, (options.metrics ?? localMetrics)(metrics.registry));
  registerSimpleRoutes(app, s);
  registerFileRoutes(app, s);
  registerIntegrityRoutes(app, s); // PEP 740
  registerProxyRoutes(app, s);
  registerUploadRoutes(app, s, metrics);
  registerApiRoutes(app, s);
  registerSsoApi(app, s);
  registerStagedRoutes(app, s); // staged releases (src/registry/staged.ts)
  registerOidcRoutes(app, s);
  registerTrustedPublishingApi(app, s);
  registerNamespaceRoutes(app, s);
  registerOrganizationApi(app, s); // src/orgs
  registerWebRoutes(app, s); // the web interface (src/web), in its own encapsulated plugin
  return app;
}
