/**
 * Reading a run: its progress (the campaign's query, or its result once closed), its tasks (visibility by the
 * CampaignRunId search attribute, then each task's status), and the export rows built from them.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import {
  MEMO_PROGRESS,
  progressQuery,
  taskStatusQuery,
  TASK_STATUSES,
  type CampaignProgress,
  type TaskState,
  type TaskStatus,
} from '../../workflows/definitions';
import { campaignWorkflowId, isRunId } from '../../workflows/ids';
import { visibilityQuery } from '../temporal/visibility';
import { AppError } from '../errors';
import { DEFAULT_LIMITS, minimumMakespan, type Limits } from '../../workflows/limiter-core';
import { DEFAULT_MEAN_CALL_MS, limiterState } from './limits';

export class RunNotFoundError extends AppError<'run_not_found'> {
  override readonly name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(
      'run_not_found',
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
export class RunQueryError extends AppError<'invalid_argument'> {
  override readonly name = 'RunQueryError';
  constructor(message: string) {
    super('invalid_argument', message);
  }
}

/**
 * A run's progress from its description or listing entry: its result once completed; while it runs, the memo it
 * publishes (so no query reaches the run, and no worker is needed to answer), or its query for a run started
 * before the memo; null once it failed or was terminated.
 */
export async function progressOf(
  client: Client,
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'memo'>,
): Promise<CampaignProgress | null> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  if (info.status.name === 'COMPLETED') return (await handle.result()) as CampaignProgress;
  if (info.status.name !== 'RUNNING') return null;
  const published = info.memo?.[MEMO_PROGRESS] as CampaignProgress | undefined;
  return published ?? handle.query(progressQuery);
}

export async function getProgress(client: Client, runId: string): Promise<CampaignProgress> {
  const handle = client.workflow.getHandle(campaignWorkflowId(runId));
  try {
    const desc = await handle.describe();
    // A failed or terminated run: its query answers from its last state, as it always did.
    return (await progressOf(client, desc)) ?? (await handle.query(progressQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
    throw err;
  }
}

export function tasksQuery(runId: string, status?: TaskStatus): string {
  return visibilityQuery('callTask', { CampaignRunId: runId, TaskStatus: status });
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
  recording_url: string;
  cost: number | '';
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
    recording_url: t.recordingUrl ?? '',
    cost: t.cost ?? '',
    task_id: t.taskId,
  };
}

// ---------- ETA ----------

const DAY_MS = 86_400_000;

export interface EtaInputs {
  /** The limits in force for the run's account. */
  limits: Limits;
  /** Mean call length (default two minutes). */
  meanCallMs?: number;
  /**
   * When each open contact can next be dialed, where it must wait (a retry delay, its calling window, its call
   * time): TaskState.nextAttemptAt of the run's pending tasks. null entries are ready now.
   */
  nextAttempts: readonly (string | null)[];
  nowMs: number;
}

/**
 * The earliest a run can finish: the later of what the limits allow for the contacts still open
 * (max(N / calls-per-minute, N × mean call / concurrency), plus a day per further tasks/day budget) and the
 * latest next attempt among them plus one call (no contact waiting for 17:00 finishes before 17:00).
 * null for a run that is not running (paused, canceling, over) or has nothing open; never in the past.
 */
export function runEta(p: CampaignProgress, o: EtaInputs): string | null {
  if (p.state !== 'running') return null;
  const open = p.counts.pending + p.counts.ringing + p.counts.active;
  if (open <= 0) return null;
  const meanCallMs = o.meanCallMs ?? DEFAULT_MEAN_CALL_MS;
  const { ms } = minimumMakespan(open, o.limits, meanCallMs);
  const days = o.limits.tasksPerDay ? Math.ceil(p.counts.pending / o.limits.tasksPerDay) : 1;
  const byLimits = o.nowMs + ms + Math.max(0, days - 1) * DAY_MS;
  let latestWait = -Infinity;
  for (const at of o.nextAttempts) {
    const t = at ? Date.parse(at) : NaN;
    if (Number.isFinite(t) && t > latestWait) latestWait = t;
  }
  const byWaits = latestWait > o.nowMs ? latestWait + meanCallMs : -Infinity;
  return new Date(Math.max(byLimits, byWaits)).toISOString();
}

/** At most this many pending tasks are read for their next attempt (a status query each). */
export const ETA_TASK_SAMPLE = 500;

/** The next attempts of a run's pending tasks (up to ETA_TASK_SAMPLE of them), read ETA_QUERY_CONCURRENCY at once. */
export async function pendingNextAttempts(client: Client, runId: string): Promise<(string | null)[]> {
  const ids: string[] = [];
  for await (const info of client.workflow.list({ query: tasksQuery(runId, 'pending') })) {
    if (info.status.name === 'RUNNING') ids.push(info.workflowId);
    if (ids.length >= ETA_TASK_SAMPLE) break;
  }
  const out: (string | null)[] = [];
  await Promise.all(
    Array.from({ length: Math.min(ETA_QUERY_CONCURRENCY, ids.length) }, async () => {
      for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
        try {
          out.push((await client.workflow.getHandle(id).query(taskStatusQuery)).nextAttemptAt);
        } catch {
          // closed meanwhile
        }
      }
    }),
  );
  return out;
}

/** Status queries in flight at once while reading the ETA's inputs. */
const ETA_QUERY_CONCURRENCY = 16;
/** How long the ETA's inputs of a run are reused: a page polling every few seconds reads them once. */
const ETA_INPUTS_TTL_MS = 10_000;
const etaInputs = new Map<
  string,
  { at: number; read: Promise<Pick<EtaInputs, 'limits' | 'nextAttempts'>> }
>();

/** What runEta needs beyond the progress, read now: the account's limits in force and the waiting contacts. */
export async function readEtaInputs(
  client: Client,
  p: CampaignProgress,
): Promise<Pick<EtaInputs, 'limits' | 'nextAttempts'>> {
  // A run of 0.3.1 publishes its latest next attempt, and its share's limits once it has one: nothing is asked
  // of its tasks (no worker is needed). Before its first share, the limits are the limiter's (its memo).
  const published = p.nextAttemptLatest !== undefined;
  const limits = p.limits ?? (await limiterState(client, p.accountId))?.limits ?? DEFAULT_LIMITS;
  const nextAttempts = published ? [p.nextAttemptLatest ?? null] : await pendingNextAttempts(client, p.runId);
  return { limits, nextAttempts };
}

/** readEtaInputs, reused for ETA_INPUTS_TTL_MS per run (and shared by requests that ask at once). */
function cachedEtaInputs(
  client: Client,
  p: CampaignProgress,
): Promise<Pick<EtaInputs, 'limits' | 'nextAttempts'>> {
  const now = Date.now();
  for (const [k, v] of etaInputs) if (now - v.at > ETA_INPUTS_TTL_MS) etaInputs.delete(k);
  const hit = etaInputs.get(p.runId);
  if (hit) return hit.read;
  const read = readEtaInputs(client, p);
  etaInputs.set(p.runId, { at: now, read });
  read.catch(() => etaInputs.delete(p.runId));
  return read;
}

/** runEta with the account's limits in force and the run's waiting contacts, read now. */
export async function readEta(
  client: Client,
  p: CampaignProgress,
  meanCallMs?: number,
): Promise<string | null> {
  if (p.state !== 'running') return null;
  return runEta(p, { ...(await cachedEtaInputs(client, p)), meanCallMs, nowMs: Date.now() });
}

// ---------- runs ----------

export interface RunListItem {
  runId: string;
  state: RunState;
  accountId: string | null;
  spaceToken: string | null;
  startedAt: string;
  closedAt: string | null;
  total: number;
  done: number;
  counts: CampaignProgress['counts'] | null;
}

/** Runs newest first, from visibility, each with its state (its progress query, or result once closed). */
export async function listRuns(
  client: Client,
  o: { space?: string; account?: string; status?: RunState; limit: number },
): Promise<RunListItem[]> {
  const execution = o.status ? executionStatusOf(o.status) : undefined;
  const q = visibilityQuery('campaign', {
    CampaignSpace: o.space || undefined,
    CampaignAccount: o.account || undefined,
    ExecutionStatus: execution || undefined,
  });
  const out: RunListItem[] = [];
  for await (const info of client.workflow.list({ query: q })) {
    if (o.status === 'failed' && (info.status.name === 'RUNNING' || info.status.name === 'COMPLETED'))
      continue;
    const progress = await progressOf(client, info).catch(() => null);
    const state = runStateOf(info.status.name, progress);
    if (o.status && state !== o.status) continue;
    const c = progress?.counts ?? null;
    const sa = info.searchAttributes as Record<string, unknown[] | undefined> | undefined;
    out.push({
      runId: info.workflowId.replace(/^campaign-/, ''),
      state,
      accountId: (sa?.CampaignAccount?.[0] as string | undefined) ?? progress?.accountId ?? null,
      spaceToken: (sa?.CampaignSpace?.[0] as string | undefined) ?? null,
      startedAt: info.startTime.toISOString(),
      closedAt: info.closeTime?.toISOString() ?? null,
      total: progress?.total ?? 0,
      done: c ? c.completed + c.failed + c.skipped + c.expired + c.canceled : 0,
      counts: c,
    });
    if (out.length >= o.limit) break;
  }
  return out;
}
