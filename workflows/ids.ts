/**
 * Deterministic workflow ids, each with its inverse, so any id seen in a webhook, a log or the Web UI leads
 * back to its run and contact.
 */
const RUN_ID = /^R[0-9a-f]{32}$/;

export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

export function campaignWorkflowId(runId: string): string {
  return `campaign-${runId}`;
}
export function parseCampaignWorkflowId(id: string): { runId: string } | undefined {
  const m = /^campaign-(R[0-9a-f]{32})$/.exec(id);
  return m ? { runId: m[1]! } : undefined;
}

export function contactBatchWorkflowId(runId: string, batchNo: number): string {
  return `campaign-${runId}-batch-${batchNo}`;
}
export function parseContactBatchWorkflowId(id: string): { runId: string; batchNo: number } | undefined {
  const m = /^campaign-(R[0-9a-f]{32})-batch-(\d+)$/.exec(id);
  return m ? { runId: m[1]!, batchNo: Number(m[2]) } : undefined;
}

/**
 * The contact key is its E.164 number without the plus: unique within a run after de-duplication. A row skipped
 * as a duplicate of another gets its line as a suffix, so its record never takes the called contact's id.
 */
export function callTaskWorkflowId(runId: string, phone: string, duplicateLine?: number): string {
  const base = `task-${runId}-${phone.replace(/^\+/, '')}`;
  return duplicateLine === undefined ? base : `${base}-L${duplicateLine}`;
}
export function parseCallTaskWorkflowId(
  id: string,
): { runId: string; phone: string; duplicateLine?: number } | undefined {
  const m = /^task-(R[0-9a-f]{32})-(\d{7,15})(?:-L(\d+))?$/.exec(id);
  if (!m) return undefined;
  return m[3]
    ? { runId: m[1]!, phone: `+${m[2]}`, duplicateLine: Number(m[3]) }
    : { runId: m[1]!, phone: `+${m[2]}` };
}

export function callIdempotencyKey(taskWorkflowId: string, attempt: number): string {
  return `${taskWorkflowId}:attempt-${attempt}`;
}

export function limiterWorkflowId(accountId: string): string {
  return `limiter-${accountId}`;
}
export function parseLimiterWorkflowId(id: string): { accountId: string } | undefined {
  const m = /^limiter-(.+)$/.exec(id);
  return m ? { accountId: m[1]! } : undefined;
}

/** One permit request per task attempt. */
export function permitId(taskWorkflowId: string, attempt: number): string {
  return `${taskWorkflowId}#${attempt}`;
}
