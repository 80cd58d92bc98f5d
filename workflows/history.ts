/**
 * When a long-lived workflow (campaign, account limiter) continues as new: when the server suggests it, or
 * earlier, once its history passes a few thousand events or a megabyte. A worker that restarts replays the whole
 * history of each such workflow; a 4,000-event replay took longer than the 10 s workflow task timeout on a loaded
 * 2-core machine (the chaos test), and a workflow that cannot be replayed in time makes no progress at all.
 */
import { workflowInfo } from '@temporalio/workflow';

export const CONTINUE_AS_NEW_EVENTS = 2_000;
export const CONTINUE_AS_NEW_BYTES = 1024 * 1024;

export function shouldContinueAsNew(): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested ||
    info.historyLength >= CONTINUE_AS_NEW_EVENTS ||
    info.historySize >= CONTINUE_AS_NEW_BYTES
  );
}
