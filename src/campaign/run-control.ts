/**
 * Acting on a run, shared by the CLI and the HTTP API: pause / resume / cancel, the run's own input (for a
 * retry with the same settings, and for the Runs API views), and a retry run over the contacts that ended
 * failed or unanswered.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_BATCH_SIZE, type Contact, type ContactBatch } from '../contacts/contact';
import {
  cancelSignal,
  pauseSignal,
  resumeSignal,
  type CampaignInput,
  type CampaignState,
  type ContactBatchInput,
  type TaskStatus,
} from '../../workflows/definitions';
import { campaignWorkflowId, contactBatchWorkflowId } from '../../workflows/ids';
import { AppError } from '../errors';
import { classifyEndReason } from '../../workflows/policy';
import { getProgress, listTasks, RunNotFoundError } from './run-queries';
import { startRun, type RunSettings, type StartedRun } from './start-run';

/** The run is in a state that does not allow the action (e.g. pausing a completed run). */
export class RunStateError extends AppError<'run_state_conflict'> {
  override readonly name = 'RunStateError';
  constructor(
    readonly runId: string,
    readonly state: CampaignState,
    message: string,
  ) {
    super('run_state_conflict', message, { details: { state } });
  }
}

export type ControlAction = 'pause' | 'resume' | 'cancel';

const ENDED: readonly CampaignState[] = ['completed', 'canceled'];

export function isEnded(state: CampaignState): boolean {
  return ENDED.includes(state);
}

/** Sends pause, resume or cancel to a run that has not ended; returns the state it was in. */
export async function controlRun(
  client: Client,
  runId: string,
  action: ControlAction,
  hangup = false,
): Promise<CampaignState> {
  const before = await getProgress(client, runId);
  if (isEnded(before.state))
    throw new RunStateError(runId, before.state, `run ${runId} is already ${before.state}`);
  if (before.state === 'canceling')
    throw new RunStateError(runId, before.state, `run ${runId} is being canceled`);
  const handle = client.workflow.getHandle(campaignWorkflowId(runId));
  if (action === 'pause') await handle.signal(pauseSignal);
  else if (action === 'resume') await handle.signal(resumeSignal);
  else await handle.signal(cancelSignal, { hangup });
  return before.state;
}

/**
 * The input of the run's current execution (after continue-as-new too): its settings, space and user. Read
 * from the first event of its history, one page of one event.
 */
export async function getRunInput(client: Client, runId: string): Promise<CampaignInput> {
  const input = await startInput<CampaignInput>(client, campaignWorkflowId(runId));
  if (!input) throw new RunNotFoundError(runId);
  return input;
}

/** A workflow's input, from the first event of its history (one page of one event); undefined if none. */
async function startInput<T>(client: Client, workflowId: string): Promise<T | undefined> {
  let res;
  try {
    res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 1,
    });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) return undefined;
    throw err;
  }
  const payload = res.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? client.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload) : undefined;
}

/** A run's contacts as they were delivered (each batch's input, in order): every field of each. */
async function* deliveredContacts(client: Client, runId: string): AsyncGenerator<Contact> {
  for (let batchNo = 1; ; batchNo++) {
    const batch = await startInput<ContactBatchInput>(client, contactBatchWorkflowId(runId, batchNo));
    if (!batch) return;
    yield* batch.contacts;
  }
}

/** The settings a run was started with, as a new run would take them. */
export function settingsOf(input: CampaignInput): RunSettings {
  const { runId: _runId, state: _state, createdAt: _createdAt, ...settings } = input;
  return settings;
}

export const RETRY_FILTERS = {
  failed: (s: TaskStatus) => s === 'failed',
  /** The last call not picked up, by the policy's own table (USER_DID_NOT_PICK_UP, Unpod's no_answer, …). */
  'no-answer': (_s: TaskStatus, endReason: string | null) =>
    classifyEndReason(endReason).outcome === 'no_answer',
  /** Not reached before the deadline: a new run with a new deadline calls them. */
  expired: (s: TaskStatus) => s === 'expired',
} as const;
export type RetryWhich = keyof typeof RETRY_FILTERS;
export const RETRY_WHICH = Object.keys(RETRY_FILTERS) as RetryWhich[];

/** The contacts of an ended run that ended `which`; throws RunStateError while the run is still going. */
export async function contactsToRetry(client: Client, runId: string, which: RetryWhich): Promise<Contact[]> {
  const before = await getProgress(client, runId);
  if (!isEnded(before.state)) {
    throw new RunStateError(
      runId,
      before.state,
      `run ${runId} is still ${before.state}: retry a run once it has ended`,
    );
  }
  const phones = new Set(
    (await listTasks(client, runId))
      .filter((t) => RETRY_FILTERS[which](t.status, t.endReason))
      .map((t) => t.phone),
  );
  // The contacts as the run received them, so each keeps its own zone, instructions and call time.
  const contacts: Contact[] = [];
  for await (const c of deliveredContacts(client, runId)) if (phones.has(c.phone)) contacts.push(c);
  return contacts;
}

async function* inBatches(contacts: Contact[]): AsyncGenerator<ContactBatch> {
  for (let i = 0; i < contacts.length; i += DEFAULT_BATCH_SIZE)
    yield {
      batchNo: i / DEFAULT_BATCH_SIZE + 1,
      contacts: contacts.slice(i, i + DEFAULT_BATCH_SIZE),
      skipped: [],
    };
}

/** Starts a new run over the contacts of `runId` that ended `which`; null when there are none. */
export async function retryRun(
  client: Client,
  taskQueue: string,
  runId: string,
  which: RetryWhich,
  settings: RunSettings,
): Promise<(StartedRun & { retried: number }) | null> {
  const contacts = await contactsToRetry(client, runId, which);
  if (contacts.length === 0) return null;
  const started = await startRun(
    client,
    taskQueue,
    { ...settings, runId: undefined, source: `retry of ${runId} (${which})` },
    inBatches(contacts),
  );
  return { ...started, retried: contacts.length };
}
