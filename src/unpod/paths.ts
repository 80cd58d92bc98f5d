/**
 * Every Unpod path this project uses, in one place. The docs give the v1 tasks/runs/call-logs/agents/spaces
 * and v2 runs paths; the calls and sessions paths are our assumption (the SDK's `client.calls` and
 * `client.sessions` resources, mapped to REST the way the documented v1 resources are). README lists them.
 */
const enc = encodeURIComponent;

export const unpodPaths = {
  // Calls (assumed shape; the docs describe calls.create/get/list/hangup through the SDK).
  calls: () => '/api/v1/calls/',
  call: (callId: string) => `/api/v1/calls/${enc(callId)}/`,
  callHangup: (callId: string) => `/api/v1/calls/${enc(callId)}/hangup/`,
  // Sessions (assumed shape, as calls).
  sessions: () => '/api/v1/sessions/',
  session: (sessionId: string) => `/api/v1/sessions/${enc(sessionId)}/`,
  // Documented v1 resources (rest-api-quickstart.txt).
  organizations: () => '/api/v1/organizations/',
  spaces: () => '/api/v1/spaces/',
  agents: () => '/api/v1/agents/',
  tasks: () => '/api/v1/tasks/',
  runs: () => '/api/v1/runs/',
  callLogs: () => '/api/v1/call-logs/',
  // Documented v2 resources (runs-api-v2.txt).
  v2Runs: (spaceToken: string) => `/api/v2/platform/spaces/${enc(spaceToken)}/runs/`,
  v2Run: (spaceToken: string, runId: string) =>
    `/api/v2/platform/spaces/${enc(spaceToken)}/runs/${enc(runId)}/`,
  v2RunTasks: (spaceToken: string, runId: string) =>
    `/api/v2/platform/spaces/${enc(spaceToken)}/runs/${enc(runId)}/tasks/`,
} as const;

/** Header carrying the idempotency key on create requests (assumed; the common Stripe-style name). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Webhook signature headers (assumed): `t=<unix seconds>` and `v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-unpod-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-unpod-signature';

/**
 * Keys we put in a call's `metadata` so that a webhook can be routed back to the task workflow that placed it.
 * The agent sees them in ctx.data too; the prefix keeps them from clashing with a contact's own columns.
 */
export const METADATA_TASK_WORKFLOW_ID = 'campaign_task_workflow_id';
export const METADATA_ATTEMPT = 'campaign_attempt';
export const METADATA_RUN_ID = 'campaign_run_id';
