/**
 * One zod schema per boundary of the /api/v2 surface: path params, query strings, request bodies, responses.
 * The routes parse with these and /docs is generated from them, so the two cannot drift apart.
 *
 * Response shapes follow Unpod's Runs API v2 field for field (Unpod's Runs API page; docs/unpod-contract.md); what we
 * add lives under names that cannot clash with theirs: `x_campaign` on runs, tasks and errors, and
 * `x_validation` on the envelope of a created run.
 */
import { z } from 'zod';
import { policyFileSchema } from '../campaign/policy-file';
import { RETRY_WHICH } from '../campaign/run-control';
import { RUN_STATES, type RunState } from '../campaign/run-queries';
import { TASK_STATUSES } from '../../workflows/definitions';
import { MAX_CAMPAIGN_WINDOW, TEMPORAL_LIMITS } from '../temporal/server-limits';

const WINDOW_LIMIT_MESSAGE =
  `at most ${MAX_CAMPAIGN_WINDOW} tasks open at once: each is a pending child of the campaign, ` +
  `and Temporal allows ${TEMPORAL_LIMITS.pendingChildren} pending children per workflow`;

// ---------- path params ----------

export const spaceParamsSchema = z.object({ space_token: z.string().min(1).max(200) });
export const runParamsSchema = spaceParamsSchema.extend({ run_id: z.string().min(1).max(200) });

// ---------- query strings ----------

/**
 * A run's status: the documented Runs API statuses (completed, running, failed) and our finer states paused,
 * canceling, canceled — one mapping (src/campaign/run-queries.ts) for `status`, `?status=`, the CLI and /metrics.
 */
export { RUN_STATES, type RunState } from '../campaign/run-queries';
export type V2RunStatus = RunState;

const page = z.coerce.number().int().min(1).default(1).describe('1-based page number');
const pageSize = z.coerce.number().int().min(1).max(100).default(20).describe('items per page (max 100)');

export const listRunsQuerySchema = z.object({
  page,
  page_size: pageSize,
  status: z
    .preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(RUN_STATES))
    .optional()
    .describe('a run status: completed | running | failed (documented), paused | canceling | canceled'),
});
export type ListRunsQuery = z.infer<typeof listRunsQuerySchema>;

export const listTasksQuerySchema = z.object({
  page,
  page_size: pageSize,
  status: z.enum(TASK_STATUSES).optional().describe('task status'),
});
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

export const exportQuerySchema = z.object({
  format: z.enum(['csv', 'json']).default('csv'),
  status: z.enum(TASK_STATUSES).optional(),
});

// ---------- request bodies ----------

const httpUrl = z.url({ protocol: /^https?$/ });

/** Campaign options, the same in a JSON body and in multipart form fields. */
const campaignOptionsShape = {
  pipe_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Unpod pipe to call through; default UNPOD_PIPE_ID'),
  agent_id: z.string().min(1).max(200).optional().describe('agent; default UNPOD_AGENT_ID'),
  from_number: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550100')
    .optional()
    .describe('caller number (E.164); an API key may restrict it'),
  account_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("Unpod account whose plan limits apply: only the API key's own (else 403)"),
  policy: policyFileSchema.optional().describe('retry policy (see README): every field optional'),
  window: z
    .number()
    .int()
    .min(1)
    .max(MAX_CAMPAIGN_WINDOW, WINDOW_LIMIT_MESSAGE)
    .optional()
    .describe(`most tasks open at once; default 500, at most ${MAX_CAMPAIGN_WINDOW}`),
  callback_url: httpUrl
    .optional()
    .describe('POSTed each task end and the run end, signed like Unpod webhooks'),
  region: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 region such as US or IN')
    .optional()
    .describe('default region for numbers without +country code'),
  // The CLI's timing options (README: Calling windows, call times and schedules), same values as its flags.
  call_days: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe("calling days in each contact's zone: mon-fri, sat-sun, mon,wed,fri, all (as --call-days)"),
  call_hours: z
    .string()
    .min(1)
    .max(40)
    .optional()
    .describe("calling hours in each contact's zone, e.g. 09:00-17:00 (as --call-hours)"),
  blackout: z
    .string()
    .min(1)
    .max(4000)
    .optional()
    .describe('dates never called, comma-separated YYYY-MM-DD (as --blackout)'),
  zone: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('IANA zone for contacts whose row and number give none (as --zone)'),
  deadline: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(
      'ISO time with offset, or a duration after the start such as 8h; must be ahead (as --deadline)',
    ),
  remind_before: z
    .string()
    .min(1)
    .max(40)
    .optional()
    .describe('call appointment_at minus this (e.g. 24h) on rows without remind_before (as --remind-before)'),
  past_call_at: z
    .enum(['call', 'skip'])
    .optional()
    .describe('a call time already past: call at once, or skip the contact (as --past-call-at)'),
};

export const createRunJsonBodySchema = z
  .object({
    ...campaignOptionsShape,
    contacts: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe(
        'contacts as objects: a phone field (phone, phone_number, contact_number, …), name, metadata, …',
      ),
    source_url: httpUrl.optional().describe('a CSV contact list fetched by the server'),
    dnc: z
      .array(z.string().min(1).max(64))
      .max(1_000_000)
      .optional()
      .describe('do-not-call numbers (as --dnc): contacts with these numbers are skipped'),
  })
  .strict()
  .refine((b) => (b.contacts === undefined) !== (b.source_url === undefined), {
    message: 'give exactly one of contacts or source_url (or upload a CSV as multipart field `file`)',
  });
export type CreateRunJsonBody = z.infer<typeof createRunJsonBodySchema>;

/** Multipart form fields sent BEFORE the `file` part: strings, so numbers and the policy are decoded here. */
export const createRunFormSchema = z
  .object({
    ...campaignOptionsShape,
    window: z.coerce.number().int().min(1).max(MAX_CAMPAIGN_WINDOW, WINDOW_LIMIT_MESSAGE).optional(),
    policy: z
      .string()
      .transform((v, ctx) => {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'policy must be a JSON object' });
          return z.NEVER;
        }
      })
      .pipe(policyFileSchema)
      .optional(),
    dnc: z
      .string()
      .optional()
      .describe(
        'do-not-call list (as --dnc): a file part or a text field, one number a line or a CSV with a phone column; before `file`',
      ),
  })
  .strict();
/** The options of either body; the do-not-call list (text or numbers) travels apart. */
export type CreateRunOptions = Omit<z.infer<typeof createRunFormSchema>, 'dnc'>;

export const cancelBodySchema = z
  .object({ hangup: z.boolean().default(false).describe('hang up calls in progress (else they finish)') })
  .strict();
export const retryBodySchema = z
  .object({
    which: z
      .enum(RETRY_WHICH)
      .describe('retry the contacts that ended failed, unanswered, or expired (not reached by the deadline)'),
  })
  .strict();

// ---------- responses ----------

const countsSchema = z.object({
  pending: z.number().int(),
  ringing: z.number().int(),
  active: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  expired: z.number().int(),
  canceled: z.number().int(),
});

export const runExtensionSchema = z.object({
  state: z.enum(RUN_STATES).describe('the same as `status`'),
  total: z.number().int().describe('contacts announced (valid and skipped)'),
  input_closed: z.boolean(),
  counts: countsSchema.describe('tasks by status'),
  attempts: z.number().int().describe('dial attempts made'),
  retries_waiting: z.number().int(),
  eta: z.string().nullable(),
  paused_reason: z
    .string()
    .nullable()
    .describe('set when the run paused itself: Unpod refused the whole account (what happened, what to do)'),
  unknown_end_reasons: z
    .record(z.string(), z.number().int())
    .describe('end_reasons the policy table does not know (treated as failures), with their counts'),
  account_id: z.string(),
  pipe_id: z.string(),
  agent_id: z.string().nullable(),
  window: z.number().int(),
  source: z.string().nullable(),
  callback_url: z.string().nullable(),
  calling_window: z
    .object({
      days: z.array(z.number().int()).describe('0 = Sunday … 6 = Saturday'),
      start: z.string(),
      end: z.string(),
      blackout_dates: z.array(z.string()),
    })
    .nullable()
    .describe("in each contact's zone; null: any time"),
  zone: z.string().nullable().describe('the campaign zone, for contacts whose row and number give none'),
  deadline: z.string().nullable().describe('tasks not reached by then end expired'),
  past_call_at: z.enum(['call', 'skip']).describe('what a call time already past does'),
});

export const v2RunSchema = z.object({
  space_id: z.string(),
  user: z.string().nullable(),
  thread_id: z.string().nullable(),
  run_id: z.string(),
  collection_ref: z.string().nullable(),
  run_mode: z.enum(['dev', 'prod']),
  status: z
    .enum(RUN_STATES)
    .describe('completed | running | failed as documented, and paused | canceling | canceled (exact)'),
  batch_count: z.number().int(),
  created: z.string().describe('UTC, YYYY-MM-DDTHH:MM:SS as in the Runs API'),
  modified: z.string(),
  x_campaign: runExtensionSchema,
});
export type V2Run = z.infer<typeof v2RunSchema>;

const attemptSchema = z.object({
  attempt: z.number().int(),
  call_id: z.string().nullable(),
  created_at: z.string(),
  ended_at: z.string().nullable(),
  status: z.string(),
  end_reason: z.string().nullable(),
  duration_s: z.number().nullable(),
  ended_by: z.string().nullable(),
  decision: z.string().nullable(),
});

export const taskExtensionSchema = z.object({
  status: z.enum(TASK_STATUSES),
  end_reason: z.string().nullable(),
  reason: z.string().nullable().describe('why the task ended as it did'),
  attempts: z.number().int(),
  attempt_history: z.array(attemptSchema),
  next_attempt_at: z.string().nullable(),
  line: z.number().int().describe('line of the contact in its source'),
  metadata: z.record(z.string(), z.string()),
});

export const v2TaskSchema = z.object({
  space_id: z.string(),
  thread_id: z.string().nullable(),
  user: z.string().nullable(),
  user_org_id: z.string().nullable(),
  user_info: z.object({
    id: z.string().nullable(),
    email: z.string().nullable(),
    full_name: z.string().nullable(),
    user_token: z.string().nullable(),
  }),
  run_id: z.string(),
  task_id: z.string(),
  collection_ref: z.string().nullable(),
  execution_type: z.literal('call'),
  task: z.object({ objective: z.string().nullable() }),
  input: z.object({
    document_id: z.string().nullable(),
    name: z.string().nullable(),
    contact_number: z.string(),
    created: z.string(),
    token: z.string(),
    vapi_agent_id: z.string().nullable(),
    number_id: z.string().nullable(),
    quality: z.string().nullable(),
  }),
  output: z.object({
    id: z.string().nullable(),
    assistantId: z.string().nullable(),
    phoneNumberId: z.string().nullable(),
    type: z.literal('outbound'),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    transcript: z.string().nullable(),
    recordingUrl: z.string().nullable(),
    summary: z.string().nullable(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
    orgId: z.string().nullable(),
    cost: z.number().nullable(),
    customer: z.object({ number: z.string(), name: z.string().nullable() }),
  }),
  created: z.string(),
  modified: z.string(),
  x_campaign: taskExtensionSchema,
});
export type V2Task = z.infer<typeof v2TaskSchema>;

export const validationReportSchema = z.object({
  rows: z.number().int().describe('data rows read = valid + skipped + rejected'),
  valid: z.number().int(),
  skipped: z.object({ duplicate: z.number().int(), do_not_call: z.number().int() }),
  rejected: z.number().int(),
  rejects: z
    .array(z.object({ line: z.number().int(), column: z.string().nullable(), reason: z.string() }))
    .describe('the first 100 rejected rows'),
  batches: z.number().int(),
  columns: z.record(z.string(), z.string().optional()),
  metadata_columns: z.array(z.string()),
});
export type ValidationReport = z.infer<typeof validationReportSchema>;

function envelope<T extends z.ZodType>(data: T) {
  return z.object({
    count: z.number().int(),
    status_code: z.number().int(),
    message: z.string(),
    data,
  });
}

export const runsEnvelopeSchema = envelope(z.array(v2RunSchema));
export const runEnvelopeSchema = envelope(v2RunSchema);
export const createdRunEnvelopeSchema = envelope(v2RunSchema).extend({
  x_validation: validationReportSchema,
});
export const tasksEnvelopeSchema = envelope(z.array(v2TaskSchema));
export const retryEnvelopeSchema = envelope(v2RunSchema.nullable()).extend({
  x_campaign: z.object({ retry_of: z.string(), retried: z.number().int() }),
});

export const v2ErrorSchema = z.object({
  message: z.string(),
  errors: z.string(),
  x_campaign: z
    .object({ code: z.string() })
    .catchall(z.unknown())
    .describe('stable error code, and details such as zod issues or the validation report'),
});
export type V2ErrorBody = z.infer<typeof v2ErrorSchema>;

/** The callback body POSTed to a run's callback_url. */
export const callbackEventSchema = z.object({
  event_id: z.string().describe('stable per event: retries of one delivery carry the same id'),
  type: z.enum(['task.finished', 'run.finished']),
  created: z.string(),
  run_id: z.string(),
  space_id: z.string(),
  data: z.union([v2TaskSchema, v2RunSchema]),
});
export type CallbackEvent = z.infer<typeof callbackEventSchema>;
