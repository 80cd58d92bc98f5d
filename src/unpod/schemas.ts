/**
 * zod schemas for every Unpod request and response this project sends or reads: the one boundary schema,
 * used by the client to parse responses and by the simulator to validate requests and shape replies.
 */
import { z } from 'zod';
import { CALL_STATUSES } from './end-reasons';

export const callStatusSchema = z.enum(CALL_STATUSES);

/** Free-form per-call context handed to the agent (docs: `metadata`, seen by the agent as `ctx.data`). */
export const metadataSchema = z.record(z.string(), z.unknown());

export const createCallRequestSchema = z.object({
  pipe_id: z.string().min(1),
  to_number: z.string().regex(/^\+[1-9]\d{6,14}$/, 'to_number must be E.164, e.g. +14155552671'),
  agent_id: z.string().min(1).optional(),
  from_number: z.string().optional(),
  instructions: z.string().optional(),
  metadata: metadataSchema.optional(),
});
export type CreateCallRequest = z.infer<typeof createCallRequestSchema>;

export const callSchema = z.object({
  call_id: z.string(),
  pipe_id: z.string(),
  agent_id: z.string().nullable().optional(),
  direction: z.enum(['outbound', 'inbound']),
  to_number: z.string(),
  from_number: z.string().nullable().optional(),
  status: callStatusSchema,
  /** Any string: the documented list is not complete. Null until the call ends. */
  end_reason: z.string().nullable(),
  session_id: z.string().nullable().optional(),
  metadata: metadataSchema.default({}),
  created_at: z.string(),
  started_at: z.string().nullable().optional(),
  answered_at: z.string().nullable().optional(),
  ended_at: z.string().nullable().optional(),
  duration_s: z.number().nullable().optional(),
  transcript: z.string().nullable().optional(),
  summary: z.string().nullable().optional(),
  recording_url: z.string().nullable().optional(),
  cost: z.number().nullable().optional(),
});
export type Call = z.infer<typeof callSchema>;

export const paginatedSchema = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    count: z.number().int().nonnegative(),
    next: z.string().nullable().optional(),
    previous: z.string().nullable().optional(),
    results: z.array(item),
  });

export const callListSchema = paginatedSchema(callSchema);

export const sessionSchema = z.object({
  session_id: z.string(),
  call_id: z.string(),
  agent_id: z.string().nullable().optional(),
  started_at: z.string().nullable().optional(),
  ended_at: z.string().nullable().optional(),
});
export const sessionListSchema = paginatedSchema(sessionSchema);

// --- v1 documented resources (rest-api-quickstart.txt) ---
export const spaceSchema = z.object({
  id: z.union([z.number(), z.string()]),
  name: z.string(),
  token: z.string(),
  domain: z.string().optional(),
});
export const spaceListSchema = z.object({ results: z.array(spaceSchema) });

export const agentSchema = z.object({ handle: z.string(), name: z.string().optional() }).passthrough();
export const agentListSchema = z.object({ results: z.array(agentSchema) });

export const createTaskRequestSchema = z.object({
  agent_handle: z.string().min(1),
  phone_number: z.string().min(1),
  space_token: z.string().min(1),
  metadata: metadataSchema.optional(),
});
export type CreateTaskRequest = z.infer<typeof createTaskRequestSchema>;
export const taskSchema = z.object({ task_id: z.string() }).passthrough();

export const v1RunSchema = z
  .object({
    run_id: z.string(),
    task_id: z.string().optional(),
    status: z.enum(['queued', 'in_progress', 'completed', 'failed']),
  })
  .passthrough();
export const v1RunListSchema = z.object({ results: z.array(v1RunSchema) });

export const callLogSchema = z
  .object({
    duration: z.number().nullable().optional(),
    transcript: z.string().nullable().optional(),
    outcome: z.string().nullable().optional(),
  })
  .passthrough();
export const callLogListSchema = z.object({ results: z.array(callLogSchema) });

// --- v2 Runs API (runs-api-v2.txt) ---
export const v2EnvelopeSchema = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    count: z.number().int(),
    status_code: z.number().int(),
    message: z.string(),
    data: z.array(item),
  });

export const v2RunSchema = z.object({
  space_id: z.string(),
  user: z.string(),
  thread_id: z.string().nullable(),
  run_id: z.string(),
  collection_ref: z.string().nullable(),
  run_mode: z.string(),
  status: z.string(),
  batch_count: z.number().int(),
  created: z.string(),
  modified: z.string(),
});
export const v2RunTaskSchema = z
  .object({
    space_id: z.string(),
    thread_id: z.string().nullable(),
    user: z.string(),
    run_id: z.string(),
    task_id: z.string(),
    execution_type: z.string(),
    task: z.record(z.string(), z.unknown()),
    input: z.record(z.string(), z.unknown()),
    output: z.record(z.string(), z.unknown()).nullable(),
    created: z.string(),
    modified: z.string(),
  })
  .passthrough();
/** The documented error body (206/4xx/5xx): `{ message, errors }`. */
export const v2ErrorSchema = z.object({ message: z.string(), errors: z.unknown().optional() });

// --- Webhooks (assumed shape: the docs describe a call_end hook; we receive it over HTTP) ---
export const webhookEventSchema = z.object({
  event_id: z.string().min(1),
  type: z.enum(['call.status_changed', 'call.ended']),
  occurred_at: z.string(),
  call: callSchema,
});
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** Error body our simulator sends (and a generic shape we accept from Unpod): `{ detail }` or `{ message }`. */
export const errorBodySchema = z
  .object({ detail: z.string().optional(), message: z.string().optional(), errors: z.unknown().optional() })
  .passthrough();
