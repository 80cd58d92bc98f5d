/**
 * The engine's own bookkeeping against Temporal (lean protocol): start a campaign's task workflows in one go,
 * deliver tasks' reports through the worker's mailbox, and make sure the account's limiter runs.
 */
import { accountLimiterWorkflow, callTaskWorkflow } from '../workflows';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { CampaignMailbox } from '../src/temporal/mailbox';
import {
  campaignDemandSignal,
  type CampaignDemand,
  type TaskInput,
  type TaskReport,
} from '../workflows/definitions';
import { limiterWorkflowId } from '../workflows/ids';
import type { Limits } from '../workflows/limiter-core';
import {
  CampaignAccount,
  CampaignRunId,
  contactNameAttribute,
  TaskStatus,
} from '../workflows/search-attributes';

export interface StartTasksInput {
  tasks: { workflowId: string; input: TaskInput }[];
}

/** Starts this many at once: each start is one round trip to the server. */
const START_CONCURRENCY = 25;

export function createEngineActivities({
  temporal,
  mailbox,
  eagerStarter,
}: {
  temporal: Client;
  mailbox: CampaignMailbox;
  /** Starts tasks eagerly (a client on the worker's own NativeConnection); else `temporal` starts them. */
  eagerStarter?: Client;
}) {
  const starter = eagerStarter ?? temporal;
  return {
    /**
     * Starts task workflows (their search attributes set at start, so a task needs no command for them). One
     * already started counts as started: a retry of this activity after a partial success starts the rest.
     */
    async startTasks({
      tasks,
    }: StartTasksInput): Promise<{ started: number; already: number; eagerly: number }> {
      const taskQueue = activityInfo().taskQueue;
      let started = 0;
      let already = 0;
      let eagerly = 0; // recorded in the campaign's history with the result: how many the server handed over
      const queue = [...tasks];
      await Promise.all(
        Array.from({ length: Math.min(START_CONCURRENCY, queue.length) }, async () => {
          for (let t = queue.shift(); t; t = queue.shift()) {
            const c = t.input.contact;
            const attrs: SearchAttributePair[] = [
              { key: CampaignRunId, value: t.input.runId },
              { key: CampaignAccount, value: t.input.accountId },
              { key: TaskStatus, value: t.input.skip ? 'skipped' : 'pending' },
            ];
            attrs.push(...contactNameAttribute(c.name));
            try {
              const handle = await starter.workflow.start(callTaskWorkflow, {
                workflowId: t.workflowId,
                // The first workflow task (its dial, for a task started with a permit) comes back in the start's
                // answer to this worker; the server falls back to matching when it cannot (another task queue,
                // no free slot, or a server without it).
                ...(eagerStarter ? { requestEagerStart: true } : {}),
                // A retried chunk meets tasks its dead first attempt started; some may have called and ENDED since.
                // The default (allow a duplicate of a closed run) would start and dial those a second time.
                workflowIdReusePolicy: 'REJECT_DUPLICATE',
                taskQueue,
                args: [t.input],
                typedSearchAttributes: attrs,
              });
              started++;
              if (handle.eagerlyStarted) eagerly++;
            } catch (err) {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
              already++;
            }
            heartbeat(started + already); // throttled by the SDK; a dead worker's silence is what retries it
          }
        }),
      );
      return { started, already, eagerly };
    },

    /** A task's reports to its campaign, batched with other tasks' (a local activity: no history of its own). */
    async reportToCampaign(campaignWorkflowId: string, reports: TaskReport[]): Promise<void> {
      await mailbox.post(campaignWorkflowId, reports);
    },

    /**
     * Makes sure the account's limiter runs and tells it of a campaign (signal-with-start: a workflow cannot
     * start-or-signal by itself). `limits` apply only when this starts it; `settleMs` when the campaign had a share
     * of a limiter that is gone (others may hold shares too: the new one hears from them first).
     */
    async ensureAccountLimiter(
      accountId: string,
      demand: CampaignDemand,
      limits?: Partial<Limits>,
      settleMs?: number,
    ): Promise<void> {
      await temporal.workflow.signalWithStart(accountLimiterWorkflow, {
        workflowId: limiterWorkflowId(accountId),
        taskQueue: activityInfo().taskQueue,
        args: [{ accountId, limits, ...(settleMs ? { settleMs } : {}) }],
        signal: campaignDemandSignal,
        signalArgs: [demand],
      });
    },
  };
}
