/**
 * /docs/openapi.json (OpenAPI 3.1), generated from the routes' zod schemas with `z.toJSONSchema`, so the
 * document says exactly what the routes parse and answer: the Runs API v2 routes (api-schemas.ts), then those
 * the console added (preview, contacts page, outcomes, feed, limits, schedules: api-console-schemas.ts).
 */
import { z } from 'zod';
import {
  errorCodeSchema,
  json,
  operation,
  pathParam,
  queryParams,
  RUN,
  RUN_UPLOAD,
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
import {
  contactsQuerySchema,
  createScheduleBodySchema,
  feedEnvelopeSchema,
  limitsEnvelopeSchema,
  limitsPatchSchema,
  outcomesEnvelopeSchema,
  previewEnvelopeSchema,
  scheduleEnvelopeSchema,
  schedulesEnvelopeSchema,
} from './api-console-schemas';
import { feedQuerySchema } from './api-feed';
import { callbackEventSchema } from '../campaign/run-view-schemas';

export function buildOpenApi(): Json {
  const base = '/api/v2/platform/spaces/{space_token}';
  const control = (action: string, summary: string, body?: string): Json => ({
    post: operation({
      summary,
      tag: 'control',
      parameters: [SPACE, RUN],
      body,
      bodyRequired: action !== 'cancel',
      answers: { '200': ['requested', 'RunEnvelope'] },
      errors: [400, 401, 403, 404, 409, 500],
    }),
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
        get: operation({
          summary: 'Get all runs in a space',
          tag: 'runs',
          parameters: [SPACE, ...queryParams(listRunsQuerySchema)],
          answers: { '200': ['Runs Fetched Successfully', 'RunsEnvelope'] },
          errors: [400, 401, 403, 404, 500],
        }),
        post: operation({
          summary: 'Start a run over a contact list',
          description:
            'A CSV as multipart field `file` (option fields BEFORE the file), or JSON {contacts:[…]} or {source_url}. Invalid rows are reported in `x_validation`; valid rows are started. ' +
            'With callback_url, each task end and the run end are POSTed there (CallbackEvent), signed as Unpod signs its webhooks: x-unpod-timestamp and x-unpod-signature v1=HMAC-SHA256(secret, "<t>.<body>").',
          tag: 'runs',
          parameters: [SPACE],
          body: RUN_UPLOAD,
          answers: { '201': ['Run Created Successfully', 'CreatedRunEnvelope'] },
          errors: [400, 401, 403, 404, 413, 500],
        }),
      },
      [`${base}/runs/{run_id}/`]: {
        get: operation({
          summary: 'Get one run',
          tag: 'runs',
          parameters: [SPACE, RUN],
          answers: { '200': ['Run Fetched Successfully', 'RunEnvelope'] },
          errors: [401, 403, 404, 500],
        }),
      },
      [`${base}/runs/{run_id}/tasks/`]: {
        get: operation({
          summary: 'Get detailed tasks for a specific run',
          tag: 'tasks',
          parameters: [SPACE, RUN, ...queryParams(listTasksQuerySchema)],
          answers: { '200': ['Tasks Fetched Successfully', 'TasksEnvelope'] },
          errors: [400, 401, 403, 404, 500],
        }),
      },
      [`${base}/runs/{run_id}/pause/`]: control('pause', 'Pause a run (calls in progress finish)'),
      [`${base}/runs/{run_id}/resume/`]: control('resume', 'Resume a paused run'),
      [`${base}/runs/{run_id}/cancel/`]: control('cancel', 'Cancel a run', 'CancelBody'),
      [`${base}/runs/{run_id}/retry/`]: {
        post: operation({
          summary: 'Start a new run over the contacts of an ended run that ended failed or unanswered',
          tag: 'control',
          parameters: [SPACE, RUN],
          body: 'RetryBody',
          answers: {
            '201': ['Retry Run Created Successfully', 'RetryEnvelope'],
            '200': ['No Tasks To Retry', 'RetryEnvelope'],
          },
          errors: [400, 401, 403, 404, 409, 500],
        }),
      },
      [`${base}/runs/{run_id}/export/`]: {
        get: operation({
          summary: 'Export every task of a run (streamed)',
          tag: 'runs',
          parameters: [SPACE, RUN, ...queryParams(exportQuerySchema)],
          answers: {
            '200': [
              'CSV or JSON array of export rows',
              {
                'text/csv': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'array' } },
              },
            ],
          },
          errors: [400, 401, 403, 404, 500],
        }),
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

const SCHEDULE = pathParam('schedule_id', 'schedule id');

const consoleSchemas: Record<string, Json> = {
  PreviewEnvelope: schema(previewEnvelopeSchema, 'output'),
  ContactsEnvelope: schema(
    tasksEnvelopeSchema.extend({
      next_page_token: z
        .string()
        .nullable()
        .describe('pass as page_token for the next page; null: last page'),
    }),
    'output',
  ),
  OutcomesEnvelope: schema(outcomesEnvelopeSchema, 'output'),
  FeedEnvelope: schema(feedEnvelopeSchema, 'output'),
  LimitsEnvelope: schema(limitsEnvelopeSchema, 'output'),
  LimitsPatch: schema(limitsPatchSchema, 'input'),
  SchedulesEnvelope: schema(schedulesEnvelopeSchema, 'output'),
  ScheduleEnvelope: schema(scheduleEnvelopeSchema, 'output'),
  CreateSchedule: schema(createScheduleBodySchema, 'input'),
};

function consolePaths(base: string): Json {
  const scheduleAction = (summary: string): Json => ({
    post: operation({
      summary,
      tag: 'schedules',
      parameters: [SPACE, SCHEDULE],
      answers: { '200': ['done', 'ScheduleEnvelope'] },
      errors: [401, 403, 404, 500],
    }),
  });
  return {
    [`${base}/runs/preview/`]: {
      post: operation({
        summary: 'Preview a run: validate the list and plan it, dial nothing',
        description:
          'The same body as POST …/runs/ (multipart CSV with option fields first, or JSON {contacts} or {source_url}). ' +
          'Answers the rows to call, duplicates, do-not-call, every rejected row (first 500) with line, column and reason, ' +
          'the first rows as they will be called (E.164, zone, first call time) and whether the least time the account limits allow ' +
          'fits in the calling window before the deadline.',
        tag: 'runs',
        parameters: [SPACE],
        body: RUN_UPLOAD,
        answers: { '200': ['Run Previewed Successfully', 'PreviewEnvelope'] },
        errors: [400, 401, 403, 404, 413, 500],
      }),
    },
    [`${base}/runs/{run_id}/contacts/`]: {
      get: operation({
        summary: "One page of a run's contacts, paged by token (cost independent of the run's size)",
        tag: 'tasks',
        parameters: [SPACE, RUN, ...queryParams(contactsQuerySchema)],
        answers: { '200': ['Contacts Fetched Successfully', 'ContactsEnvelope'] },
        errors: [400, 401, 403, 404, 500],
      }),
    },
    [`${base}/runs/{run_id}/outcomes/`]: {
      get: operation({
        summary: "A run's tasks by end_reason and by status",
        tag: 'runs',
        parameters: [SPACE, RUN],
        answers: { '200': ['Outcomes Fetched Successfully', 'OutcomesEnvelope'] },
        errors: [401, 403, 404, 500],
      }),
    },
    [`${base}/runs/{run_id}/feed/`]: {
      get: operation({
        summary: 'Live numbers of a run: one sample, or server-sent events with Accept: text/event-stream',
        description:
          'As a stream: `event: sample` every interval_ms with the FeedEnvelope data, then `event: end` once the run has ended.',
        tag: 'runs',
        parameters: [SPACE, RUN, ...queryParams(feedQuerySchema)],
        answers: {
          '200': [
            'a sample (JSON) or a stream of samples (text/event-stream)',
            { ...json('FeedEnvelope'), 'text/event-stream': { schema: { type: 'string' } } },
          ],
        },
        errors: [400, 401, 403, 404, 500],
      }),
    },
    [`${base}/limits/`]: {
      get: operation({
        summary: "The account's limits and their use now",
        tag: 'limits',
        parameters: [SPACE],
        answers: { '200': ['Limits Fetched Successfully', 'LimitsEnvelope'] },
        errors: [401, 403, 404, 500],
      }),
      patch: operation({
        summary: "Change the account's limits (live)",
        tag: 'limits',
        parameters: [SPACE],
        body: 'LimitsPatch',
        answers: { '200': ['Limits Changed Successfully', 'LimitsEnvelope'] },
        errors: [400, 401, 403, 404, 500],
      }),
    },
    [`${base}/schedules/`]: {
      get: operation({
        summary: "The space's schedules with next and last runs",
        tag: 'schedules',
        parameters: [SPACE],
        answers: { '200': ['Schedules Fetched Successfully', 'SchedulesEnvelope'] },
        errors: [401, 403, 404, 500],
      }),
      post: operation({
        summary: 'Create a schedule: a run over source_url at every firing',
        tag: 'schedules',
        parameters: [SPACE],
        body: 'CreateSchedule',
        answers: { '201': ['Schedule Created Successfully', 'ScheduleEnvelope'] },
        errors: [400, 401, 403, 404, 409, 500],
      }),
    },
    [`${base}/schedules/{schedule_id}/`]: {
      get: operation({
        summary: 'One schedule: next firings, recent runs',
        tag: 'schedules',
        parameters: [SPACE, SCHEDULE],
        answers: { '200': ['Schedule Fetched Successfully', 'ScheduleEnvelope'] },
        errors: [401, 403, 404, 500],
      }),
      delete: operation({
        summary: 'Delete a schedule (runs it started go on)',
        tag: 'schedules',
        parameters: [SPACE, SCHEDULE],
        answers: { '200': 'Schedule Deleted Successfully' },
        errors: [401, 403, 404, 500],
      }),
    },
    [`${base}/schedules/{schedule_id}/pause/`]: scheduleAction('Pause a schedule'),
    [`${base}/schedules/{schedule_id}/unpause/`]: scheduleAction('Unpause a schedule'),
    [`${base}/schedules/{schedule_id}/trigger/`]: scheduleAction('Fire a schedule now'),
  };
}
