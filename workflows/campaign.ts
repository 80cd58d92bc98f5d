/**
 * campaignWorkflow: one per run. Reads contact batches as they are announced, keeps a window of callTaskWorkflow
 * tasks open, keeps counters for the progress query, handles pause / resume / cancel, and continues-as-new to
 * keep its history bounded. Runs started by 0.3 speak the lean protocol (campaign-lean.ts: the campaign grants
 * its tasks' permits from its share of the account); runs of 0.2 go on with the one below, where each task asks
 * the account's limiter for its permits and reports each status change by signal.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setHandler,
  startChild,
  patched,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Contact, SkippedContact } from '../src/contacts/contact';
import { callTaskWorkflow } from './call-task';
import * as parts from './campaign-parts';
import { leanCampaign } from './campaign-lean';
import {
  cancelSignal,
  LEAN_PROTOCOL,
  progressQuery,
  taskCancelSignal,
  taskEventSignal,
  taskPauseSignal,
  campaignLimitSettingsSignal,
  type CampaignCarriedState,
  type CampaignLimitSettings,
  type CampaignInput,
  type CampaignProgress,
  type OpenTaskEntry,
  type TaskInput,
} from './definitions';
import { callTaskWorkflowId, limiterWorkflowId } from './ids';
import { shouldContinueAsNew } from './history';
import { CampaignAccount, CampaignRunId, CampaignSpace } from './search-attributes';

/** The patch that marks a run started on the lean protocol. */
export const LEAN_CAMPAIGN_PATCH = 'lean-campaign';

/** Children started in one go (one workflow task); keeps each activation small. */
const START_CHUNK = 100;
/** Pause / resume / cancel signals sent to tasks in one go, awaited before the next chunk. */
const TELL_CHUNK = 100;

interface OpenTask {
  status: OpenTaskEntry[1];
  retryWaiting: boolean;
  waitingDay: boolean;
}

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  // A continued run keeps its protocol (in its carried state); a new one speaks the lean protocol.
  if (input.state)
    return input.state.protocol === LEAN_PROTOCOL ? leanCampaign(input) : permitCampaign(input);
  return patched(LEAN_CAMPAIGN_PATCH) ? leanCampaign(input) : permitCampaign(input);
}

/** The 0.2 protocol. */
async function permitCampaign(input: CampaignInput): Promise<CampaignProgress> {
  const nowIso = () => new Date().toISOString();
  const s: CampaignCarriedState = input.state ?? parts.initialCampaignState(nowIso());
  const announced = new Set(s.announced);
  const open = new Map<string, OpenTask>(
    s.open.map(([id, status, rw, wd]) => [id, { status, retryWaiting: rw === 1, waitingDay: wd === 1 }]),
  );
  /**
   * Open tasks not yet told the run's current control state (paused, resumed, canceled). The main loop tells them
   * in awaited chunks; the set survives continue-as-new, and a task whose start was in flight is in it too.
   */
  const untold = new Set<string>(s.untold ?? []);
  const tellAll = () => {
    for (const id of open.keys()) untold.add(id);
  };
  const queue: Contact[] = s.queue;
  const queueSkipped: SkippedContact[] = s.queueSkipped;
  const touch = () => void (s.updatedAt = nowIso());

  const hasQueued = () => queue.length + queueSkipped.length > 0;
  const inputFinished = () => s.totalBatches !== null && s.cursorBatch > s.totalBatches && !hasQueued();
  const needsLoad = () => !s.cancel && !hasQueued() && announced.has(s.cursorBatch);
  const canStart = () => !s.paused && !s.cancel && open.size < input.window && hasQueued();
  const isDone = () => (s.cancel !== null || inputFinished()) && open.size === 0;

  function progress(): CampaignProgress {
    let ringing = 0;
    let active = 0;
    let retriesWaiting = 0;
    let waitingDay = 0;
    for (const t of open.values()) {
      if (t.waitingDay) waitingDay++;
      if (t.status === 'ringing') ringing++;
      else if (t.status === 'active') active++;
      if (t.retryWaiting) retriesWaiting++;
    }
    return parts.buildProgress(input, s, {
      open: open.size,
      ringing,
      active,
      retriesWaiting,
      waitingDay,
      done: isDone(),
    });
  }

  /** Tells the next chunk of untold tasks the run's control state; a task already closed is simply skipped. */
  async function tellChunk(): Promise<void> {
    const ids = [...untold].slice(0, TELL_CHUNK);
    const cancel = s.cancel;
    const paused = s.paused;
    await Promise.all(
      ids.map(async (id) => {
        try {
          const task = getExternalWorkflowHandle(id);
          if (cancel) await task.signal(taskCancelSignal, cancel);
          else await task.signal(taskPauseSignal, { paused });
        } catch (err) {
          log.warn('could not signal task', { taskId: id, error: String(err) });
        }
      }),
    );
    // Told what was current when sent; a change meanwhile put them back in the set (tellAll), so keep those.
    if (s.cancel === cancel && s.paused === paused) for (const id of ids) untold.delete(id);
  }

  // ---- handlers, before any await ----
  setHandler(progressQuery, progress);
  parts.setInputHandlers(s, announced, touch);
  const pause = parts.setPauseHandlers(s, touch, (paused) => {
    void tellLimiter({ campaign: input.runId, paused });
    tellAll();
  });
  setHandler(cancelSignal, ({ hangup }) => {
    if (s.cancel) return;
    s.cancel = { hangup };
    touch();
    void tellLimiter({ campaign: input.runId, done: true });
    tellAll();
  });
  setHandler(taskEventSignal, (e) => {
    const t = open.get(e.taskId);
    if (!t) return; // unknown or already final: a duplicate changes nothing
    touch();
    if (e.attemptStarted) s.attempts++;
    if (e.blocked)
      pause(`Unpod refused calls for the whole account: ${e.blocked.message}; then resume the run`);
    if (e.unknownEndReason) parts.countUnknownReason(s, e.unknownEndReason);
    if (e.final) {
      open.delete(e.taskId);
      untold.delete(e.taskId);
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
            timing: parts.taskTiming(input),
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
  if (!input.state) await parts.preflight(input, s, pause);

  // The account's limiter runs before any task asks it for a permit.
  if (!input.state) {
    await parts.bookkeeping.ensureLimiter(
      input.accountId,
      { campaign: input.runId, weight: input.weight, cap: input.concurrencyCap ?? null, paused: s.paused },
      input.limits,
    );
  }

  // ---- main loop ----
  for (;;) {
    await condition(() => isDone() || untold.size > 0 || needsLoad() || canStart() || shouldContinueAsNew());
    if (isDone()) break;
    if (untold.size > 0 && !shouldContinueAsNew()) {
      await tellChunk();
      continue;
    }

    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      s.announced = [...announced];
      s.untold = [...untold];
      s.open = [...open].map(([id, t]) => [id, t.status, t.retryWaiting ? 1 : 0, t.waitingDay ? 1 : 0]);
      s.continuedAsNew++;
      await continueAsNew<typeof campaignWorkflow>({ ...input, state: s });
    }

    if (needsLoad()) {
      await parts.loadNextBatch(input, s, announced);
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
  for (const b of announced) await parts.releaseBatch(input.runId, b);
  if (!s.cancel) await tellLimiter({ campaign: input.runId, done: true });
  await parts.tellRunFinished(input, progress());
  await condition(allHandlersFinished);
  return progress();
}
