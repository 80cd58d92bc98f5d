/**
 * Runs and tasks as the Runs API v2 shows them, built from what Temporal holds: the campaign's input (first
 * history event), its progress (query, or result once closed), its execution status, and each task's state.
 * The campaign's read models: shared by the HTTP routes and the callback activity; no fastify here.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { getRunInput } from './run-control';
import { progressOf, readEta, RunNotFoundError, runStateOf } from './run-queries';
import {
  taskStatusQuery,
  type CampaignInput,
  type CampaignProgress,
  type TaskState,
} from '../../workflows/definitions';
import { campaignWorkflowId } from '../../workflows/ids';
import { visibilityQuery } from '../temporal/visibility';
import type { RunState } from './run-queries';
import type { V2Run, V2RunStatus, V2Task } from './run-view-schemas';

export type RunMode = 'dev' | 'prod';

/** `2025-11-30T17:51:52`: the Runs API's timestamp form (UTC, no zone suffix, no fraction). */
export function v2Time(iso: string | null | undefined): string {
  const d = iso ? new Date(iso) : new Date(NaN);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19);
}

/** A run's `status`: its state, one mapping for the API, the CLI and /metrics (run-queries.ts). */
export function v2StatusOf(state: RunState): V2RunStatus {
  return state;
}

export interface RunSnapshot {
  input: CampaignInput;
  /** null when the campaign workflow itself failed or was terminated (no result to read). */
  progress: CampaignProgress | null;
  executionStatus: string;
  closeTime?: Date;
  batchCount: number;
}

export function stateOf(s: Pick<RunSnapshot, 'progress' | 'executionStatus'>): RunState {
  return runStateOf(s.executionStatus, s.progress);
}

const ZERO_COUNTS = {
  pending: 0,
  ringing: 0,
  active: 0,
  completed: 0,
  failed: 0,
  skipped: 0,
  expired: 0,
  canceled: 0,
};

export function toV2Run(s: RunSnapshot, runMode: RunMode): V2Run {
  const { input, progress } = s;
  const state = stateOf(s);
  return {
    space_id: input.spaceToken,
    user: input.user ?? null,
    thread_id: null,
    run_id: input.runId,
    collection_ref: input.source ?? null,
    run_mode: runMode,
    status: v2StatusOf(state),
    batch_count: s.batchCount,
    created: v2Time(input.createdAt),
    modified: v2Time(progress?.updatedAt ?? s.closeTime?.toISOString() ?? input.createdAt),
    x_campaign: {
      state,
      total: progress?.total ?? 0,
      input_closed: progress?.inputClosed ?? false,
      counts: progress?.counts ?? ZERO_COUNTS,
      attempts: progress?.attempts ?? 0,
      retries_waiting: progress?.retriesWaiting ?? 0,
      eta: progress?.eta ?? null,
      paused_reason: progress?.pausedReason ?? null,
      unknown_end_reasons: progress?.unknownEndReasons ?? {},
      account_id: input.accountId,
      pipe_id: input.call.pipeId,
      agent_id: input.call.agentId ?? null,
      window: input.window,
      source: input.source ?? null,
      callback_url: input.callbackUrl ?? null,
      calling_window: input.callingWindow
        ? {
            days: input.callingWindow.days,
            start: input.callingWindow.start,
            end: input.callingWindow.end,
            blackout_dates: input.callingWindow.blackoutDates ?? [],
          }
        : null,
      zone: input.timezone ?? null,
      deadline: input.deadline ?? null,
      past_call_at: input.pastCallAt ?? 'call',
    },
  };
}

export function toV2Task(
  t: TaskState,
  input: Pick<CampaignInput, 'spaceToken' | 'user' | 'source' | 'accountId' | 'call'>,
): V2Task {
  const last = t.attempts[t.attempts.length - 1];
  const first = t.attempts[0];
  return {
    space_id: input.spaceToken,
    thread_id: null,
    user: input.user ?? null,
    user_org_id: null,
    user_info: { id: input.user ?? null, email: null, full_name: null, user_token: null },
    run_id: t.runId,
    task_id: t.taskId,
    collection_ref: input.source ?? null,
    execution_type: 'call',
    task: { objective: null },
    input: {
      document_id: null,
      name: t.name,
      contact_number: t.phone,
      created: v2Time(t.createdAt),
      token: input.spaceToken,
      vapi_agent_id: input.call.agentId ?? null,
      number_id: input.call.fromNumber ?? null,
      quality: null,
    },
    output: {
      id: last?.callId ?? null,
      assistantId: input.call.agentId ?? null,
      phoneNumberId: input.call.fromNumber ?? null,
      type: 'outbound',
      startedAt: last?.callId ? last.createdAt : null,
      endedAt: last?.endedAt ?? null,
      transcript: t.transcript,
      recordingUrl: t.recordingUrl,
      summary: t.summary,
      createdAt: first?.createdAt ?? null,
      updatedAt: t.updatedAt,
      orgId: input.accountId,
      cost: t.cost,
      customer: { number: t.phone, name: t.name },
    },
    created: v2Time(t.createdAt),
    modified: v2Time(t.updatedAt),
    x_campaign: {
      status: t.status,
      end_reason: t.endReason,
      reason: t.reason,
      attempts: t.attempts.length,
      attempt_history: t.attempts.map((a) => ({
        attempt: a.attempt,
        call_id: a.callId,
        created_at: a.createdAt,
        ended_at: a.endedAt,
        status: a.status,
        end_reason: a.endReason,
        duration_s: a.durationS,
        ended_by: a.endedBy,
        decision: a.decision,
      })),
      next_attempt_at: t.nextAttemptAt,
      line: t.line,
      metadata: t.metadata,
    },
  };
}

export function runsOfSpaceQuery(spaceToken: string, executionStatus?: string): string {
  return visibilityQuery('campaign', {
    CampaignSpace: spaceToken,
    ExecutionStatus: executionStatus || undefined,
  });
}

export async function batchCount(client: Client, runId: string): Promise<number> {
  const res = await client.workflow.count(visibilityQuery('contactBatch', { CampaignRunId: runId }));
  return res.count;
}

/** The whole snapshot of one run; RunNotFoundError when there is none, or it is not in `spaceToken`. */
export async function loadRun(client: Client, runId: string, spaceToken?: string): Promise<RunSnapshot> {
  const input = await getRunInput(client, runId);
  if (spaceToken !== undefined && input.spaceToken !== spaceToken) throw new RunNotFoundError(runId);
  const handle = client.workflow.getHandle(campaignWorkflowId(runId));
  let desc;
  try {
    desc = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
    throw err;
  }
  const [progress, batches] = await Promise.all([progressOf(client, desc), batchCount(client, runId)]);
  return {
    input,
    progress,
    executionStatus: desc.status.name,
    closeTime: desc.closeTime,
    batchCount: batches,
  };
}

/** A snapshot from a visibility listing entry (one history read, one query or result, one count). */
export async function loadRunFromInfo(client: Client, info: WorkflowExecutionInfo): Promise<RunSnapshot> {
  const runId = info.workflowId.replace(/^campaign-/, '');
  const [input, progress, batches] = await Promise.all([
    getRunInput(client, runId),
    progressOf(client, info),
    batchCount(client, runId),
  ]);
  return {
    input,
    progress,
    executionStatus: info.status.name,
    closeTime: info.closeTime,
    batchCount: batches,
  };
}

/** One task's state from its visibility entry: the result once closed, else the status query. */
export async function loadTask(client: Client, info: WorkflowExecutionInfo): Promise<TaskState | null> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  if (info.status.name === 'COMPLETED') return (await handle.result()) as TaskState;
  if (info.status.name === 'RUNNING') return handle.query(taskStatusQuery);
  return null;
}

/**
 * The snapshot with its ETA worked out now (run-queries.ts readEta: the limits in force and the contacts'
 * next attempts), not the campaign's own estimate from its last workflow task; null unless running.
 */
export async function withLiveEta(client: Client, s: RunSnapshot): Promise<RunSnapshot> {
  if (!s.progress) return s;
  const running = stateOf(s) === 'running';
  return { ...s, progress: { ...s.progress, eta: running ? await readEta(client, s.progress) : null } };
}
