/**
 * campaignWorkflow: one per run. Reads contact batches as they are announced, keeps a sliding window of
 * callTaskWorkflow children (ABANDON, outcomes reported back by signal), keeps counters for the progress query,
 * handles pause / resume / cancel, and continues-as-new to keep its history bounded.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  ActivityFailure,
  ApplicationFailure,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { Contact, SkippedContact } from '../src/contacts/contact';
import { BOOKKEEPING, CALLBACK, POLLING } from './activity-profiles';
import { FAILURE_TYPES, type CreateFailureDetails } from './failures';
import { callTaskWorkflow } from './call-task';
import {
  addBatchUpdate,
  batchReleaseSignal,
  cancelSignal,
  closeInputUpdate,
  pauseSignal,
  progressQuery,
  resumeSignal,
  taskCancelSignal,
  taskEventSignal,
  taskPauseSignal,
  campaignLimitSettingsSignal,
  type CampaignCarriedState,
  type CampaignLimitSettings,
  type CampaignInput,
  type CampaignProgress,
  type CampaignState,
  type OpenTaskEntry,
  type TaskInput,
} from './definitions';
import { callTaskWorkflowId, contactBatchWorkflowId, limiterWorkflowId } from './ids';
import { CampaignAccount, CampaignRunId, CampaignSpace } from './search-attributes';

const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);
const callbacks = proxyActivities<Activities>(CALLBACK);
const unpod = proxyActivities<Activities>(POLLING);

/** Ringing time allowed on top of the pipe's own cap on a call (max_call_duration_s). */
const RING_ALLOWANCE_MS = 2 * 60_000;
/** Distinct unknown end_reasons kept in the run's status. */
const MAX_UNKNOWN_REASONS = 20;

/** Children started in one go (one workflow task); keeps each activation small. */
const START_CHUNK = 100;

interface OpenTask {
  status: OpenTaskEntry[1];
  retryWaiting: boolean;
  waitingDay: boolean;
}

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  const nowIso = () => new Date().toISOString();
  const s: CampaignCarriedState = input.state ?? {
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
    startedAt: nowIso(),
    updatedAt: nowIso(),
    continuedAsNew: 0,
  };
  const announced = new Set(s.announced);
  const open = new Map<string, OpenTask>(
    s.open.map(([id, status, rw, wd]) => [id, { status, retryWaiting: rw === 1, waitingDay: wd === 1 }]),
  );
  const queue: Contact[] = s.queue;
  const queueSkipped: SkippedContact[] = s.queueSkipped;
  const touch = () => void (s.updatedAt = nowIso());

  const hasQueued = () => queue.length + queueSkipped.length > 0;
  const inputFinished = () => s.totalBatches !== null && s.cursorBatch > s.totalBatches && !hasQueued();
  const needsLoad = () => !s.cancel && !hasQueued() && announced.has(s.cursorBatch);
  const canStart = () => !s.paused && !s.cancel && open.size < input.window && hasQueued();
  const isDone = () => (s.cancel !== null || inputFinished()) && open.size === 0;
  const finalsSum = () => Object.values(s.finals).reduce((a, b) => a + b, 0);

  function state(): CampaignState {
    if (s.cancel) return isDone() ? 'canceled' : 'canceling';
    if (isDone()) return 'completed';
    return s.paused ? 'paused' : 'running';
  }

  function progress(): CampaignProgress {
    let ringing = 0;
    let active = 0;
    let retriesWaiting = 0;
    let waitingForDailyBudget = 0;
    for (const t of open.values()) {
      if (t.waitingDay) waitingForDailyBudget++;
      if (t.status === 'ringing') ringing++;
      else if (t.status === 'active') active++;
      if (t.retryWaiting) retriesWaiting++;
    }
    const finished = finalsSum();
    // Contacts never started because the run was canceled count as canceled once it is over.
    const notStarted = Math.max(0, s.totalAnnounced - finished - open.size);
    const canceledUnstarted = s.cancel && isDone() ? notStarted : 0;
    const pending = Math.max(0, s.totalAnnounced - finished - canceledUnstarted - ringing - active);
    const elapsed = Date.now() - Date.parse(s.startedAt);
    const remaining = s.totalAnnounced - finished - canceledUnstarted;
    const eta =
      finished > 0 && remaining > 0 && !s.cancel
        ? new Date(Date.now() + (elapsed / finished) * remaining).toISOString()
        : null;
    return {
      runId: input.runId,
      accountId: input.accountId,
      state: state(),
      total: s.totalAnnounced,
      inputClosed: s.totalBatches !== null,
      counts: { pending, ringing, active, ...s.finals, canceled: s.finals.canceled + canceledUnstarted },
      attempts: s.attempts,
      retriesWaiting,
      waitingForDailyBudget,
      startedAt: s.startedAt,
      updatedAt: s.updatedAt,
      eta,
      continuedAsNew: s.continuedAsNew,
      pausedReason: s.paused ? (s.pausedReason ?? null) : null,
      unknownEndReasons: { ...s.unknownEndReasons },
    };
  }

  async function broadcast(fn: (taskId: string) => Promise<void>): Promise<void> {
    await Promise.all(
      [...open.keys()].map((id) =>
        fn(id).catch((err: unknown) => log.warn('could not signal task', { taskId: id, error: String(err) })),
      ),
    );
  }

  // ---- handlers, before any await ----
  setHandler(progressQuery, progress);
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
  /** A pause by a person (no reason) or by the run itself, when Unpod refuses the whole account's dials. */
  function pause(reason: string | null): void {
    if (s.paused || s.cancel) return;
    s.paused = true;
    s.pausedReason = reason;
    touch();
    void tellLimiter({ campaign: input.runId, paused: true });
    void broadcast((id) => getExternalWorkflowHandle(id).signal(taskPauseSignal, { paused: true }));
  }
  setHandler(pauseSignal, () => pause(null));
  setHandler(resumeSignal, () => {
    if (!s.paused || s.cancel) return;
    s.paused = false;
    s.pausedReason = null;
    touch();
    void tellLimiter({ campaign: input.runId, paused: false });
    void broadcast((id) => getExternalWorkflowHandle(id).signal(taskPauseSignal, { paused: false }));
  });
  setHandler(cancelSignal, ({ hangup }) => {
    if (s.cancel) return;
    s.cancel = { hangup };
    touch();
    void tellLimiter({ campaign: input.runId, done: true });
    void broadcast((id) => getExternalWorkflowHandle(id).signal(taskCancelSignal, { hangup }));
  });
  setHandler(taskEventSignal, (e) => {
    const t = open.get(e.taskId);
    if (!t) return; // unknown or already final: a duplicate changes nothing
    touch();
    if (e.attemptStarted) s.attempts++;
    if (e.blocked)
      pause(`Unpod refused calls for the whole account: ${e.blocked.message}; then resume the run`);
    if (e.unknownEndReason) {
      const known = s.unknownEndReasons ?? (s.unknownEndReasons = {});
      if (e.unknownEndReason in known || Object.keys(known).length < MAX_UNKNOWN_REASONS)
        known[e.unknownEndReason] = (known[e.unknownEndReason] ?? 0) + 1;
    }
    if (e.final) {
      open.delete(e.taskId);
      if (e.status in s.finals) s.finals[e.status as keyof typeof s.finals]++;
      return;
    }
    if (e.status === 'pending' || e.status === 'ringing' || e.status === 'active') t.status = e.status;
    t.retryWaiting = e.retryWaiting === true;
    t.waitingDay = e.waiting === 'tasks_per_day';
  });

  upsertSearchAttributes([
    { key: CampaignRunId, value: input.runId },
    { key: CampaignAccount, value: input.accountId },
    { key: CampaignSpace, value: input.spaceToken },
  ]);

  async function startTask(contact: Contact, skip?: TaskInput['skip']): Promise<void> {
    const workflowId = callTaskWorkflowId(
      input.runId,
      contact.phone,
      skip?.reason === 'duplicate' ? contact.line : undefined,
    );
    if (open.has(workflowId)) return; // de-duplicated in flight
    open.set(workflowId, { status: 'pending', retryWaiting: false, waitingDay: false });
    try {
      await startChild(callTaskWorkflow, {
        workflowId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            runId: input.runId,
            campaignWorkflowId: workflowInfo().workflowId,
            accountId: input.accountId,
            contact,
            call: input.call,
            policy: input.policy,
            skip,
            paused: s.paused,
            callbackUrl: input.callbackUrl,
            hardCapMs: s.hardCapMs,
            timing: {
              callingWindow: input.callingWindow,
              timezone: input.timezone,
              deadline: input.deadline,
              pastCallAt: input.pastCallAt,
              runCreatedAt: input.createdAt,
            },
          },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Only a second row for the same number can get here (ingestion de-duplicates): it is a duplicate.
      open.delete(workflowId);
      s.finals.skipped++;
    }
  }

  async function releaseBatch(batchNo: number): Promise<void> {
    try {
      await getExternalWorkflowHandle(contactBatchWorkflowId(input.runId, batchNo)).signal(
        batchReleaseSignal,
      );
    } catch (err) {
      log.warn('could not release contact batch', { batchNo, error: String(err) });
    }
  }

  /** Tells the account limiter of this run's state; a paused or canceled run gives its place up at once. */
  async function tellLimiter(settings: CampaignLimitSettings): Promise<void> {
    try {
      await getExternalWorkflowHandle(limiterWorkflowId(input.accountId)).signal(
        campaignLimitSettingsSignal,
        settings,
      );
    } catch (err) {
      log.warn('could not tell the account limiter', { settings, error: String(err) });
    }
  }

  // Before anything is dialed: the pipe exists and can dial; its own cap on a call sets the hard cap.
  if (!input.state) await preflight();

  // The account's limiter runs before any task asks it for a permit.
  if (!input.state) {
    await bookkeeping.ensureLimiter(
      input.accountId,
      { campaign: input.runId, weight: input.weight, cap: input.concurrencyCap ?? null, paused: s.paused },
      input.limits,
    );
  }

  async function preflight(): Promise<void> {
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
      // Unpod unreachable for the whole retry budget: dial anyway; each create will say what is wrong.
      log.warn('preflight could not reach Unpod; going on', { error: String(err) });
    }
  }

  // ---- main loop ----
  for (;;) {
    await condition(() => isDone() || needsLoad() || canStart() || workflowInfo().continueAsNewSuggested);
    if (isDone()) break;

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      s.announced = [...announced];
      s.open = [...open].map(([id, t]) => [id, t.status, t.retryWaiting ? 1 : 0, t.waitingDay ? 1 : 0]);
      s.continuedAsNew++;
      await continueAsNew<typeof campaignWorkflow>({ ...input, state: s });
    }

    if (needsLoad()) {
      const batchNo = s.cursorBatch;
      const batch = await bookkeeping.loadBatch(input.runId, batchNo);
      if (batch.batchNo !== batchNo)
        throw ApplicationFailure.nonRetryable(`batch ${batchNo} holds batch ${batch.batchNo}`);
      queueSkipped.push(...batch.skipped);
      queue.push(...batch.contacts);
      announced.delete(batchNo);
      s.cursorBatch++;
      await releaseBatch(batchNo);
      continue;
    }

    const starts: Promise<void>[] = [];
    while (starts.length < START_CHUNK && !s.cancel && queueSkipped.length > 0) {
      const sk = queueSkipped.shift()!;
      starts.push(startTask(sk, { reason: sk.skipReason, detail: sk.skipDetail }));
    }
    while (starts.length < START_CHUNK && canStart() && queue.length > 0) {
      starts.push(startTask(queue.shift()!));
    }
    await Promise.all(starts);
  }

  // Batches announced but never read (a canceled run) are released, so nothing stays open.
  for (const b of announced) await releaseBatch(b);
  if (!s.cancel) await tellLimiter({ campaign: input.runId, done: true });
  if (input.callbackUrl) {
    try {
      await callbacks.deliverCallback({
        url: input.callbackUrl,
        type: 'run.finished',
        runId: input.runId,
        progress: progress(),
      });
    } catch (err) {
      log.warn('run callback not delivered', { url: input.callbackUrl, error: String(err) });
    }
  }
  await condition(allHandlersFinished);
  return progress();
}
