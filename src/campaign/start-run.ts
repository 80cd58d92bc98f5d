/**
 * Client side of a run: starts campaignWorkflow, stores each contact batch in its own contactBatchWorkflow and
 * announces it (an idempotent update keyed by batch number), then closes the input. Safe to call again with
 * the same runId after a crash: every step is idempotent.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
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
  batches: number;
  contacts: number;
}

async function startIgnoringDuplicate(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Starts the campaign workflow; its input arrives by `deliverBatches`. */
export async function startCampaign(
  client: Client,
  taskQueue: string,
  settings: RunSettings,
): Promise<string> {
  const runId = settings.runId ?? newRunId();
  const input: CampaignInput = { ...settings, runId, createdAt: new Date().toISOString() };
  await startIgnoringDuplicate(() =>
    client.workflow.start(campaignWorkflow, {
      workflowId: campaignWorkflowId(runId),
      taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: CampaignRunId, value: runId },
        { key: CampaignAccount, value: settings.accountId },
        { key: CampaignSpace, value: settings.spaceToken },
      ],
    }),
  );
  return runId;
}

export async function deliverBatches(
  client: Client,
  taskQueue: string,
  runId: string,
  batches: AsyncIterable<ContactBatch>,
): Promise<{ batches: number; contacts: number }> {
  const campaign = client.workflow.getHandle(campaignWorkflowId(runId));
  let count = 0;
  let contacts = 0;
  for await (const batch of batches) {
    await startIgnoringDuplicate(() =>
      client.workflow.start(contactBatchWorkflow, {
        workflowId: contactBatchWorkflowId(runId, batch.batchNo),
        taskQueue,
        args: [{ runId, batchNo: batch.batchNo, contacts: batch.contacts, skipped: batch.skipped }],
        typedSearchAttributes: [{ key: CampaignRunId, value: runId }],
      }),
    );
    await executeUpdateRetrying(campaign, addBatchUpdate, [
      { batchNo: batch.batchNo, contacts: batch.contacts.length, skipped: batch.skipped.length },
    ]);
    count = Math.max(count, batch.batchNo);
    contacts += batch.contacts.length + batch.skipped.length;
  }
  await executeUpdateRetrying(campaign, closeInputUpdate, [{ totalBatches: count }]);
  return { batches: count, contacts };
}

export async function startRun(
  client: Client,
  taskQueue: string,
  settings: RunSettings,
  batches: AsyncIterable<ContactBatch>,
): Promise<StartedRun> {
  const runId = await startCampaign(client, taskQueue, settings);
  const delivered = await deliverBatches(client, taskQueue, runId, batches);
  return { runId, workflowId: campaignWorkflowId(runId), ...delivered };
}
