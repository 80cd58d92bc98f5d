/**
 * The /api/v2/platform/spaces/{space_token}/… surface: Unpod's Runs API v2 shapes (envelope `count,
 * status_code, message, data`; errors `{message, errors}`), over our runs. One plugin, encapsulated so that
 * its error handler (the v2 error shape) and its multipart parser apply to these routes only; the routes
 * themselves live per concern in api-runs, api-tasks, api-control and api-export.
 */
import multipart from '@fastify/multipart';
import type { Client } from '@temporalio/client';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import type { z } from 'zod';
import { RunStateError } from '../campaign/run-control';
import { RunNotFoundError } from '../campaign/run-queries';
import { PolicyError } from '../campaign/policy-file';
import type { ApiKeyEntry, Config } from '../config/config';
import { ContactFileError } from '../contacts';
import { apiContactsRoutes } from './api-contacts';
import { apiControlRoutes } from './api-control';
import { apiExportRoutes } from './api-export';
import { apiFeedRoutes } from './api-feed';
import { apiLimitsRoutes } from './api-limits';
import { apiPreviewRoutes } from './api-preview';
import { apiRunsRoutes } from './api-runs';
import { apiSchedulesRoutes } from './api-schedules';
import { apiTasksRoutes } from './api-tasks';
import type { RunMode } from './api-views';
import type { V2ErrorBody } from './api-schemas';
import type { OutboundOptions } from '../net/outbound-url';
import { createAuthorizer, type ApiPermissions, type Authorizer } from './auth';
import { BadRequestError, ConflictError, HttpError } from './errors';

export const API_PREFIX = '/api/v2/platform/spaces/:space_token';

export interface ApiOptions {
  keys: readonly ApiKeyEntry[];
  permissions?: ApiPermissions;
  /** Account of runs whose key and body name none. */
  defaultAccount: string;
  defaultPipeId: string;
  defaultAgentId?: string;
  defaultRegion: CountryCode;
  /** Largest upload (CSV or JSON body), bytes: larger gets 413. Default 10 MiB. */
  bodyLimitBytes?: number;
  /** Largest list fetched from a source_url, bytes. Default 50 MiB. */
  sourceLimitBytes?: number;
  /** Total deadline of a source_url fetch (connect, headers, whole body), ms, when `outbound` names none. Default 30000. */
  sourceTimeoutMs?: number;
  runMode?: RunMode;
  /** Whether the workers sign callbacks (CALLBACK_SIGNING_SECRET set); a callback_url is refused without. */
  callbacksEnabled?: boolean;
  /** Contacts per batch delivered to the campaign (tests). */
  batchSize?: number;
  /** The guard over source_url (allowlist, deadline); default: public addresses only, 30 s. */
  outbound?: OutboundOptions;
}

/** What every route file receives. */
export interface ApiContext {
  temporal: Client;
  taskQueue: string;
  auth: Authorizer;
  opts: ApiOptions & { bodyLimitBytes: number; sourceLimitBytes: number; runMode: RunMode };
}

export function apiOptionsFromConfig(config: Config): ApiOptions {
  return {
    keys: config.api.keys,
    defaultAccount: config.api.defaultAccount,
    defaultPipeId: config.unpod.pipeId,
    defaultAgentId: config.unpod.agentId,
    defaultRegion: config.env.DEFAULT_REGION as CountryCode,
    bodyLimitBytes: config.api.bodyLimitBytes,
    sourceLimitBytes: config.api.sourceLimitBytes,
    runMode: config.api.runMode,
    callbacksEnabled: config.api.callbackSigningSecret !== undefined,
    outbound: { allow: config.outbound.allow, timeoutMs: config.outbound.timeoutMs },
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The v2 `message` of this route's errors, e.g. "Error fetching runs". */
    v2ErrorMessage?: string;
  }
}

/** Parses with one of api-schemas' schemas; 400 naming every field at fault. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  throw new BadRequestError(
    `invalid_${where}`,
    `invalid ${where}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    { issues },
  );
}

export function sendEnvelope(
  reply: FastifyReply,
  statusCode: number,
  message: string,
  data: unknown,
  count: number,
  extra: Record<string, unknown> = {},
) {
  return reply.status(statusCode).send({ count, status_code: statusCode, message, data, ...extra });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof RunNotFoundError) return new HttpError(404, 'run_not_found', err.message);
  if (err instanceof RunStateError)
    return new ConflictError('run_state_conflict', err.message, { state: err.state });
  if (err instanceof PolicyError) return new BadRequestError('invalid_policy', err.message);
  if (err instanceof ContactFileError) {
    return new BadRequestError(err.code, err.message, {
      headers: err.headers,
      ...(err.line !== undefined ? { line: err.line } : {}),
    });
  }
  const e = err as Partial<FastifyError> | null;
  if (
    e &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    typeof e.message === 'string'
  ) {
    const code = e.statusCode === 413 ? 'payload_too_large' : (e.code ?? 'bad_request');
    return new HttpError(e.statusCode, code, e.message);
  }
  return undefined;
}

function errorBody(request: FastifyRequest, err: HttpError): V2ErrorBody {
  const message = request.routeOptions.config?.v2ErrorMessage ?? STATUS_TEXT[err.statusCode] ?? 'Error';
  return { message, errors: err.message, x_campaign: { ...err.details, code: err.code } };
}

export function sendV2Error(request: FastifyRequest, reply: FastifyReply, err: unknown) {
  const http = toHttpError(err);
  if (!http || http.statusCode >= 500) {
    request.log.error({ err }, 'api error');
    const safe = http ?? new HttpError(500, 'internal_error', 'internal server error');
    return reply.status(safe.statusCode).send(errorBody(request, safe));
  }
  return reply.status(http.statusCode).send(errorBody(request, http));
}

export interface ApiRoutesOptions {
  temporal: Client;
  taskQueue: string;
  api: ApiOptions;
}

export const apiV2Routes: FastifyPluginAsync<ApiRoutesOptions> = async (app: FastifyInstance, o) => {
  const opts = {
    ...o.api,
    bodyLimitBytes: o.api.bodyLimitBytes ?? 10 * 1024 * 1024,
    sourceLimitBytes: o.api.sourceLimitBytes ?? 50 * 1024 * 1024,
    runMode: o.api.runMode ?? 'prod',
  };
  const ctx: ApiContext = {
    temporal: o.temporal,
    taskQueue: o.taskQueue,
    auth: createAuthorizer(o.api.keys, o.api.permissions),
    opts,
  };

  app.setErrorHandler((err, request, reply) => sendV2Error(request, reply, err));
  // The key is checked before anything of the body is read or parsed (401/404 from the headers alone).
  app.addHook('onRequest', async (request) => {
    const space = (request.params as { space_token?: unknown } | undefined)?.space_token;
    if (typeof space === 'string') await ctx.auth.authenticate(request, space);
  });
  app.setNotFoundHandler((request, reply) =>
    sendV2Error(
      request,
      reply,
      new HttpError(404, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
  await app.register(multipart, {
    // `file` and a `dnc` list; every option field (api-schemas.ts createRunFormSchema).
    limits: { fileSize: opts.bodyLimitBytes, files: 2, fields: 30, fieldSize: 64 * 1024, parts: 32 },
  });

  await app.register(apiRunsRoutes, { ctx });
  await app.register(apiTasksRoutes, { ctx });
  await app.register(apiControlRoutes, { ctx });
  await app.register(apiExportRoutes, { ctx });
  await app.register(apiPreviewRoutes, { ctx });
  await app.register(apiContactsRoutes, { ctx });
  await app.register(apiFeedRoutes, { ctx });
  await app.register(apiLimitsRoutes, { ctx });
  await app.register(apiSchedulesRoutes, { ctx });
};
