/**
 * Schemas of the routes the console added to /api/v2 (preview, contacts page, outcomes, feed, limits,
 * schedules): one zod schema per boundary, parsed by the routes and turned into the OpenAPI document by
 * openapi-document.ts, as api-schemas.ts does for the Runs API routes.
 */
import { z } from 'zod';
import { TASK_STATUSES } from '../../workflows/definitions';
import { OVERLAP_NAMES } from '../schedules/schedules';
import { runTimingShape } from './run-options';
import { countsSchema } from '../campaign/run-view-schemas';

function envelope<T extends z.ZodType>(data: T) {
  return z.object({ count: z.number().int(), status_code: z.number().int(), message: z.string(), data });
}

// ---------- preview ----------

export const plannedContactSchema = z.object({
  line: z.number().int(),
  phone: z.string().describe('E.164'),
  name: z.string().nullable(),
  zone: z.string().describe('IANA zone the calling window is read in'),
  call_at: z.string().nullable().describe('when the first attempt may start (ISO); null: not called'),
  call_at_local: z.string().nullable().describe("that time on the contact's clock"),
  note: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
});

export const fitSchema = z.object({
  contacts: z.number().int(),
  minimum_ms: z.number().int().describe('least calling time the limits allow'),
  bound_by: z.enum(['rate', 'concurrency']),
  calls_per_minute: z.number(),
  concurrency: z.number().int(),
  mean_call_ms: z.number(),
  days: z.number().int(),
  zone: z.string(),
  earliest_finish: z.string().nullable(),
  deadline: z.string().nullable(),
  fits: z.boolean(),
  short_by_ms: z.number().int(),
  message: z.string().describe('the verdict in words'),
});

export const previewSchema = z.object({
  source: z.string(),
  rows: z.number().int(),
  valid: z.number().int().describe('rows that will be called'),
  skipped: z.object({ duplicate: z.number().int(), do_not_call: z.number().int() }),
  rejected: z.number().int(),
  rejects: z
    .array(z.object({ line: z.number().int(), column: z.string().nullable(), reason: z.string() }))
    .describe('the first 500 rejected rows'),
  columns: z.record(z.string(), z.string().optional()),
  metadata_columns: z.array(z.string()),
  first_rows: z.array(plannedContactSchema).describe('the first rows as they will be called'),
  fit: fitSchema,
  account_id: z.string(),
});
export const previewEnvelopeSchema = envelope(previewSchema);

// ---------- contacts page and outcomes ----------

export const contactsQuerySchema = z.object({
  page_size: z.coerce.number().int().min(1).max(100).default(25).describe('contacts per page (max 100)'),
  page_token: z
    .string()
    .max(4096)
    .optional()
    .describe('next_page_token of the page before; absent: the first page'),
  status: z.enum(TASK_STATUSES).optional(),
  end_reason: z
    .string()
    .regex(/^[A-Z_]{1,64}$/, 'must be an end reason such as USER_DID_NOT_PICK_UP')
    .optional(),
  q: z
    .string()
    .max(100)
    .optional()
    .describe(
      'a phone number or its first digits (with or without +country code), or the first letters of the ' +
        "contact's name (any case; a prefix of the whole name: 'ann' finds Ann Lee, 'lee' does not)",
    ),
});

export const outcomesSchema = z.object({
  by_end_reason: z.record(z.string(), z.number().int()),
  by_status: z.record(z.string(), z.number().int()),
});
export const outcomesEnvelopeSchema = envelope(outcomesSchema);

// ---------- feed ----------

export const feedSampleSchema = z.object({
  at: z.string(),
  run_id: z.string(),
  state: z.string(),
  total: z.number().int(),
  counts: countsSchema,
  attempts: z.number().int().describe('dial attempts so far (cumulative)'),
  live_calls: z.number().int().describe('tasks ringing or in a call'),
  eta: z.string().nullable(),
  paused_reason: z.string().nullable().describe('why the run is paused, when it is'),
  limits: z
    .object({
      calls_per_minute: z.number(),
      concurrency_cap: z.number().int(),
      in_use: z.number().int(),
      dials_in_last_window: z.number().int(),
    })
    .nullable(),
});
export const feedEnvelopeSchema = envelope(feedSampleSchema);

// ---------- limits ----------

export const limitsViewSchema = z.object({
  account_id: z.string(),
  running: z.boolean().describe("false until the account's limiter has started (the defaults apply)"),
  limits: z.object({
    calls_per_minute: z.number(),
    tasks_per_day: z.number().int().nullable(),
    concurrency: z.number().int(),
    reserved: z.number().int(),
    timezone: z.string(),
  }),
  use: z.object({
    live_calls: z.number().int(),
    capacity: z.number().int(),
    dials_in_last_minute: z.number().int().describe('rate tokens taken in the current window'),
    rate_tokens_left: z.number().int(),
    tasks_today: z.number().int(),
    queued: z.number().int(),
    day_blocked: z.object({ count: z.number().int(), resets_at: z.string() }).nullable(),
  }),
});
export const limitsEnvelopeSchema = envelope(limitsViewSchema);

export const limitsPatchSchema = z
  .object({
    plan: z.enum(['free', 'pro', 'enterprise']).optional().describe('start from a plan, then apply the rest'),
    calls_per_minute: z.number().positive().max(100_000).optional(),
    tasks_per_day: z.number().int().positive().nullable().optional().describe('null: unlimited'),
    concurrency: z.number().int().min(1).max(100_000).optional(),
    reserved: z.number().int().min(0).max(100_000).optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'give at least one limit to change' });

// ---------- schedules ----------

export const scheduleParamsSchema = z.object({
  space_token: z.string().min(1).max(200),
  schedule_id: z.string().min(1).max(200),
});

export const scheduleSummarySchema = z.object({
  id: z.string(),
  spec: z.string(),
  source: z.string(),
  paused: z.boolean(),
  note: z.string().nullable(),
  next_run_at: z.string().nullable(),
  last_run_at: z.string().nullable(),
});
export const scheduleViewSchema = scheduleSummarySchema.extend({
  overlap: z.enum(OVERLAP_NAMES),
  actions: z.number().int(),
  next_run_times: z.array(z.string()),
  recent_runs: z.array(
    z.object({
      scheduled_at: z.string(),
      taken_at: z.string(),
      run_id: z.string().nullable(),
      status: z.string(),
      rows: z.number().int().nullable(),
      valid: z.number().int().nullable(),
      rejected: z.number().int().nullable(),
    }),
  ),
});
export const schedulesEnvelopeSchema = envelope(z.array(scheduleSummarySchema));
export const scheduleEnvelopeSchema = envelope(scheduleViewSchema);

const httpUrl = z.url({ protocol: /^https?$/ });
/** A schedule reads its do-not-call list nowhere but from its source's settings: no typed-in list. */
const { dnc: _typedDoNotCall, ...scheduleTimingShape } = runTimingShape;

export const createScheduleBodySchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "use letters, digits, '.', '_' and '-' (at most 100)"),
    source_url: httpUrl.describe('the CSV contact list, fetched again at every firing'),
    cron: z.string().max(200).optional().describe('5-field cron, e.g. "0 9 * * MON-FRI"'),
    every: z.string().max(40).optional().describe('an interval: 1h, 30m, 1d'),
    schedule_timezone: z.string().max(100).optional().describe('zone of the cron times'),
    overlap: z.enum(OVERLAP_NAMES).optional(),
    paused: z.boolean().optional(),
    note: z.string().max(500).optional(),
    region: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .optional(),
    pipe_id: z.string().min(1).max(200).optional(),
    agent_id: z.string().min(1).max(200).optional(),
    window: z.number().int().min(1).max(5000).optional(),
    policy: z.record(z.string(), z.unknown()).optional().describe('retry policy (see README)'),
    ...scheduleTimingShape,
  })
  .strict()
  .refine((b) => (b.cron === undefined) !== (b.every === undefined), {
    message: 'give exactly one of cron or every',
  });
