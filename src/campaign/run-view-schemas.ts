/**
 * A run and a task as the Runs API v2 shows them, and the callback event that carries them: the campaign's read
 * models (zod, so the OpenAPI document and the callback body come from the same definition). The HTTP API, the
 * callback activity and the console all show these; run-views.ts builds them from what Temporal holds.
 */
import { z } from 'zod';
import { RUN_STATES, type RunState } from './run-queries';
import { TASK_STATUSES } from '../../workflows/definitions';

export type V2RunStatus = RunState;

export const countsSchema = z.object({
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
