/**
 * The OpenAPI paths and schemas of the routes the console added (api-preview, api-contacts, api-feed,
 * api-limits, api-schedules), generated from their zod schemas like the rest of /docs/openapi.json.
 */
import { z } from 'zod';
import {
  errorResponses,
  json,
  pathParam,
  queryParams,
  ref,
  RUN,
  schema,
  SPACE,
  type Json,
} from './openapi-parts';
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
import { tasksEnvelopeSchema } from './api-schemas';
import { feedQuerySchema } from './api-feed';

const SCHEDULE = pathParam('schedule_id', 'schedule id');

export const consoleSchemas: Record<string, Json> = {
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

export function consolePaths(base: string): Record<string, Json> {
  const scheduleAction = (action: string, summary: string): Json => ({
    post: {
      summary,
      tags: ['schedules'],
      parameters: [SPACE, SCHEDULE],
      responses: {
        '200': { description: 'done', content: json('ScheduleEnvelope') },
        ...errorResponses(401, 403, 404, 500),
      },
    },
  });
  return {
    [`${base}/runs/preview/`]: {
      post: {
        summary: 'Preview a run: validate the list and plan it, dial nothing',
        description:
          'The same body as POST …/runs/ (multipart CSV with option fields first, or JSON {contacts} or {source_url}). ' +
          'Answers the rows to call, duplicates, do-not-call, every rejected row (first 500) with line, column and reason, ' +
          'the first rows as they will be called (E.164, zone, first call time) and whether the least time the account limits allow ' +
          'fits in the calling window before the deadline.',
        tags: ['runs'],
        parameters: [SPACE],
        requestBody: {
          required: true,
          content: { 'multipart/form-data': { schema: ref('CreateRunForm') }, ...json('CreateRunJson') },
        },
        responses: {
          '200': { description: 'Run Previewed Successfully', content: json('PreviewEnvelope') },
          ...errorResponses(400, 401, 403, 404, 413, 500),
        },
      },
    },
    [`${base}/runs/{run_id}/contacts/`]: {
      get: {
        summary: "One page of a run's contacts, paged by token (cost independent of the run's size)",
        tags: ['tasks'],
        parameters: [SPACE, RUN, ...queryParams(contactsQuerySchema)],
        responses: {
          '200': { description: 'Contacts Fetched Successfully', content: json('ContactsEnvelope') },
          ...errorResponses(400, 401, 403, 404, 500),
        },
      },
    },
    [`${base}/runs/{run_id}/outcomes/`]: {
      get: {
        summary: "A run's tasks by end_reason and by status",
        tags: ['runs'],
        parameters: [SPACE, RUN],
        responses: {
          '200': { description: 'Outcomes Fetched Successfully', content: json('OutcomesEnvelope') },
          ...errorResponses(401, 403, 404, 500),
        },
      },
    },
    [`${base}/runs/{run_id}/feed/`]: {
      get: {
        summary: 'Live numbers of a run: one sample, or server-sent events with Accept: text/event-stream',
        description:
          'As a stream: `event: sample` every interval_ms with the FeedEnvelope data, then `event: end` once the run has ended.',
        tags: ['runs'],
        parameters: [SPACE, RUN, ...queryParams(feedQuerySchema)],
        responses: {
          '200': {
            description: 'a sample (JSON) or a stream of samples (text/event-stream)',
            content: { ...json('FeedEnvelope'), 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errorResponses(400, 401, 403, 404, 500),
        },
      },
    },
    [`${base}/limits/`]: {
      get: {
        summary: "The account's limits and their use now",
        tags: ['limits'],
        parameters: [SPACE],
        responses: {
          '200': { description: 'Limits Fetched Successfully', content: json('LimitsEnvelope') },
          ...errorResponses(401, 403, 404, 500),
        },
      },
      patch: {
        summary: "Change the account's limits (live)",
        tags: ['limits'],
        parameters: [SPACE],
        requestBody: { required: true, content: json('LimitsPatch') },
        responses: {
          '200': { description: 'Limits Changed Successfully', content: json('LimitsEnvelope') },
          ...errorResponses(400, 401, 403, 404, 500),
        },
      },
    },
    [`${base}/schedules/`]: {
      get: {
        summary: "The space's schedules with next and last runs",
        tags: ['schedules'],
        parameters: [SPACE],
        responses: {
          '200': { description: 'Schedules Fetched Successfully', content: json('SchedulesEnvelope') },
          ...errorResponses(401, 403, 404, 500),
        },
      },
      post: {
        summary: 'Create a schedule: a run over source_url at every firing',
        tags: ['schedules'],
        parameters: [SPACE],
        requestBody: { required: true, content: json('CreateSchedule') },
        responses: {
          '201': { description: 'Schedule Created Successfully', content: json('ScheduleEnvelope') },
          ...errorResponses(400, 401, 403, 404, 409, 500),
        },
      },
    },
    [`${base}/schedules/{schedule_id}/`]: {
      get: {
        summary: 'One schedule: next firings, recent runs',
        tags: ['schedules'],
        parameters: [SPACE, SCHEDULE],
        responses: {
          '200': { description: 'Schedule Fetched Successfully', content: json('ScheduleEnvelope') },
          ...errorResponses(401, 403, 404, 500),
        },
      },
      delete: {
        summary: 'Delete a schedule (runs it started go on)',
        tags: ['schedules'],
        parameters: [SPACE, SCHEDULE],
        responses: {
          '200': { description: 'Schedule Deleted Successfully' },
          ...errorResponses(401, 403, 404, 500),
        },
      },
    },
    [`${base}/schedules/{schedule_id}/pause/`]: scheduleAction('pause', 'Pause a schedule'),
    [`${base}/schedules/{schedule_id}/unpause/`]: scheduleAction('unpause', 'Unpause a schedule'),
    [`${base}/schedules/{schedule_id}/trigger/`]: scheduleAction('trigger', 'Fire a schedule now'),
  };
}
