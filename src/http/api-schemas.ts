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
import { RUN_STATES } from '../campaign/run-queries';
import { v2RunSchema, v2TaskSchema } from '../campaign/run-view-schemas';
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

export const listTasksQuerySchema = z.object({
  page,
  page_size: pageSize,
  status: z.enum(TASK_STATUSES).optional().describe('task status'),
});

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

// TEMPORARY, for activities/callbacks.ts until it imports the type from src/campaign/run-view-schemas.ts.
