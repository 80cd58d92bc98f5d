/**
 * The account limiter from the client side: read its state, change its limits live, and the up-front estimate
 * of how long a run needs at those limits.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { executeUpdateRetrying } from '../temporal/update';
import {
  limiterStateQuery,
  MEMO_LIMITER_VIEW,
  setLimitsUpdate,
  type LimiterView,
} from '../../workflows/definitions';
import { accountLimiterWorkflow } from '../../workflows';
import { limiterWorkflowId } from '../../workflows/ids';
import {
  DEFAULT_LIMITS,
  minimumMakespan,
  PLANS,
  type Limits,
  type PlanName,
  validateLimits,
} from '../../workflows/limiter-core';

export { PLANS, type PlanName };

/** Limits that cannot be set: the message names the field. */
export class LimitsError extends Error {
  override name = 'LimitsError';
}

/** Mean call length assumed by estimates when none is given: two minutes. */
export const DEFAULT_MEAN_CALL_MS = 120_000;

/**
 * The account limiter's view: the memo it publishes (by describe: no query reaches it, no worker is needed), or
 * its query for a limiter from before 0.3.1; null when the account has none.
 */
export async function limiterState(client: Client, accountId: string): Promise<LimiterView | null> {
  try {
    const handle = client.workflow.getHandle(limiterWorkflowId(accountId));
    const desc = await handle.describe();
    const published = desc.status.name === 'RUNNING' ? desc.memo?.[MEMO_LIMITER_VIEW] : undefined;
    return (published as LimiterView | undefined) ?? (await handle.query(limiterStateQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Changes a running limiter, or starts one with these limits. Returns the limits now in force. */
export async function setLimits(
  client: Client,
  taskQueue: string,
  accountId: string,
  patch: Partial<Limits>,
): Promise<Limits> {
  // Checked before anything starts: a limiter started with a zone that is not one could never run.
  try {
    validateLimits(patch);
  } catch (err) {
    throw new LimitsError((err as Error).message);
  }
  const workflowId = limiterWorkflowId(accountId);
  await client.workflow.start(accountLimiterWorkflow, {
    workflowId,
    taskQueue,
    args: [{ accountId, limits: patch }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  // Not the handle start returned: that one is pinned to the run it found, which may continue as new.
  return executeUpdateRetrying(client.workflow.getHandle(workflowId), setLimitsUpdate, [patch]);
}

export function planLimits(plan: PlanName): Partial<Limits> {
  return { ...PLANS[plan] };
}

export interface Estimate {
  contacts: number;
  minimumMs: number;
  boundBy: 'rate' | 'concurrency';
  limits: Pick<Limits, 'callsPerMinute' | 'concurrency' | 'reserved' | 'windowMs' | 'tasksPerDay'>;
  meanCallMs: number;
  /** Days the tasks/day budget spreads the run over (1 when it fits in one). */
  days: number;
}

export function estimate(
  contacts: number,
  limits: Limits = DEFAULT_LIMITS,
  meanCallMs = DEFAULT_MEAN_CALL_MS,
): Estimate {
  const { ms, boundBy } = minimumMakespan(contacts, limits, meanCallMs);
  return {
    contacts,
    minimumMs: ms,
    boundBy,
    limits,
    meanCallMs,
    days: limits.tasksPerDay ? Math.ceil(contacts / limits.tasksPerDay) : 1,
  };
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export function describeEstimate(e: Estimate): string {
  const l = e.limits;
  return (
    `${e.contacts} contacts need at least ${formatDuration(e.minimumMs)} at ${l.callsPerMinute} calls/min and ` +
    `${l.concurrency - l.reserved} concurrent calls (mean call ${formatDuration(e.meanCallMs)}; bound by ${e.boundBy})` +
    (e.days > 1 ? `, spread over ${e.days} days by the ${l.tasksPerDay} tasks/day budget` : '')
  );
}
