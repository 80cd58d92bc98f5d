/**
 * Activities: thin, typed I/O over the Unpod client and Temporal, built by a factory over their dependencies
 * so tests hand in real ones pointed at the simulator and a test server.
 */
import { accountLimiterWorkflow } from '../workflows';
import { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { UnpodClient } from '../src/unpod';
import { CallWatcher } from '../src/unpod/call-watcher';
import {
  batchContentsQuery,
  campaignLimitSettingsSignal,
  type CampaignLimitSettings,
  type ContactBatchInput,
} from '../workflows/definitions';
import { contactBatchWorkflowId, limiterWorkflowId } from '../workflows/ids';
import type { Limits } from '../workflows/limiter-core';
import { createCallActivities } from './calls';
import type { OutboundOptions } from '../src/net/outbound-url';
import { createCallbackActivities } from './callbacks';
import { createSourceActivities } from './sources';
import { createEngineActivities } from './engine';
import { CampaignMailbox } from '../src/temporal/mailbox';

export { FAILURE_TYPES } from '../workflows/failures';
export { toCallSnapshot } from './calls';

export interface ActivityDeps {
  unpod: UnpodClient;
  temporal: Client;
  /** The worker's end-detection watcher; one is made over `unpod` when not given. */
  watcher?: CallWatcher;
  /** How long after an unanswered create a call it placed is sure to be listed (UNPOD_LANDING_DELAY_MS). */
  landingDelayMs?: number;
  /** Signs the callbacks POSTed to a run's callback_url (CALLBACK_SIGNING_SECRET); unset: none are sent. */
  callbackSigningSecret?: string;
  /** The guard over user-given URLs (schedule sources, callbacks); default: public addresses only. */
  outbound?: OutboundOptions;
  /** The worker's mailbox to campaigns (batched task reports); one is made over `temporal` when not given. */
  mailbox?: CampaignMailbox;
  /**
   * A client on the worker's own NativeConnection: tasks are started with it eagerly (the server hands their
   * first workflow task to this worker in the start's answer, instead of through matching). Unset: `temporal`
   * starts them the usual way.
   */
  eagerStarter?: Client;
}

export function createActivities({
  unpod,
  temporal,
  watcher,
  landingDelayMs,
  callbackSigningSecret,
  outbound,
  mailbox = new CampaignMailbox(temporal),
  eagerStarter,
}: ActivityDeps) {
  return {
    ...createCallActivities({ unpod, watcher: watcher ?? new CallWatcher(unpod), landingDelayMs, mailbox }),
    ...createEngineActivities({ temporal, mailbox, eagerStarter }),
    ...createCallbackActivities({ temporal, signingSecret: callbackSigningSecret, outbound }),
    ...createSourceActivities({ temporal, outbound }),
    /**
     * Makes sure the account's limiter runs (signal-with-start: workflows cannot start-or-signal themselves) and
     * tells it about a campaign. `limits` apply only when this starts the limiter; `unpod-campaigns limits` changes
     * a running one.
     */
    async ensureLimiter(
      accountId: string,
      settings: CampaignLimitSettings,
      limits?: Partial<Limits>,
    ): Promise<void> {
      const info = activityInfo();
      await temporal.workflow.signalWithStart(accountLimiterWorkflow, {
        workflowId: limiterWorkflowId(accountId),
        taskQueue: info.taskQueue,
        args: [{ accountId, limits }],
        signal: campaignLimitSettingsSignal,
        signalArgs: [settings],
      });
    },

    /** Reads one contact batch from the workflow that holds it (Temporal is the only store). */
    async loadBatch(runId: string, batchNo: number): Promise<ContactBatchInput> {
      return temporal.workflow.getHandle(contactBatchWorkflowId(runId, batchNo)).query(batchContentsQuery);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
