/**
 * Reading a run: its progress (the campaign's query, or its result once closed), its tasks (visibility by the
 * CampaignRunId search attribute, then each task's status), and the export rows built from them.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  progressQuery,
  taskStatusQuery,
  TASK_STATUSES,
  type CampaignProgress,
  type TaskState,
  type TaskStatus,
} from '../../workflows/definitions';
import { campaignWorkflowId, isRunId } from '../../workflows/ids';

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  readonly code = 'RUN_NOT_FOUND';
  constructor(readonly runId: string) {
    super(
      isRunId(runId)
        ? `run ${runId} not found`
        : `run ${runId} not found: a run id is R followed by 32 hex digits, e.g. R40fe5eface1511f082ac156368e7acc4`,
    );
  }
}

/**
 * A run's state, one mapping for the HTTP API (`status` and `?status=`), the CLI (`status`, `runs`) and
 * /metrics: the campaign's own state while its workflow runs or once it completed (a canceled run is
 * `canceled`, a paused one `paused`), `failed` when the workflow itself failed, was terminated or timed out.
 */
export const RUN_STATES = ['running', 'paused', 'canceling', 'canceled', 'completed', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export function runStateOf(
  executionStatus: string,
  progress: Pick<CampaignProgress, 'state'> | null | undefined,
): RunState {
  if (executionStatus === 'RUNNING' || executionStatus === 'COMPLETED') return progress?.state ?? 'running';
  return 'failed';
}

/** The Temporal execution status a run in `state` has: what a visibility query narrows by first. */
export function executionStatusOf(state: RunState): 'Running' | 'Completed' | undefined {
  if (state === 'running' || state === 'paused' || state === 'canceling') return 'Running';
  if (state === 'completed' || state === 'canceled') return 'Completed';
  return undefined;
}

export function parseRunState(value: string, flag = '--status'): RunState {
  const v = value.trim().toLowerCase();
  if (!(RUN_STATES as readonly string[]).includes(v))
    throw new RunQueryError(`${flag} must be one of ${RUN_STATES.join(', ')}; got '${value}'`);
  return v as RunState;
}

/** A bad filter value; the CLI prints it as one line. */
export class RunQueryError extends Error {
  override readonly name = 'RunQueryError';
  readonly code = 'INVALID_QUERY';
}

export async function getProgress(client: Client, runId: string): Promise<CampaignProgress> {
  const handle = client.workflow.getHandle(campaignWorkflowId(runId));
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'COMPLETED') return (await handle.result()) as CampaignProgress;
    return await handle.query(progressQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
    throw err;
  }
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function tasksQuery(runId: string, status?: TaskStatus): string {
  let q = `WorkflowType = 'callTaskWorkflow' AND CampaignRunId = ${quote(runId)}`;
  if (status) q += ` AND TaskStatus = ${quote(status)}`;
  return q;
}

/** Case-insensitive (`FAILED` is `failed`); an unknown value is a RunQueryError naming the flag. */
export function parseTaskStatus(value: string, flag = '--status'): TaskStatus {
  const v = value.trim().toLowerCase();
  if (!(TASK_STATUSES as readonly string[]).includes(v)) {
    throw new RunQueryError(`${flag} must be one of ${TASK_STATUSES.join(', ')}; got '${value}'`);
  }
  return v as TaskStatus;
}

/** Every task of a run, with its full state, in contact-line order. Reads closed tasks from their result. */
export async function* iterateTasks(
  client: Client,
  runId: string,
  status?: TaskStatus,
): AsyncGenerator<TaskState> {
  for await (const info of client.workflow.list({ query: tasksQuery(runId, status) })) {
    const handle = client.workflow.getHandle(info.workflowId);
    if (info.status.name === 'COMPLETED') yield (await handle.result()) as TaskState;
    else if (info.status.name === 'RUNNING') yield await handle.query(taskStatusQuery);
  }
}

export async function listTasks(client: Client, runId: string, status?: TaskStatus): Promise<TaskState[]> {
  const out: TaskState[] = [];
  for await (const t of iterateTasks(client, runId, status)) out.push(t);
  return out.sort((a, b) => a.line - b.line);
}

export interface ExportRow {
  line: number;
  phone: string;
  name: string;
  status: TaskStatus;
  reason: string;
  attempts: number;
  end_reasons: string;
  call_ids: string;
  duration_s: number | '';
  summary: string;
  transcript: string;
  task_id: string;
}

export function toExportRow(t: TaskState): ExportRow {
  const duration = t.attempts.reduce((sum, a) => sum + (a.durationS ?? 0), 0);
  return {
    line: t.line,
    phone: t.phone,
    name: t.name ?? '',
    status: t.status,
    reason: t.reason ?? '',
    attempts: t.attempts.length,
    end_reasons: t.attempts.map((a) => a.endReason ?? '').join('|'),
    call_ids: t.attempts.map((a) => a.callId ?? '').join('|'),
    duration_s: t.attempts.length ? duration : '',
    summary: t.summary ?? '',
    transcript: t.transcript ?? '',
    task_id: t.taskId,
  };
}
