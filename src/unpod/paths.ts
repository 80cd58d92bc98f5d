/**
 * Every Unpod path this project uses, in one place, as Unpod's own Python SDK sends them
 * (unpod 0.5.0, `unpod/management/calls.py`, `pipes.py`, `numbers.py`): host-root paths, no trailing slash.
 * `_http.py` resolves an `/api/…` path against the base URL's origin and drops the base's own path, and so do we.
 * docs/unpod-contract.md says where each comes from.
 */
const enc = encodeURIComponent;

const SPEECH = '/api/v2/platform/speech/v1';

export const unpodPaths = {
  calls: () => `${SPEECH}/calls`,
  call: (callId: string) => `${SPEECH}/calls/${enc(callId)}`,
  callHangup: (callId: string) => `${SPEECH}/calls/${enc(callId)}/hangup`,
  pipe: (pipeId: string) => `${SPEECH}/pipes/${enc(pipeId)}`,
  /** Served by the simulator (the SDK's proxy-mode `numbers.list`); the engine does not read numbers. */
  numbers: () => `${SPEECH}/numbers`,
} as const;

/**
 * The list filter the SDK's own tests use for live calls (`calls.list(status="in_flight")` →
 * `?call_status=in_flight`, rows answering `status: "in_flight"`): every call not yet ended.
 */
export const IN_FLIGHT_FILTER = 'in_flight';

/**
 * Sent only when UNPOD_IDEMPOTENCY_HEADER names it: Unpod documents no idempotency key and the SDK sends none,
 * so nothing may depend on it (a create whose answer was lost is reconciled by listing, activities/create-call.ts).
 */
export const DEFAULT_IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * Keys the engine puts in a call's `data` (the agent reads it as `ctx.data`): they route an AgentRunner push back
 * to its task and let a lost create be found again by listing. The prefix keeps them apart from a contact's
 * own columns.
 */
export const DATA_TASK_ID = 'campaign_task_id';
export const DATA_ATTEMPT = 'campaign_attempt';
export const DATA_RUN_ID = 'campaign_run_id';

/**
 * Our own push endpoint (Unpod documents no outbound webhooks): an AgentRunner's `call_end` hook posts here,
 * signed with AGENT_PUSH_SECRET — `x-campaign-timestamp: <unix s>`, `x-campaign-signature: v1=<hex HMAC-SHA256
 * (secret, "<t>.<raw body>")>`. examples/agent_push.py is the agent's side.
 */
export const AGENT_PUSH_PATH = '/v1/agent-events';
export const PUSH_TIMESTAMP_HEADER = 'x-campaign-timestamp';
export const PUSH_SIGNATURE_HEADER = 'x-campaign-signature';
