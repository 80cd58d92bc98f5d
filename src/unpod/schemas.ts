/**
 * zod schemas for every Unpod request and response this project sends or reads — the one boundary schema,
 * used by the client to parse answers and by the simulator to validate requests. Shapes follow the SDK
 * (unpod 0.5.0): `models/call.py`, `models/pipe.py`, `models/number.py`, `management/_http.py` (envelopes).
 * Answers are read tolerantly, as the SDK's pydantic models do (`extra="allow"`, aliases, nullable fields):
 * a call that exists never fails to parse because Unpod added or renamed something.
 */
import { z } from 'zod';
import { callState, normalizeEndReason, type CallState } from './end-reasons';

/** Per-call context handed to the agent, which reads it as `ctx.data` (SDK `calls.create(data=…)`). */
export const callDataSchema = z.record(z.string(), z.unknown());

const E164 = /^\+[1-9]\d{6,14}$/;

/** The body of `POST …/calls` as `calls.create` builds it: `to_number`, and `agent_id` OR `pipe_id`. */
export const createCallRequestSchema = z
  .object({
    to_number: z.string().regex(E164, 'to_number must be E.164, e.g. +14155552671'),
    agent_id: z.string().min(1).optional(),
    pipe_id: z.string().min(1).optional(),
    from_number: z.string().regex(E164, 'from_number must be E.164').optional(),
    instructions: z.string().optional(),
    data: callDataSchema.optional(),
  })
  .refine((b) => b.agent_id !== undefined || b.pipe_id !== undefined, {
    message: 'provide agent_id or pipe_id',
    path: ['pipe_id'],
  });
export type CreateCallRequest = z.infer<typeof createCallRequestSchema>;

const nullableString = z.string().nullish();
const stamp = z.union([z.string(), z.number()]).nullish();

/** One conversation turn, `{role, content, timestamp}`. */
export const transcriptTurnSchema = z
  .object({ role: z.string().nullish(), content: z.string().nullish(), timestamp: stamp })
  .passthrough();
export type TranscriptTurn = z.infer<typeof transcriptTurnSchema>;

/** A call as Unpod sends it (the SDK's `Call`): every field but the id optional, unknown fields kept. */
export const callWireSchema = z
  .object({
    id: z.union([z.string(), z.number()]).optional(),
    call_id: z.union([z.string(), z.number()]).optional(),
    pipe_id: nullableString,
    agent_id: nullableString,
    direction: nullableString,
    from_number: nullableString,
    to_number: nullableString,
    user_number: nullableString,
    session_id: nullableString,
    status: nullableString,
    end_reason: nullableString,
    disposition: nullableString,
    recording_url: nullableString,
    data: callDataSchema.nullish(),
    // A list of turns (SDK ≥ 0.3), a string on some older rows, null on list rows ("not loaded").
    transcript: z.union([z.array(transcriptTurnSchema), z.string()]).nullish(),
    transcript_turns: z.number().nullish(),
    summary: nullableString,
    cost: z.number().nullish(),
    started_at: stamp,
    ended_at: stamp,
    scheduled_at: stamp,
    created: stamp,
    modified: stamp,
    duration_s: z.number().nullish(),
    initial_call_id: nullableString,
  })
  .passthrough()
  .refine((c) => c.id !== undefined || c.call_id !== undefined, { message: 'a call needs id or call_id' });
export type CallWire = z.infer<typeof callWireSchema>;

/** What the engine reads off a call: one name per field, status read into our five states. */
export interface UnpodCall {
  callId: string;
  /** Unpod's own status word, as sent. */
  status: string;
  state: CallState;
  /** False when the status is not one we know (read as in progress; callers log it). */
  statusKnown: boolean;
  /** Upper-case with underscores (`agent_end_call` → AGENT_END_CALL); null until the call ends. */
  endReason: string | null;
  toNumber: string | null;
  pipeId: string | null;
  data: Record<string, unknown>;
  startedAt: string | null;
  endedAt: string | null;
  durationS: number | null;
  /** null: not loaded (a list row); [] a call with no turns. */
  transcript: TranscriptTurn[] | null;
  summary: string | null;
  recordingUrl: string | null;
  cost: number | null;
  createdAt: string | null;
}

function iso(v: string | number | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v).toISOString();
  return v;
}

export function toUnpodCall(c: CallWire): UnpodCall {
  const { state, known } = callState(c.status);
  const transcript =
    typeof c.transcript === 'string'
      ? [{ role: null, content: c.transcript, timestamp: null }]
      : (c.transcript ?? null);
  return {
    callId: String(c.call_id ?? c.id),
    status: c.status ?? 'pending',
    state,
    statusKnown: known,
    endReason: normalizeEndReason(c.end_reason),
    toNumber: c.to_number ?? c.user_number ?? null,
    pipeId: c.pipe_id ?? null,
    data: c.data ?? {},
    startedAt: iso(c.started_at),
    endedAt: iso(c.ended_at),
    durationS: c.duration_s ?? null,
    transcript,
    summary: c.summary ?? null,
    recordingUrl: c.recording_url ?? null,
    cost: c.cost ?? null,
    createdAt: iso(c.created),
  };
}

export const callSchema = callWireSchema.transform(toUnpodCall);
export const callListSchema = z.array(callWireSchema).transform((rows) => rows.map(toUnpodCall));

/** A Speech Pipe (SDK `models/pipe.py`): what the preflight reads. */
export const pipeSchema = z
  .object({
    pipe_id: z.union([z.string(), z.number()]).optional(),
    id: z.union([z.string(), z.number()]).optional(),
    name: nullableString,
    agent_id: nullableString,
    number_id: nullableString,
    number: nullableString,
    status: nullableString,
    max_call_duration_s: z.number().nullish(),
  })
  .passthrough();
export type Pipe = z.infer<typeof pipeSchema>;

/**
 * The envelopes of `_http.py` `unwrap_data`: `{"data": …}` alone, or with the renderer's `status_code` /
 * `message`. A body that merely has a `data` field is left as it is.
 */
export function unwrapData(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    const d = o.data;
    if (
      typeof d === 'object' &&
      d !== null &&
      (Object.keys(o).length === 1 || 'status_code' in o || 'message' in o)
    )
      return d;
  }
  return body;
}

/** Error bodies seen: `{"detail"}`, `{"error": {"code", "message"}}`, `{"status_code", "message"}`. */
export const errorBodySchema = z
  .object({
    detail: z.unknown().optional(),
    message: z.string().optional(),
    error: z
      .union([z.string(), z.object({ code: z.string().optional(), message: z.string().optional() })])
      .optional(),
    errors: z.unknown().optional(),
    code: z.string().optional(),
  })
  .passthrough();

/**
 * What an AgentRunner's `call_end(ctx, final_state)` hook posts to our push endpoint (our own shape: Unpod sends
 * no webhooks). `data` is the call's `ctx.data`, which carries the task's markers.
 */
export const agentPushSchema = z.object({
  event: z.literal('call_end'),
  call_id: z.string().min(1).max(200),
  final_state: z.string().max(40).optional(),
  data: callDataSchema.optional(),
});
export type AgentPush = z.infer<typeof agentPushSchema>;
