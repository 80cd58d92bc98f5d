/**
 * What both campaign protocols share: the input handlers (batches announced, input closed), the preflight of the
 * pipe, the progress view, releasing contact batches and the run's final callback.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING, CALLBACK, POLLING, STARTING } from './activity-profiles';
import { FAILURE_TYPES, type CreateFailureDetails } from './failures';
import {
  addBatchUpdate,
  batchReleaseSignal,
  closeInputUpdate,
  pauseSignal,
  resumeSignal,
  type CampaignCarriedState,
  type CampaignInput,
  type CampaignProgress,
  type CampaignState,
  type TaskInput,
} from './definitions';
import { contactBatchWorkflowId } from './ids';

export const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);
export const starting = proxyActivities<Activities>(STARTING);
const callbacks = proxyActivities<Activities>(CALLBACK);
const unpod = proxyActivities<Activities>(POLLING);

/** Ringing time allowed on top of the pipe's own cap on a call (max_call_duration_s). */
const RING_ALLOWANCE_MS = 2 * 60_000;
/** Distinct unknown end_reasons kept in the run's status. */
const MAX_UNKNOWN_REASONS = 20;

export function initialCampaignState(nowIso: string): CampaignCarriedState {
  return {
    announced: [],
    totalBatches: null,
    totalAnnounced: 0,
    cursorBatch: 1,
    queue: [],
    queueSkipped: [],
    open: [],
    finals: { completed: 0, failed: 0, skipped: 0, expired: 0, canceled: 0 },
    attempts: 0,
    paused: false,
    pausedReason: null,
    unknownEndReasons: {},
    cancel: null,
    startedAt: nowIso,
    updatedAt: nowIso,
    continuedAsNew: 0,
  };
}

/**
 * pause and resume. Returns `pause`, which the run also calls itself when Unpod refuses the whole account's
 * dials (with that reason; a person's pause has none). `onChange` hears each change, for a protocol that must
 * pass it on.
 */
export function setPauseHandlers(
  s: CampaignCarriedState,
  touch: () => void,
  onChange: (paused: boolean) => void = () => {},
): (reason: string | null) => void {
  function pause(reason: string | null): void {
    if (s.paused || s.cancel) return;
    s.paused = true;
    s.pausedReason = reason;
    touch();
    onChange(true);
  }
  setHandler(pauseSignal, () => pause(null));
  setHandler(resumeSignal, () => {
    if (!s.paused || s.cancel) return;
    s.paused = false;
    s.pausedReason = null;
    touch();
    onChange(false);
  });
  return pause;
}

/** A task's timing: the campaign's, and when the run was created (a call_at before it counts as past). */
export function taskTiming(input: CampaignInput): NonNullable<TaskInput['timing']> {
  return {
    callingWindow: input.callingWindow,
    timezone: input.timezone,
    deadline: input.deadline,
    pastCallAt: input.pastCallAt,
    runCreatedAt: input.createdAt,
  };
}

/** addBatch and closeInput: contact batches announced by the ingester, then the input closed. */
export function setInputHandlers(s: CampaignCarriedState, announced: Set<number>, touch: () => void): void {
  setHandler(
    addBatchUpdate,
    ({ batchNo, contacts, skipped }) => {
      if (batchNo < s.cursorBatch || announced.has(batchNo))
        return { accepted: false, announced: s.totalAnnounced };
      announced.add(batchNo);
      s.totalAnnounced += contacts + skipped;
      touch();
      return { accepted: true, announced: s.totalAnnounced };
    },
    {
      validator: ({ batchNo, contacts, skipped }) => {
        if (!Number.isInteger(batchNo) || batchNo < 1)
          throw new Error(`batchNo must be a positive integer, got ${batchNo}`);
        if (!Number.isInteger(contacts) || contacts < 0 || !Number.isInteger(skipped) || skipped < 0) {
          throw new Error('contacts and skipped must be non-negative integers');
        }
        if (s.totalBatches !== null && batchNo > s.totalBatches) {
          throw new Error(`input is closed at ${s.totalBatches} batches; batch ${batchNo} is past the end`);
        }
      },
    },
  );
  setHandler(
    closeInputUpdate,
    ({ totalBatches }) => {
      s.totalBatches = totalBatches;
      touch();
      return { total: s.totalAnnounced };
    },
    {
      validator: ({ totalBatches }) => {
        if (!Number.isInteger(totalBatches) || totalBatches < 0)
          throw new Error('totalBatches must be a non-negative integer');
        for (let b = s.cursorBatch; b <= totalBatches; b++) {
          if (!announced.has(b))
            throw new Error(`batch ${b} was never announced; announce every batch before closing the input`);
        }
        if (s.totalBatches !== null && s.totalBatches !== totalBatches) {
          throw new Error(`input already closed at ${s.totalBatches} batches`);
        }
      },
    },
  );
}

/** Counts an end_reason the policy table does not know (at most MAX_UNKNOWN_REASONS distinct ones). */
export function countUnknownReason(s: CampaignCarriedState, reason: string): void {
  const known = s.unknownEndReasons ?? (s.unknownEndReasons = {});
  if (reason in known || Object.keys(known).length < MAX_UNKNOWN_REASONS)
    known[reason] = (known[reason] ?? 0) + 1;
}

/**
 * Before anything is dialed: the pipe exists and can dial; its own cap on a call sets the hard cap. An account
 * block pauses the run (through `pause`); Unpod unreachable for the whole retry budget: dial anyway.
 */
export async function preflight(
  input: CampaignInput,
  s: CampaignCarriedState,
  pause: (reason: string) => void,
): Promise<void> {
  try {
    const p = await unpod.preflight(input.call);
    for (const w of p.warnings) log.warn('preflight', { warning: w });
    s.hardCapMs =
      input.policy.maxCallMs ??
      (p.maxCallDurationS ? p.maxCallDurationS * 1000 + RING_ALLOWANCE_MS : undefined);
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.accountBlocked) {
      const d = cause.details?.[0] as CreateFailureDetails | undefined;
      pause(`the run cannot dial: ${d?.blockMessage ?? cause.message}; then resume the run`);
      return;
    }
    log.warn('preflight could not reach Unpod; going on', { error: String(err) });
  }
}

export async function releaseBatch(runId: string, batchNo: number): Promise<void> {
  try {
    await getExternalWorkflowHandle(contactBatchWorkflowId(runId, batchNo)).signal(batchReleaseSignal);
  } catch (err) {
    log.warn('could not release contact batch', { batchNo, error: String(err) });
  }
}

/** Reads the next announced batch into the queues and lets its holder go. */
export async function loadNextBatch(
  input: CampaignInput,
  s: CampaignCarriedState,
  announced: Set<number>,
): Promise<void> {
  const batchNo = s.cursorBatch;
  const batch = await bookkeeping.loadBatch(input.runId, batchNo);
  if (batch.batchNo !== batchNo)
    throw ApplicationFailure.nonRetryable(`batch ${batchNo} holds batch ${batch.batchNo}`);
  s.queueSkipped.push(...batch.skipped);
  s.queue.push(...batch.contacts);
  announced.delete(batchNo);
  s.cursorBatch++;
  await releaseBatch(input.runId, batchNo);
}

export async function tellRunFinished(input: CampaignInput, progress: CampaignProgress): Promise<void> {
  if (!input.callbackUrl) return;
  try {
    await callbacks.deliverCallback({
      url: input.callbackUrl,
      type: 'run.finished',
      runId: input.runId,
      progress,
    });
  } catch (err) {
    log.warn('run callback not delivered', { url: input.callbackUrl, error: String(err) });
  }
}

export function runState(s: CampaignCarriedState, done: boolean): CampaignState {
  if (s.cancel) return done ? 'canceled' : 'canceling';
  if (done) return 'completed';
  return s.paused ? 'paused' : 'running';
}

/** The progress view from the carried state and what is open now. */
export function buildProgress(
  input: CampaignInput,
  s: CampaignCarriedState,
  now: {
    open: number;
    ringing: number;
    active: number;
    retriesWaiting: number;
    waitingDay: number;
    done: boolean;
  },
): CampaignProgress {
  const finished = Object.values(s.finals).reduce((a, b) => a + b, 0);
  // Contacts never started because the run was canceled count as canceled once it is over.
  const notStarted = Math.max(0, s.totalAnnounced - finished - now.open);
  const canceledUnstarted = s.cancel && now.done ? notStarted : 0;
  const pending = Math.max(0, s.totalAnnounced - finished - canceledUnstarted - now.ringing - now.active);
  const elapsed = Date.now() - Date.parse(s.startedAt);
  const remaining = s.totalAnnounced - finished - canceledUnstarted;
  const eta =
    finished > 0 && remaining > 0 && !s.cancel
      ? new Date(Date.now() + (elapsed / finished) * remaining).toISOString()
      : null;
  return {
    runId: input.runId,
    accountId: input.accountId,
    state: runState(s, now.done),
    total: s.totalAnnounced,
    inputClosed: s.totalBatches !== null,
    counts: {
      pending,
      ringing: now.ringing,
      active: now.active,
      ...s.finals,
      canceled: s.finals.canceled + canceledUnstarted,
    },
    attempts: s.attempts,
    retriesWaiting: now.retriesWaiting,
    waitingForDailyBudget: now.waitingDay,
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    eta,
    continuedAsNew: s.continuedAsNew,
    pausedReason: s.paused ? (s.pausedReason ?? null) : null,
    unknownEndReasons: { ...s.unknownEndReasons },
    ...(s.endReasons ? { endReasons: { ...s.endReasons } } : {}),
  };
}
