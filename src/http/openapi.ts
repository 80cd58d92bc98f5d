/**
 * GET /docs (Swagger UI page) and GET /docs/openapi.json (OpenAPI 3.1), generated from api-schemas' zod
 * schemas with `z.toJSONSchema`, so the document says exactly what the routes parse and answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { z } from 'zod';
import {
  errorCodeSchema,
  errorResponses,
  json,
  queryParams,
  ref,
  RUN,
  schema,
  SPACE,
  type Json,
} from './openapi-parts';
import {
  cancelBodySchema,
  createdRunEnvelopeSchema,
  createRunFormSchema,
  createRunJsonBodySchema,
  exportQuerySchema,
  listRunsQuerySchema,
  listTasksQuerySchema,
  retryBodySchema,
  retryEnvelopeSchema,
  runEnvelopeSchema,
  runsEnvelopeSchema,
  tasksEnvelopeSchema,
  v2ErrorSchema,
} from './api-schemas';
import { callbackEventSchema } from '../campaign/run-view-schemas';
import { consolePaths, consoleSchemas } from './openapi-console';

export function buildOpenApi(): Json {
  const base = '/api/v2/platform/spaces/{space_token}';
  const control = (action: string, summary: string, body?: string): Json => ({
    post: {
      summary,
      tags: ['control'],
      parameters: [SPACE, RUN],
      ...(body ? { requestBody: { required: action !== 'cancel', content: json(body) } } : {}),
      responses: {
        '200': { description: 'requested', content: json('RunEnvelope') },
        ...errorResponses(400, 401, 403, 404, 409, 500),
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'unpod-campaigns',
      version: '0.1.0',
      description:
        'Durable outbound call campaigns for Unpod voice agents. Run and task shapes follow Unpod’s Runs API v2 field for field; ' +
        'our additions live under `x_campaign` (and `x_validation` on a created run). Run `status` keeps the documented values: ' +
        'running (includes paused and canceling), completed, failed (includes canceled); the exact state is `x_campaign.state`. ' +
        'Timestamps are UTC in the Runs API form YYYY-MM-DDTHH:MM:SS.',
    },
    components: {
      securitySchemes: {
        Token: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <api key>' },
      },
      schemas: {
        RunsEnvelope: schema(runsEnvelopeSchema, 'output'),
        RunEnvelope: schema(runEnvelopeSchema, 'output'),
        CreatedRunEnvelope: schema(createdRunEnvelopeSchema, 'output'),
        TasksEnvelope: schema(tasksEnvelopeSchema, 'output'),
        RetryEnvelope: schema(retryEnvelopeSchema, 'output'),
        Error: schema(v2ErrorSchema, 'output'),
        ErrorCode: errorCodeSchema(),
        CreateRunJson: schema(createRunJsonBodySchema, 'input'),
        CreateRunForm: schema(
          createRunFormSchema.extend({ file: z.string().describe('the CSV (binary)') }),
          'input',
        ),
        CancelBody: schema(cancelBodySchema, 'input'),
        RetryBody: schema(retryBodySchema, 'input'),
        CallbackEvent: schema(callbackEventSchema, 'output'),
        ...consoleSchemas,
      },
    },
    security: [{ Token: [] }],
    paths: {
      [`${base}/runs/`]: {
        get: {
          summary: 'Get all runs in a space',
          tags: ['runs'],
          parameters: [SPACE, ...queryParams(listRunsQuerySchema)],
          responses: {
            '200': { description: 'Runs Fetched Successfully', content: json('RunsEnvelope') },
            ...errorResponses(400, 401, 403, 404, 500),
          },
        },
        post: {
          summary: 'Start a run over a contact list',
          description:
            'A CSV as multipart field `file` (option fields BEFORE the file), or JSON {contacts:[…]} or {source_url}. Invalid rows are reported in `x_validation`; valid rows are started. ' +
            'With callback_url, each task end and the run end are POSTed there (CallbackEvent), signed as Unpod signs its webhooks: x-unpod-timestamp and x-unpod-signature v1=HMAC-SHA256(secret, "<t>.<body>").',
          tags: ['runs'],
          parameters: [SPACE],
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: ref('CreateRunForm') }, ...json('CreateRunJson') },
          },
          responses: {
            '201': { description: 'Run Created Successfully', content: json('CreatedRunEnvelope') },
            ...errorResponses(400, 401, 403, 404, 413, 500),
          },
        },
      },
      [`${base}/runs/{run_id}/`]: {
        get: {
          summary: 'Get one run',
          tags: ['runs'],
          parameters: [SPACE, RUN],
          responses: {
            '200': { description: 'Run Fetched Successfully', content: json('RunEnvelope') },
            ...errorResponses(401, 403, 404, 500),
          },
        },
      },
      [`${base}/runs/{run_id}/tasks/`]: {
        get: {
          summary: 'Get detailed tasks for a specific run',
          tags: ['tasks'],
          parameters: [SPACE, RUN, ...queryParams(listTasksQuerySchema)],
          responses: {
            '200': { description: 'Tasks Fetched Successfully', content: json('TasksEnvelope') },
            ...errorResponses(400, 401, 403, 404, 500),
          },
        },
      },
      [`${base}/runs/{run_id}/pause/`]: control('pause', 'Pause a run (calls in progress finish)'),
      [`${base}/runs/{run_id}/resume/`]: control('resume', 'Resume a paused run'),
      [`${base}/runs/{run_id}/cancel/`]: control('cancel', 'Cancel a run', 'CancelBody'),
      [`${base}/runs/{run_id}/retry/`]: {
        post: {
          summary: 'Start a new run over the contacts of an ended run that ended failed or unanswered',
          tags: ['control'],
          parameters: [SPACE, RUN],
          requestBody: { required: true, content: json('RetryBody') },
          responses: {
            '201': { description: 'Retry Run Created Successfully', content: json('RetryEnvelope') },
            '200': { description: 'No Tasks To Retry', content: json('RetryEnvelope') },
            ...errorResponses(400, 401, 403, 404, 409, 500),
          },
        },
      },
      [`${base}/runs/{run_id}/export/`]: {
        get: {
          summary: 'Export every task of a run (streamed)',
          tags: ['runs'],
          parameters: [SPACE, RUN, ...queryParams(exportQuerySchema)],
          responses: {
            '200': {
              description: 'CSV or JSON array of export rows',
              content: {
                'text/csv': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'array' } },
              },
            },
            ...errorResponses(400, 401, 403, 404, 500),
          },
        },
      },
      ...consolePaths(base),
      '/health': {
        get: {
          summary: 'Liveness',
          tags: ['operations'],
          security: [],
          responses: { '200': { description: 'ok' } },
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness: Temporal answers and a worker polls',
          tags: ['operations'],
          security: [],
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          tags: ['operations'],
          security: [],
          responses: { '200': { description: 'text exposition' } },
        },
      },
    },
  };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>unpod-campaigns API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<noscript>The OpenAPI document is at <a href="/docs/openapi.json">/docs/openapi.json</a>.</noscript>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#ui' });</script>
</body></html>`;

/** Swagger UI's own files, served from the swagger-ui-dist package: /docs works without the internet. */
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'],
]);

export const openApiRoutes: FastifyPluginAsync = async (app) => {
  const doc = buildOpenApi();
  const assetDir = getAbsoluteFSPath();
  const loaded = new Map<string, Promise<Buffer>>();
  app.get('/docs/openapi.json', async () => doc);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get<{ Params: { file: string } }>('/docs/assets/:file', async (request, reply) => {
    // A fixed table looked up by own key only: `constructor`, `__proto__` and the like are no asset.
    const name = request.params.file;
    const type = ASSETS.get(name);
    if (!type) return reply.code(404).send({ error: { code: 'not_found', message: 'no such asset' } });
    let data: Buffer;
    try {
      // Read once, kept (under 2 MB in all): no file stream per request whose error could go unhandled.
      let cached = loaded.get(name);
      if (!cached) {
        cached = fs.promises.readFile(path.join(assetDir, name));
        loaded.set(name, cached);
        cached.catch(() => loaded.delete(name));
      }
      data = await cached;
    } catch (err) {
      request.log.error({ err, asset: name }, 'swagger-ui asset cannot be read');
      return reply.code(404).send({ error: { code: 'not_found', message: 'asset not available' } });
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(data);
  });
};
