/**
 * Client side of a run: starts campaignWorkflow, stores each contact batch in its own contactBatchWorkflow and
 * announces it (an idempotent update keyed by batch number), then closes the input. Safe to call again with
 * the same runId after a crash: every step is idempotent, and a run that has ended is not started again.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ContactBatch } from '../contacts/contact';
import { executeUpdateRetrying } from '../temporal/update';
import {
  addBatchUpdate,
  closeInputUpdate,
  type CampaignInput,
  type RunSettings,
} from '../../workflows/definitions';

/** startRun's settings (defined with the workflow contracts; bench/ and others import it from here). */
export type { RunSettings };
import { campaignWorkflow, contactBatchWorkflow } from '../../workflows';
import { campaignWorkflowId, contactBatchWorkflowId } from '../../workflows/ids';
import { CampaignAccount, CampaignRunId, CampaignSpace } from '../../workflows/search-attributes';

/** Run ids look like the Runs API's: `R` and 32 hex digits. */
export function newRunId(): string {
  return `R${randomUUID().replace(/-/g, '')}`;
}

export interface StartedRun {
  runId: string;
  workflowId: string;
  /** What this call delivered: none when the run had already ended (a repeated start). */
  batches: number;
  contacts: number;
}

/** Runs a start; false when the workflow id was taken (running, or closed: every start here rejects a reuse). */
async function startOnce(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return false;
  }
}

/**
 * Starts the campaign workflow; its input arrives by `deliverBatches`. `ended`: a campaign of this run id had
 * already ended (a start repeated after its run finished): it is not run again, and takes no more input.
 */
export async function startCampaign(
  client: Client,
  taskQueue: string,
  settings: RunSettings,
): Promise<{ runId: string; ended: boolean; repeated: boolean }> {
  const runId = settings.runId ?? newRunId();
  const input: CampaignInput = { ...settings, runId, createdAt: new Date().toISOString() };
  const started = await startOnce(() =>
    client.workflow.start(campaignWorkflow, {
      workflowId: campaignWorkflowId(runId),
      // A start repeated with the same run id (a schedule's retried activity, a client) after the run ENDED must
      // not run it again: it would start, and dial, every contact once more.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: CampaignRunId, value: runId },
        { key: CampaignAccount, value: settings.accountId },
        { key: CampaignSpace, value: settings.spaceToken },
      ],
    }),
  );
  if (started) return { runId, ended: false, repeated: false };
  const { status } = await client.workflow.getHandle(campaignWorkflowId(runId)).describe();
  return { runId, ended: status.name !== 'RUNNING', repeated: true };
}

/**
 * `repeated`: the campaign was started before (a start repeated after a crash, or after the run's end). Such a
 * run may end while this delivers (its input was closed by the first start): then nothing more goes to it, the
 * list is still read to its end, and this delivered nothing.
 */
export async function deliverBatches(
  client: Client,
  taskQueue: string,
  runId: string,
  batches: AsyncIterable<ContactBatch>,
  o: { repeated?: boolean } = {},
): Promise<{ batches: number; contacts: number }> {
  const campaign = client.workflow.getHandle(campaignWorkflowId(runId));
  let count = 0;
  let contacts = 0;
  let ended = false;
  const announce = async (send: () => Promise<unknown>) => {
    try {
      await send();
    } catch (err) {
      if (!o.repeated || !(err instanceof WorkflowNotFoundError)) throw err;
      const { status } = await campaign.describe();
      if (status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW') throw err;
      ended = true;
    }
  };
  for await (const batch of batches) {
    if (ended) continue;
    await startOnce(() =>
      client.workflow.start(contactBatchWorkflow, {
        workflowId: contactBatchWorkflowId(runId, batch.batchNo),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        taskQueue,
        args: [{ runId, batchNo: batch.batchNo, contacts: batch.contacts, skipped: batch.skipped }],
        typedSearchAttributes: [{ key: CampaignRunId, value: runId }],
      }),
    );
    await announce(() =>
      executeUpdateRetrying(campaign, addBatchUpdate, [
        { batchNo: batch.batchNo, contacts: batch.contacts.length, skipped: batch.skipped.length },
      ]),
    );
    if (ended) continue;
    count = Math.max(count, batch.batchNo);
    contacts += batch.contacts.length + batch.skipped.length;
  }
  if (!ended)
    await announce(() => executeUpdateRetrying(campaign, closeInputUpdate, [{ totalBatches: count }]));
  return ended ? { batches: 0, contacts: 0 } : { batches: count, contacts };
}

export async function startRun(
  client: Client,
  taskQueue: string,
  settings: RunSettings,
  batches: AsyncIterable<ContactBatch>,
): Promise<StartedRun> {
  const { runId, ended, repeated } = await startCampaign(client, taskQueue, settings);
  if (ended) {
    // Nothing goes to it, but the list is read to its end all the same: its reader's summary waits for that.
    for await (const batch of batches) void batch;
    return { runId, workflowId: campaignWorkflowId(runId), batches: 0, contacts: 0 };
  }
  const delivered = await deliverBatches(client, taskQueue, runId, batches, { repeated });
  return { runId, workflowId: campaignWorkflowId(runId), ...delivered };
}
