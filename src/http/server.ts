/**
 * The HTTP server: one fastify instance, one plugin per concern. Later concerns (the /api/v2 views, uploads,
 * metrics, docs) register here beside these.
 */
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../unpod/paths';
import { registerErrorHandler } from './error-handler';
import { healthRoutes } from './health-routes';
import { webhookRoutes } from './webhook-routes';

type LoggerOption = Exclude<FastifyServerOptions['logger'], undefined>;

export interface HttpServerDeps {
  temporal: Client;
  /** For /ready: a worker must be polling it. */
  taskQueue: string;
  webhookSecret: string;
  /** Accepted age (either way) of a webhook's signed timestamp, seconds. Default 300. */
  webhookToleranceS?: number;
  /** `true`, or pino options. Default false. Signature headers are always redacted. */
  logger?: LoggerOption;
  /** Current time in ms, for the webhook timestamp tolerance (tests). */
  now?: () => number;
  /** Deadline of each readiness check, ms. Default 2000. */
  readyCheckTimeoutMs?: number;
  /** Deadline of the webhook's signal to Temporal, ms; past it the sender gets 503 and retries. Default 5000. */
  webhookSignalTimeoutMs?: number;
}

const REDACT = [
  `req.headers["${WEBHOOK_SIGNATURE_HEADER}"]`,
  `req.headers["${WEBHOOK_TIMESTAMP_HEADER}"]`,
  'req.headers.authorization',
];

function loggerOptions(logger: LoggerOption | undefined): LoggerOption {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  if (typeof base !== 'object') return logger;
  const existing = (base as { redact?: unknown }).redact;
  const paths = Array.isArray(existing) ? [...(existing as string[]), ...REDACT] : REDACT;
  return { ...base, redact: paths } as LoggerOption;
}

export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: loggerOptions(deps.logger) });
  registerErrorHandler(app);
  await app.register(healthRoutes, {
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    checkTimeoutMs: deps.readyCheckTimeoutMs,
  });
  await app.register(webhookRoutes, {
    temporal: deps.temporal,
    webhookSecret: deps.webhookSecret,
    toleranceS: deps.webhookToleranceS,
    now: deps.now,
    signalTimeoutMs: deps.webhookSignalTimeoutMs,
  });
  await app.ready();
  return app;
}
