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

export function parseTaskStatus(value: string): TaskStatus {
  if (!(TASK_STATUSES as readonly string[]).includes(value)) {
    throw new Error(`--status must be one of ${TASK_STATUSES.join(', ')}; got '${value}'`);
  }
  return value as TaskStatus;
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
