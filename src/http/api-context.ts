/**
 * What the v2 route files share: the options and context each receives, the request parser (zod, 400 naming
 * every field), the response envelope, and the error mapping to the Runs API v2 error shape. api-v2.ts
 * assembles the routes; the route files import only this module, so nothing imports back up.
 */
import type { Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import type { z } from 'zod';
import type { RunMode } from '../campaign/run-views';
import type { ApiKeyEntry } from '../config/config';
import { issuesText, issuesOf, statusText } from '../errors';
import type { OutboundOptions } from '../net/outbound-url';
import type { V2ErrorBody } from './api-schemas';
import type { ApiPermissions, Authorizer } from './auth';
import { BadRequestError, HttpError, toHttpError } from './errors';

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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The v2 `message` of this route's errors, e.g. "Error fetching runs". */
    v2ErrorMessage?: string;
  }
}

/** Parses with one of api-schemas' schemas; 400 naming every field at fault. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' | 'path' | 'options',
): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = issuesOf(parsed.error);
  throw new BadRequestError(`invalid_${where}`, `invalid ${where}: ${issuesText(issues)}`, { issues });
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

function errorBody(request: FastifyRequest, err: HttpError): V2ErrorBody {
  const message = request.routeOptions.config?.v2ErrorMessage ?? statusText(err.statusCode);
  return { message, errors: err.message, x_campaign: { ...err.details, code: err.code } };
}

/** The Runs API v2 error body: `message` (the route's, else the status text), `errors`, `x_campaign.code`. */
export function sendV2Error(request: FastifyRequest, reply: FastifyReply, err: unknown) {
  const http = toHttpError(err);
  if (!http || http.statusCode >= 500) {
    request.log.error({ err }, 'api error');
    const safe = http ?? new HttpError(500, 'internal_error', 'internal server error');
    return reply.status(safe.statusCode).send(errorBody(request, safe));
  }
  return reply.status(http.statusCode).send(errorBody(request, http));
}
