/**
 * scheduledCampaignWorkflow: the action of a Temporal Schedule. Each firing reads the contact source at that
 * moment and starts a campaign run over it (one activity: stream → ingestion → startRun), records the run id in
 * its memo, then waits for the run to end so that the schedule's overlap policy (skip by default) applies to
 * runs. Canceled (overlap policy cancel-other), it cancels its run.
 */
import {
  ActivityFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  upsertMemo,
  uuid4,
} from '@temporalio/workflow';
import type { SourceActivities } from '../activities/sources';
import {
  MEMO_CAMPAIGN_RUN_ID,
  type ScheduledCampaignInput,
  type ScheduledRunResult,
} from './scheduled-input';

/** Reading the source and starting the run: heartbeats per batch; a bad list is not retried. */
const { startRunFromSource } = proxyActivities<SourceActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 10,
  },
});

/** Waiting for a run to end: as long as a run may last, alive by heartbeat. */
const { awaitRunEnd } = proxyActivities<SourceActivities>({
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { cancelRun } = proxyActivities<SourceActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
});

export async function scheduledCampaignWorkflow(input: ScheduledCampaignInput): Promise<ScheduledRunResult> {
  // Made here (deterministic) so that a retried activity starts the same run, never a second one.
  const runId = `R${uuid4().replace(/-/g, '')}`;
  const deadline = input.deadline
    ? 'at' in input.deadline
      ? input.deadline.at
      : new Date(Date.now() + input.deadline.afterMs).toISOString()
    : undefined;
  const started = await startRunFromSource({ ...input, runId, deadline });
  if (started.runId === null) return started;
  upsertMemo({ [MEMO_CAMPAIGN_RUN_ID]: started.runId });
  if (input.waitForRun === false) return started;
  try {
    const runState = await awaitRunEnd(started.runId, input.waitPollMs ?? 30_000);
    return { ...started, runState };
  } catch (err) {
    if (isCancellation(err) || (err instanceof ActivityFailure && isCancellation(err.cause))) {
      await CancellationScope.nonCancellable(() => cancelRun(started.runId!));
    }
    throw err;
  }
}
