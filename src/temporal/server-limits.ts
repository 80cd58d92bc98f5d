/**
 * Temporal's per-execution limits at a cluster's defaults (server v1.29 with no dynamic config; the dev server
 * runs with the same, see dev-server.ts), and the campaign settings kept under them with margin.
 */
import { DEFAULT_BATCH_SIZE } from '../contacts/contact';

export const TEMPORAL_LIMITS = {
  /** `limit.numPendingChildExecutions.error`: StartChildWorkflowExecution fails past it. */
  pendingChildren: 2_000,
  /** `limit.numPendingSignals.error`: SignalExternalWorkflowExecution fails past it. */
  pendingSignals: 2_000,
  /** `limit.numPendingActivities.error`. */
  pendingActivities: 2_000,
  /** `limit.historyCount.warn` / `.error` (events per run). */
  historyEventsWarn: 10_240,
  historyEventsError: 51_200,
  /** `limit.historySize.warn` / `.error` (bytes per run). */
  historyBytesWarn: 10 * 1024 * 1024,
  historyBytesError: 50 * 1024 * 1024,
} as const;

/**
 * The most tasks a run keeps open at once. Each open task is a pending child of the campaign (and the contacts
 * of one batch it skips are started beside the window, up to DEFAULT_BATCH_SIZE = 250 more); a pause, resume or
 * cancel signals every open task in one go, and the account limiter holds one request per open task. 1,000 + 250
 * keeps each of those at most 1,250 of the 2,000 allowed, a margin of 750.
 */
export const MAX_CAMPAIGN_WINDOW = 1_000;

/** The window's error, naming the parameter (`--window`, `window`), or undefined when it is fine. */
export function campaignWindowProblem(window: number, param = 'window'): string | undefined {
  if (!Number.isInteger(window) || window < 1) return `${param} must be a positive integer, got ${window}`;
  if (window > MAX_CAMPAIGN_WINDOW) {
    return (
      `${param} must be at most ${MAX_CAMPAIGN_WINDOW}, got ${window}: each open task is a pending child of the ` +
      `campaign, and Temporal allows ${TEMPORAL_LIMITS.pendingChildren} per workflow ` +
      `(${DEFAULT_BATCH_SIZE} more are kept for skipped contacts, the rest as margin)`
    );
  }
  return undefined;
}
