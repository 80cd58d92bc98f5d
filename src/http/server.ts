/**
 * The HTTP server: one fastify instance, one plugin per concern. Later concerns (the /api/v2 views, uploads,
 * metrics, docs) register here beside these.
 */
import type { Client } from '@temporalio/client';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER } from '../unpod/paths';
import type { ApiOptions } from './api-context';
import { API_PREFIX, apiV2Routes } from './api-v2';
import { createAuthorizer, type OpsAccess } from './auth';
import { consoleRoutes, type ConsoleOptions } from './console-routes';
import { registerErrorHandler } from './error-handler';
import { healthRoutes } from './health-routes';
import { metricsRoutes, type MetricsSource } from './metrics';
import { openApiRoutes } from './openapi';
import { agentPushRoutes } from './agent-push-routes';
import { DEFAULTS } from '../config/config';

type LoggerOption = Exclude<FastifyServerOptions['logger'], undefined>;

export interface HttpServerDeps {
  temporal: Client;
  /** For /ready: a worker must be polling it. */
  taskQueue: string;
  /** AGENT_PUSH_SECRET: signs an AgentRunner's call_end push (POST /v1/agent-events); unset: no such route. */
  agentPushSecret?: string;
  /** Accepted age (either way) of a push's signed timestamp, seconds. Default 300. */
  pushToleranceS?: number;
  /** `true`, or pino options. Default false. Signature headers are always redacted. */
  logger?: LoggerOption;
  /** Current time in ms, for the push timestamp tolerance (tests). */
  now?: () => number;
  /** Deadline of each readiness check, ms. Default 2000. */
  readyCheckTimeoutMs?: number;
  /** Deadline of a push's signal to Temporal, ms; past it the sender gets 503. Default 5000. */
  pushSignalTimeoutMs?: number;
  /** The /api/v2 surface (keys, defaults, limits, permission hooks). Absent: no API key is valid (401). */
  api?: ApiOptions;
  /**
   * CORS as the Runner's ServeOptions; default: any origin, method and header, without credentials. Credentials
   * need a list of origins: an origin is never reflected.
   */
  cors?: CorsSettings;
  /** Who may read /metrics and /ready (default: nobody but OPS key holders; the permission hook overrides). */
  ops?: OpsAccess;
  /** Limiter numbers for /metrics, when known. */
  metrics?: MetricsSource;
  /** The web console at /console/ (Temporal Web UI link, namespace). */
  console?: ConsoleOptions;
}

export interface CorsSettings {
  origins: string[];
  methods: string[];
  headers: string[];
  credentials: boolean;
}

const REDACT = [
  `req.headers["${PUSH_SIGNATURE_HEADER}"]`,
  `req.headers["${PUSH_TIMESTAMP_HEADER}"]`,
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
  const app = Fastify({ logger: loggerOptions(deps.logger), routerOptions: { ignoreTrailingSlash: true } });
  registerErrorHandler(app);
  const c = deps.cors ?? { origins: ['*'], methods: ['*'], headers: ['*'], credentials: false };
  const any = (l: string[]) => l.length === 0 || l.includes('*');
  if (c.credentials && any(c.origins))
    throw new Error(
      'CORS: credentials need a list of allowed origins (CORS_ALLOW_ORIGINS); any origin with credentials is refused',
    );
  await app.register(cors, {
    origin: any(c.origins) ? '*' : c.origins,
    ...(any(c.methods)
      ? { methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] }
      : { methods: c.methods }),
    ...(any(c.headers) ? {} : { allowedHeaders: c.headers }),
    credentials: c.credentials,
  });
  const api: ApiOptions = deps.api ?? {
    keys: [],
    defaultAccount: DEFAULTS.account,
    defaultPipeId: 'pipe_default',
    defaultRegion: 'US',
  };
  const opsAuth = createAuthorizer(api.keys, api.permissions, deps.ops);
  await app.register(healthRoutes, {
    auth: opsAuth,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    checkTimeoutMs: deps.readyCheckTimeoutMs,
  });
  if (deps.agentPushSecret) {
    await app.register(agentPushRoutes, {
      temporal: deps.temporal,
      secret: deps.agentPushSecret,
      toleranceS: deps.pushToleranceS,
      now: deps.now,
      signalTimeoutMs: deps.pushSignalTimeoutMs,
    });
  }
  await app.register(apiV2Routes, {
    prefix: API_PREFIX,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    api,
  });
  await app.register(metricsRoutes, {
    temporal: deps.temporal,
    auth: opsAuth,
    source: deps.metrics,
  });
  await app.register(openApiRoutes);
  await app.register(consoleRoutes, deps.console ?? {});
  await app.ready();
  return app;
}
