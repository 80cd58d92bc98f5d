/**
 * Recurring campaign runs on Temporal Schedules. A schedule's action starts scheduledCampaignWorkflow, which reads
 * the contact source at that moment and starts a run over it; Temporal keeps the schedule (its spec, overlap
 * policy, pause state and recent actions), so the CLI here is a thin layer over client.schedule.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type CalendarSpec,
  type Client,
  type ScheduleSpec,
} from '@temporalio/client';
import { parseDuration } from '../contacts/durations';
import { AppError } from '../errors';
import { WORKFLOW_TYPES } from '../temporal/visibility';
import {
  MEMO_CAMPAIGN_RUN_ID,
  MEMO_SCHEDULE_KIND,
  type ScheduledCampaignInput,
  type ScheduledRunResult,
} from '../../workflows/scheduled-input';

export const SCHEDULED_WORKFLOW_TYPE = WORKFLOW_TYPES.scheduledCampaign;

export class ScheduleError extends AppError<'invalid_schedule' | 'schedule_not_found' | 'schedule_exists'> {
  override readonly name = 'ScheduleError';
}

export const OVERLAP_NAMES = [
  'skip',
  'buffer-one',
  'buffer-all',
  'cancel-other',
  'terminate-other',
  'allow-all',
] as const;
export type OverlapName = (typeof OVERLAP_NAMES)[number];

export function overlapPolicy(name: OverlapName): ScheduleOverlapPolicy {
  return ScheduleOverlapPolicy[name.toUpperCase().replace('-', '_') as keyof typeof ScheduleOverlapPolicy];
}
export function overlapName(policy: ScheduleOverlapPolicy | undefined): OverlapName {
  return (policy ?? 'SKIP').toLowerCase().replace('_', '-') as OverlapName;
}

/** Exactly one of cron, every or calendar; the zone applies to cron and calendar times. */
export interface ScheduleTimingFlags {
  cron?: string | undefined;
  every?: string | undefined;
  calendar?: string | undefined;
  timezone?: string | undefined;
}

/** The spec, and how it reads (kept in the schedule's memo for `list` and `describe`). */
export function scheduleSpec(f: ScheduleTimingFlags): { spec: ScheduleSpec; text: string } {
  const given = (['cron', 'every', 'calendar'] as const).filter((k) => f[k] !== undefined);
  if (given.length !== 1) {
    throw new ScheduleError(
      'invalid_schedule',
      `give exactly one of --cron, --every or --calendar${given.length ? ` (got ${given.map((g) => `--${g}`).join(' and ')})` : ''}`,
    );
  }
  const spec: ScheduleSpec = {};
  let text: string;
  if (f.cron !== undefined) {
    if (f.cron.trim().split(/\s+/).length < 5 && !f.cron.trim().startsWith('@'))
      throw new ScheduleError(
        'invalid_schedule',
        `--cron '${f.cron}' needs 5 fields: minute hour day-of-month month day-of-week`,
      );
    spec.cronExpressions = [f.cron.trim()];
    text = `cron ${f.cron.trim()}`;
  } else if (f.every !== undefined) {
    const d = parseDuration(f.every);
    if ('error' in d || d.ms < 1000) {
      throw new ScheduleError(
        'invalid_schedule',
        `--every ${'error' in d ? d.error : `'${f.every}' is shorter than a second`}`,
      );
    }
    spec.intervals = [{ every: d.ms }];
    text = `every ${f.every}`;
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(f.calendar!);
    } catch (err) {
      throw new ScheduleError('invalid_schedule', `--calendar is not JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0 || !list.every((c) => c && typeof c === 'object' && !Array.isArray(c))) {
      throw new ScheduleError(
        'invalid_schedule',
        `--calendar must be an object or an array of objects such as {"hour": 9, "minute": 0, "dayOfWeek": [{"start": "MONDAY", "end": "FRIDAY"}]}`,
      );
    }
    spec.calendars = list as CalendarSpec[];
    text = `calendar ${JSON.stringify(parsed)}`;
  }
  if (f.timezone !== undefined) {
    spec.timezone = f.timezone;
    text += ` (${f.timezone})`;
  }
  return { spec, text };
}

export interface CreateScheduleOptions {
  id: string;
  timing: ScheduleTimingFlags;
  overlap?: OverlapName;
  paused?: boolean;
  note?: string;
  input: Omit<ScheduledCampaignInput, 'scheduleId'>;
}

export async function createCampaignSchedule(
  client: Client,
  taskQueue: string,
  o: CreateScheduleOptions,
): Promise<{ id: string; spec: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(o.id))
    throw new ScheduleError(
      'invalid_schedule',
      `--id '${o.id}': use letters, digits, '.', '_' and '-' (at most 200)`,
    );
  const { spec, text } = scheduleSpec(o.timing);
  const input: ScheduledCampaignInput = { ...o.input, scheduleId: o.id };
  try {
    await client.schedule.create({
      scheduleId: o.id,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: SCHEDULED_WORKFLOW_TYPE,
        // Temporal appends the firing time to this id, so each firing's workflow id is unique.
        workflowId: `scheduled-${o.id}`,
        taskQueue,
        args: [input],
      },
      policies: { overlap: overlapPolicy(o.overlap ?? 'skip'), catchupWindow: '10 minutes' },
      memo: {
        [MEMO_SCHEDULE_KIND]: { spec: text, source: o.input.source, space: o.input.settings.spaceToken },
      },
      state: { paused: o.paused ?? false, note: o.note ?? `unpod-campaigns schedule over ${o.input.source}` },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning)
      throw new ScheduleError(
        'schedule_exists',
        `schedule '${o.id}' already exists (delete it first, or pick another --id)`,
      );
    throw err;
  }
  return { id: o.id, spec: text };
}

export interface ScheduleListItem {
  id: string;
  /** The space of the runs it starts (schedules made before this was kept have none). */
  space: string | null;
  spec: string;
  source: string;
  paused: boolean;
  note: string | null;
  nextRunAt: string | null;
  lastRunAt: string | null;
}

function kindMemo(
  memo: Record<string, unknown> | undefined,
): { spec: string; source: string; space?: string } | undefined {
  const m = memo?.[MEMO_SCHEDULE_KIND];
  return m && typeof m === 'object' ? (m as { spec: string; source: string; space?: string }) : undefined;
}

/** The campaign schedules of the namespace (list is eventually consistent: a new one shows within seconds). */
export async function listCampaignSchedules(client: Client): Promise<ScheduleListItem[]> {
  const out: ScheduleListItem[] = [];
  for await (const s of client.schedule.list()) {
    const memo = kindMemo(s.memo);
    if (!memo || s.action?.workflowType !== SCHEDULED_WORKFLOW_TYPE) continue;
    const recent = s.info.recentActions.at(-1);
    out.push({
      id: s.scheduleId,
      space: memo.space ?? null,
      spec: memo.spec,
      source: memo.source,
      paused: s.state.paused,
      note: s.state.note ?? null,
      nextRunAt: s.info.nextActionTimes[0]?.toISOString() ?? null,
      lastRunAt: recent ? recent.takenAt.toISOString() : null,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface ScheduledFiring {
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  /** The campaign run this firing started (null until it has read its list, or when the list had no contact). */
  runId: string | null;
  /** The scheduled workflow's status: RUNNING while reading the list or waiting for its run to end. */
  status: string;
  result?: ScheduledRunResult;
}

export interface ScheduleView {
  id: string;
  spec: string;
  source: string;
  paused: boolean;
  note: string | null;
  overlap: OverlapName;
  actions: number;
  skippedActions: number;
  nextRunTimes: string[];
  recentRuns: ScheduledFiring[];
  input: ScheduledCampaignInput | null;
}

function notFound(id: string): ScheduleError {
  return new ScheduleError('schedule_not_found', `no schedule '${id}'`);
}

async function mapNotFound<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw notFound(id);
    throw err;
  }
}

/** The schedule, its next run times and its recent firings with the run id each started. */
export async function describeCampaignSchedule(
  client: Client,
  id: string,
  nextCount = 5,
): Promise<ScheduleView> {
  const d = await mapNotFound(id, () => client.schedule.getHandle(id).describe());
  const memo = kindMemo(d.memo);
  if (!memo)
    throw new ScheduleError(
      'schedule_not_found',
      `schedule '${id}' exists but was not made by unpod-campaigns`,
    );
  const recentRuns: ScheduledFiring[] = [];
  for (const a of d.info.recentActions) {
    const wf = a.action.workflow;
    const handle = client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId);
    const desc = await handle.describe();
    const firing: ScheduledFiring = {
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: wf.workflowId,
      runId: (desc.memo?.[MEMO_CAMPAIGN_RUN_ID] as string | undefined) ?? null,
      status: desc.status.name,
    };
    if (desc.status.name === 'COMPLETED') {
      firing.result = (await handle.result()) as ScheduledRunResult;
      firing.runId = firing.result.runId;
    }
    recentRuns.push(firing);
  }
  const action = d.action.type === 'startWorkflow' ? d.action : undefined;
  return {
    id,
    spec: memo.spec,
    source: memo.source,
    paused: d.state.paused,
    note: d.state.note ?? null,
    overlap: overlapName(d.policies.overlap),
    actions: d.info.numActionsTaken,
    skippedActions: d.info.numActionsSkippedOverlap,
    nextRunTimes: d.info.nextActionTimes.slice(0, nextCount).map((t) => t.toISOString()),
    recentRuns: recentRuns.reverse(), // newest first
    input: (action?.args?.[0] as ScheduledCampaignInput | undefined) ?? null,
  };
}

export async function pauseCampaignSchedule(client: Client, id: string, note?: string): Promise<void> {
  await mapNotFound(id, () =>
    client.schedule.getHandle(id).pause(note ?? 'paused with unpod-campaigns schedule pause'),
  );
}

export async function unpauseCampaignSchedule(client: Client, id: string, note?: string): Promise<void> {
  await mapNotFound(id, () =>
    client.schedule.getHandle(id).unpause(note ?? 'unpaused with unpod-campaigns schedule unpause'),
  );
}

/** Fires now, under the schedule's own overlap policy unless another is given. */
export async function triggerCampaignSchedule(
  client: Client,
  id: string,
  overlap?: OverlapName,
): Promise<void> {
  const handle = client.schedule.getHandle(id);
  const policy = overlap
    ? overlapPolicy(overlap)
    : (await mapNotFound(id, () => handle.describe())).policies.overlap;
  await mapNotFound(id, () => handle.trigger(policy));
}

/** Deletes the schedule; runs it started go on. */
export async function deleteCampaignSchedule(client: Client, id: string): Promise<void> {
  await mapNotFound(id, () => client.schedule.getHandle(id).delete());
}
