/**
 * The /api/v2/platform/spaces/{space_token}/… surface: Unpod's Runs API v2 shapes (envelope `count,
 * status_code, message, data`; errors `{message, errors}`), over our runs. One plugin, encapsulated so that
 * its error handler (the v2 error shape) and its multipart parser apply to these routes only; the routes
 * themselves live per concern in api-runs, api-tasks, api-control and api-export.
 */
import multipart from '@fastify/multipart';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULTS, type Config } from '../config/config';
import { sendV2Error, type ApiContext, type ApiOptions } from './api-context';
import { apiContactsRoutes } from './api-contacts';
import { apiControlRoutes } from './api-control';
import { apiExportRoutes } from './api-export';
import { apiFeedRoutes } from './api-feed';
import { apiLimitsRoutes } from './api-limits';
import { apiPreviewRoutes } from './api-preview';
import { apiRunsRoutes } from './api-runs';
import { apiSchedulesRoutes } from './api-schedules';
import { apiTasksRoutes } from './api-tasks';
import { createAuthorizer } from './auth';
import { HttpError } from './errors';

export const API_PREFIX = '/api/v2/platform/spaces/:space_token';

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

export interface ApiRoutesOptions {
  temporal: Client;
  taskQueue: string;
  api: ApiOptions;
}

export const apiV2Routes: FastifyPluginAsync<ApiRoutesOptions> = async (app: FastifyInstance, o) => {
  const opts = {
    ...o.api,
    bodyLimitBytes: o.api.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes,
    sourceLimitBytes: o.api.sourceLimitBytes ?? DEFAULTS.sourceLimitBytes,
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
