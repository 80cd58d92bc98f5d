/**
 * callTaskWorkflow: one per contact — the Unpod "task". Per attempt: wait while paused, get a permit, place the
 * call exactly once (a create whose answer was lost is looked for before any second create: Unpod has no
 * idempotency key), wait for its end (the worker's watcher lists live calls; an agent's push only hurries it),
 * classify the end_reason through the policy, then retry after the policy's delay or finish. An account-wide
 * refusal (no number, agent unpublished, no runner, bad key) pauses the run instead of failing the contact.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING, CALLBACK, FINDING, PLACING, POLLING, WATCHING } from './activity-profiles';
import { FAILURE_TYPES, type CreateFailureDetails } from './failures';
import {
  callEndHintSignal,
  LEAN_PROTOCOL,
  leanPermitSignal,
  type LeanPermit,
  type TaskReport,
  type PermitGrantMessage,
  taskCancelSignal,
  taskEventSignal,
  taskPauseSignal,
  taskStatusQuery,
  type AttemptRecord,
  type CallSnapshot,
  type TaskEvent,
  type TaskInput,
  type TaskState,
  type TaskStatus,
  permitSignals,
} from './definitions';
import { callIdempotencyKey, limiterWorkflowId, permitId } from './ids';
import { firstAttemptTime, planAttempt, windowZone } from './calling-window';
import { classifyEndReason, decide, type Outcome } from './policy';
import {
  CampaignAccount,
  CampaignRunId,
  contactNameAttribute,
  TaskEndReason,
  TaskStatus as TaskStatusKey,
} from './search-attributes';

const placing = proxyActivities<Activities>(PLACING);
const finding = proxyActivities<Activities>(FINDING);
const watching = proxyActivities<Activities>(WATCHING);
const polling = proxyActivities<Activities>(POLLING);
const callbacks = proxyActivities<Activities>(CALLBACK);

const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);
/** Reports to the campaign (lean protocol): a local activity, so a report costs one marker, not a task. */
const reporting = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** A lease outlives the hard cap on a call by this much (at most) before the limiter takes it back unreleased. */
const LEASE_MARGIN_MS = 2 * 60_000;
/** Unpod's own cap on a call when the pipe does not say (pipes.create max_call_duration_s=3600), plus ringing. */
export const DEFAULT_HARD_CAP_MS = 3600_000 + 2 * 60_000;
/** After the hard cap and a hangup, how long the end may still take to be seen before the attempt is closed. */
const END_GRACE_MS = 10 * 60_000;
/** Creates that keep failing (an outage, a rate limit) are tried again for this long, then the attempt fails. */
const CREATE_BUDGET_MS = 6 * 60 * 60_000;

type Placed =
  | { kind: 'created'; snapshot: CallSnapshot }
  | { kind: 'blocked'; block: string; message: string }
  | { kind: 'rejected'; message: string }
  | { kind: 'canceled' };

const isTerminal = (s: CallSnapshot['status']) => s === 'completed' || s === 'failed';
const nowIso = () => new Date().toISOString();

export async function callTaskWorkflow(input: TaskInput): Promise<TaskState> {
  const { contact, policy } = input;
  const taskId = workflowInfo().workflowId;
  const state: TaskState = {
    taskId,
    runId: input.runId,
    phone: contact.phone,
    name: contact.name ?? null,
    line: contact.line,
    status: 'pending',
    reason: null,
    endReason: null,
    attempts: [],
    nextAttemptAt: null,
    waitingFor: null,
    transcript: null,
    summary: null,
    recordingUrl: null,
    cost: null,
    metadata: contact.metadata,
    createdAt: nowIso(),
    updatedAt: nowIso(),
  };
  let paused = input.paused ?? false;
  let cancel: { hangup: boolean } | null = null;
  let current: AttemptRecord | null = null;
  /** An agent's push said the current call ended: read it now. Kept by call id while the create returns. */
  const hinted = new Set<string>();
  const hardCapMs = input.hardCapMs ?? policy.maxCallMs ?? DEFAULT_HARD_CAP_MS;
  state.hardCapMs = hardCapMs;

  /** Runs of 0.3: permits from the campaign, reports through the worker's mailbox (see campaign.ts). */
  const lean = input.protocol === LEAN_PROTOCOL;
  /** Lean: the permit request this task waits on, and the campaign's answer. */
  let wantedId: string | null = null;
  let leanGrant: LeanPermit | null = null;
  let initialPermit: LeanPermit | null = input.permit ?? null;
  let permitSeq = 0;
  /** Lean: the day this task last counted on toward tasks/day (a retry on a later day counts again). */
  let countedDay: string | null = null;

  /** The limiter's answer to this task's current permit request. */
  let grant: PermitGrantMessage | null = null;
  /** A task counts once toward tasks/day, however many attempts or permits it takes. */
  let countedTowardDay = false;

  // Handlers first, before any await.
  setHandler(taskStatusQuery, () => state);
  setHandler(permitSignals.granted, (g) => void (grant = g));
  setHandler(permitSignals.waiting, (w) => {
    state.waitingFor = `${w.reason.replace(/_/g, ' ')} budget spent; resets at ${new Date(w.resetsAt).toISOString()}`;
    void report({ status: 'pending', waiting: w.reason });
  });
  setHandler(taskPauseSignal, ({ paused: p }) => void (paused = p));
  setHandler(taskCancelSignal, (c) => void (cancel = c));
  setHandler(leanPermitSignal, (g) => {
    if (g.id === wantedId) leanGrant = g;
    // A grant nobody waits for any more (withdrawn on the way): given straight back.
    else void report({ status: state.status }, [{ kind: 'release', taskId, id: g.id, unused: true }]);
  });
  setHandler(callEndHintSignal, ({ callId }) => {
    if (hinted.size < 8) hinted.add(callId); // a few at most: only the current attempt's call matters
  });

  const campaign = getExternalWorkflowHandle(input.campaignWorkflowId);
  /**
   * Tells the campaign. 0.2: a signal per status change. Lean: only the reports given (permits, attempt ends,
   * the end), through the worker's mailbox; retried until delivered, so a slot is never left held.
   */
  async function report(event: Omit<TaskEvent, 'taskId'>, leanReports?: TaskReport[]): Promise<void> {
    if (lean) {
      if (leanReports?.length) await reporting.reportToCampaign(input.campaignWorkflowId, leanReports);
      return;
    }
    try {
      await campaign.signal(taskEventSignal, { taskId, ...event });
    } catch (err) {
      // The campaign may already be closed (canceled, terminated): the task's own state stays the record.
      log.warn('could not report to campaign', { taskId, error: String(err) });
    }
  }

  function setStatus(status: TaskStatus): void {
    // Lean: one upsert per change, the end reason with it (0.2 upserts as it always did).
    if (lean && state.status === status && !endReasonUnsaid) return;
    state.status = status;
    state.updatedAt = nowIso();
    if (lean && endReasonUnsaid) {
      endReasonUnsaid = false;
      upsertSearchAttributes([
        { key: TaskStatusKey, value: status },
        { key: TaskEndReason, value: state.endReason ?? 'UNKNOWN' },
      ]);
      return;
    }
    upsertSearchAttributes([{ key: TaskStatusKey, value: status }]);
  }
  /** Lean: an attempt's end_reason not yet in the search attributes (it goes with the next status). */
  let endReasonUnsaid = false;

  /** The last attempt's end_reason when the policy table does not know it (the campaign counts them). */
  let unknownEndReason: string | undefined;
  async function finish(status: TaskStatus, reason: string): Promise<TaskState> {
    state.reason = reason;
    state.nextAttemptAt = null;
    setStatus(status);
    const leanFinal: TaskReport[] =
      lean && !input.skip
        ? [
            {
              kind: 'final',
              taskId,
              ...(heldPermit ? { id: heldPermit } : {}),
              ...(dialedAt ? { dialedAt } : {}),
              status,
              endReason: state.endReason,
              attempts: state.attempts.length,
              ...(unknownEndReason ? { unknownEndReason } : {}),
            },
          ]
        : [];
    heldPermit = null;
    await report(
      unknownEndReason ? { status, final: true, unknownEndReason } : { status, final: true },
      leanFinal,
    );
    if (input.callbackUrl) await tellCallback(input.callbackUrl);
    return state;
  }

  /** After the campaign is told (so a slow receiver never holds a window slot); failures are logged only. */
  async function tellCallback(url: string): Promise<void> {
    try {
      await callbacks.deliverCallback({ url, type: 'task.finished', runId: input.runId, task: state });
    } catch (err) {
      log.warn('callback not delivered', { taskId, url, error: String(err) });
    }
  }

  const limiter = getExternalWorkflowHandle(limiterWorkflowId(input.accountId));
  async function tellLimiter(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch {
      // The limiter is not running (its campaign starts it; someone may have terminated it): start it, then again.
      await bookkeeping.ensureLimiter(input.accountId, { campaign: input.runId });
      await fn();
    }
  }

  /**
   * Asks the account limiter for a permit to dial and waits to be told (no polling). null when a pause, a cancel
   * or the deadline came first; the request (or a permit on its way) is then given back.
   */
  async function acquirePermit(attempt: number, deadlineMs?: number): Promise<PermitGrantMessage | null> {
    const id = permitId(taskId, attempt);
    grant = null;
    const firstAttempt = !countedTowardDay;
    await tellLimiter(() =>
      limiter.signal(permitSignals.request, {
        id,
        taskId,
        campaign: input.runId,
        firstAttempt,
        leaseTtlMs: hardCapMs + policy.pollIntervalMs + Math.min(LEASE_MARGIN_MS, hardCapMs),
      }),
    );
    // Past the deadline, a task still waiting for a permit gives up (the caller then ends it expired).
    const untilDeadline = deadlineMs === undefined ? undefined : Math.max(1, deadlineMs - Date.now());
    await condition(() => grant?.id === id || cancel !== null || paused, untilDeadline);
    const got = grant as PermitGrantMessage | null;
    if (got?.id !== id) {
      await tellLimiter(() => limiter.signal(permitSignals.withdraw, { id }));
      return null;
    }
    if (firstAttempt) countedTowardDay = true;
    heldPermit = id;
    state.waitingFor = null;
    // The slot is at most a second away (the limiter books no further): createCall itself waits for it, so
    // the dial lands on the slot without a timer and a workflow task in between.
    return got;
  }

  async function releasePermit(id: string, unused = false): Promise<void> {
    if (heldPermit === id) heldPermit = null;
    await tellLimiter(() => limiter.signal(permitSignals.release, unused ? { id, unused } : { id }));
  }

  /** The permit this task holds, if any: given back whatever happens (see the end of this function). */
  let heldPermit: string | null = null;
  /** Lean: when the current permit's call was placed (at or after Unpod counted it). */
  let dialedAt: number | null = null;

  /**
   * Lean: a permit from the campaign (the one it started this task with, else asked for). null when a cancel or
   * the deadline came first; the request (or a grant on its way) is then given back.
   */
  async function acquireLeanPermit(attempt: number, deadlineMs?: number): Promise<LeanPermit | null> {
    if (initialPermit) {
      const p = initialPermit;
      initialPermit = null;
      heldPermit = p.id;
      return p;
    }
    const id = `${permitId(taskId, attempt)}.${++permitSeq}`;
    wantedId = id;
    leanGrant = null;
    await report({ status: 'pending' }, [{ kind: 'want', taskId, id, countedDay }]);
    const untilDeadline = deadlineMs === undefined ? undefined : Math.max(1, deadlineMs - Date.now());
    await condition(() => leanGrant?.id === id || cancel !== null, untilDeadline);
    wantedId = null;
    const got = leanGrant as LeanPermit | null;
    if (got?.id !== id) {
      await report({ status: 'pending' }, [{ kind: 'release', taskId, id, unused: true }]);
      return null;
    }
    heldPermit = id;
    state.waitingFor = null;
    return got;
  }

  // Lean tasks get their search attributes at start.
  if (!lean)
    upsertSearchAttributes([
      { key: CampaignRunId, value: input.runId },
      { key: CampaignAccount, value: input.accountId },
      { key: TaskStatusKey, value: input.skip ? 'skipped' : 'pending' },
      ...contactNameAttribute(input.contact.name),
    ]);

  // Whatever goes wrong below, the task ends with a final report and its permit given back: a task that failed
  // silently would hold its campaign's window slot and the account's lease for good.
  try {
    return await runTask();
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.error('task ended by an unexpected error', { taskId, error: String(err) });
    if (heldPermit && !lean) await releasePermit(heldPermit).catch(() => undefined);
    return finish('failed', `ended by an unexpected error: ${String(err)}`);
  }

  async function runTask(): Promise<TaskState> {
    if (input.skip) return finish('skipped', `${input.skip.reason}: ${input.skip.detail}`);

    // When this contact may be called: its own call time, the calling window in its zone, the deadline.
    const timing = input.timing;
    const zone = windowZone(contact.timezone, timing?.timezone);
    const deadlineMs = timing?.deadline ? Date.parse(timing.deadline) : undefined;
    const first = firstAttemptTime(
      contact.callAt,
      Date.now(),
      timing ? Date.parse(timing.runCreatedAt) : Date.now(),
      timing?.pastCallAt,
    );
    if (first.kind !== 'at') return finish('skipped', first.reason);
    /** The earliest time the next attempt is wanted: the call time, then now + the retry delay. */
    let earliestMs = first.atMs;

    /** Waits for the window to open; `expired` past the deadline, null when canceled meanwhile. */
    async function waitForWindow(): Promise<{ expired: string } | 'go' | null> {
      const plan = planAttempt({
        window: timing?.callingWindow,
        zone,
        earliestMs: Math.max(earliestMs, Date.now()),
        deadlineMs,
      });
      if (plan.kind !== 'at') return { expired: plan.reason };
      const waitMs = plan.atMs - Date.now();
      if (waitMs > 0) {
        state.nextAttemptAt = new Date(plan.atMs).toISOString();
        await condition(() => cancel !== null, waitMs);
        state.nextAttemptAt = null;
      }
      return cancel ? null : 'go';
    }

    /** What a create of this attempt's call sends (the markers in `data` find it again). */
    const createInput = (attempt: number) => ({
      idempotencyKey: callIdempotencyKey(taskId, attempt),
      taskWorkflowId: taskId,
      runId: input.runId,
      attempt,
      pipeId: input.call.pipeId,
      agentId: input.call.agentId,
      fromNumber: input.call.fromNumber,
      toNumber: contact.phone,
      instructions: contact.instructions,
      data: contact.metadata,
    });

    /**
     * Places the attempt's call exactly once. A create that failed without an answer may have placed it: the next
     * step is to look for it by its markers (after it must have landed), and only if none is found to create again.
     */
    async function placeCall(attempt: number): Promise<Placed> {
      const firstTryAt = Date.now();
      let maybePlacedAt: number | null = null;
      let backoffMs = 1_000;
      for (;;) {
        if (maybePlacedAt !== null) {
          const found = await finding.findPlacedCall({
            taskWorkflowId: taskId,
            attempt,
            pipeId: input.call.pipeId,
            toNumber: contact.phone,
            sentAtMs: maybePlacedAt,
          });
          if (found) return { kind: 'created', snapshot: found };
          maybePlacedAt = null;
        }
        if (cancel) return { kind: 'canceled' };
        if (Date.now() - firstTryAt > CREATE_BUDGET_MS)
          return { kind: 'rejected', message: 'Unpod did not take the call for 6 hours of tries' };
        let waitMs = backoffMs;
        try {
          const snapshot = await placing.createCall(createInput(attempt));
          return { kind: 'created', snapshot };
        } catch (err) {
          if (!(err instanceof ActivityFailure)) throw err;
          const cause = err.cause;
          const details =
            cause instanceof ApplicationFailure
              ? (cause.details?.[0] as CreateFailureDetails | undefined)
              : undefined;
          if (cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.accountBlocked) {
            return {
              kind: 'blocked',
              block: details?.block ?? 'unknown',
              message: details?.blockMessage ?? cause.message,
            };
          }
          if (cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.rejected) {
            return { kind: 'rejected', message: cause.message };
          }
          // No answer, a 5xx, or the activity timed out (its worker died mid-request): a call may exist.
          if (details?.placed !== 'no') maybePlacedAt = Date.now();
          if (details?.retryAfterMs !== undefined) waitMs = Math.max(details.retryAfterMs, 250);
          backoffMs = Math.min(backoffMs * 2, 60_000);
        }
        if (maybePlacedAt === null) await condition(() => cancel !== null, waitMs);
      }
    }

    /**
     * Lean: one create on one permit. A create that failed without an answer may have placed the call: it is
     * looked for (the permit's slot still held) before the permit goes back. `sentAt`: a request reached Unpod.
     */
    async function placeOnce(
      attempt: number,
      permit: LeanPermit,
    ): Promise<Placed | { kind: 'again'; waitMs: number; sentAt?: number }> {
      try {
        const snapshot = await placing.createCall({
          ...createInput(attempt),
          permit: { id: permit.id, dialBy: permit.dialBy, campaignWorkflowId: input.campaignWorkflowId },
        });
        return { kind: 'created', snapshot };
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const cause = err.cause;
        const type = cause instanceof ApplicationFailure ? cause.type : undefined;
        const details =
          cause instanceof ApplicationFailure
            ? (cause.details?.[0] as CreateFailureDetails | undefined)
            : undefined;
        if (type === FAILURE_TYPES.permitExpired) return { kind: 'again', waitMs: 0 };
        if (type === FAILURE_TYPES.accountBlocked && cause instanceof ApplicationFailure)
          return {
            kind: 'blocked',
            block: details?.block ?? 'unknown',
            message: details?.blockMessage ?? cause.message,
          };
        if (type === FAILURE_TYPES.rejected && cause instanceof ApplicationFailure)
          return { kind: 'rejected', message: cause.message };
        const waitMs = Math.max(details?.retryAfterMs ?? 0, 1_000);
        if (details?.placed === 'no') return { kind: 'again', waitMs };
        // No answer, a 5xx, or the worker died mid-request: a call may exist. Look before anything else (from
        // when the request gave up: a slow create may land after it).
        const found = await finding.findPlacedCall({
          taskWorkflowId: taskId,
          attempt,
          pipeId: input.call.pipeId,
          toNumber: contact.phone,
          sentAtMs: Date.now(),
        });
        if (found) return { kind: 'created', snapshot: found };
        // None landed; Unpod may still have counted the request: as a dial now, the latest it can have been.
        return { kind: 'again', waitMs, sentAt: Date.now() };
      }
    }

    /** Reads the call (the push hint, or a hangup's answer); null when Unpod cannot be reached for an hour. */
    async function readCall(read: () => Promise<CallSnapshot>): Promise<CallSnapshot | null> {
      try {
        return await read();
      } catch (err) {
        log.warn('could not read the call', { taskId, error: String(err) });
        return null;
      }
    }

    /**
     * Waits for the call's end: the watcher's answer, else a push hint read at once, else the hard cap (hang up,
     * then a grace for the end to show), else the end is recorded as not seen. Never throws for Unpod's sake.
     */
    async function awaitEnd(
      created: CallSnapshot,
    ): Promise<{ snapshot: CallSnapshot; by: NonNullable<AttemptRecord['endedBy']> }> {
      const callId = created.callId;
      if (isTerminal(created.status)) return { snapshot: created, by: 'create' };
      let result: { snapshot: CallSnapshot; by: NonNullable<AttemptRecord['endedBy']> } | null = null;
      let watchFailed: string | null = null;
      const scope = new CancellationScope();
      /** Lean: the watch itself answers null at `until` (the cap), so the task needs no timer of its own. */
      let capReached = false;
      const startWatch = (until?: number) => {
        const watch = scope.run(() =>
          watching.awaitCallEnd({
            callId,
            pipeId: input.call.pipeId,
            intervalMs: policy.pollIntervalMs,
            ...(until !== undefined ? { until } : {}),
          }),
        );
        watch.then(
          (snapshot) => {
            if (snapshot) result ??= { snapshot, by: 'watch' };
            else capReached = true;
          },
          (err: unknown) => void (watchFailed = String(err)),
        );
      };
      let capAt = Date.now() + hardCapMs;
      startWatch(lean ? capAt : undefined);
      const past = () => (lean ? capReached : Date.now() >= capAt);
      let capHit = false;
      let hungUpForCancel = false;
      const cancelNeedsHangup = () => cancel?.hangup === true && !hungUpForCancel;
      try {
        while (!result) {
          await condition(
            () =>
              result !== null ||
              watchFailed !== null ||
              hinted.has(callId) ||
              cancelNeedsHangup() ||
              capReached,
            lean ? undefined : Math.max(1, capAt - Date.now()),
          );
          if (result) break;
          if (hinted.delete(callId)) {
            const snap = await readCall(() => polling.getCall(callId));
            if (snap && isTerminal(snap.status)) result ??= { snapshot: snap, by: 'push' };
            continue;
          }
          if (cancelNeedsHangup()) {
            hungUpForCancel = true;
            const snap = await readCall(() => polling.hangupCall(callId));
            if (snap && isTerminal(snap.status)) result ??= { snapshot: snap, by: 'canceled' };
            continue;
          }
          const unseen = (endReason: string): CallSnapshot => ({
            ...created,
            status: 'failed',
            endReason,
            endedAt: nowIso(),
          });
          if (watchFailed !== null) {
            log.warn('the call cannot be watched; its end is not known', {
              taskId,
              callId,
              error: watchFailed,
            });
            result = { snapshot: unseen('CALL_END_NOT_SEEN'), by: 'unknown' };
            break;
          }
          if (past() && !capHit) {
            // The watch may only be late (its worker died and the next has not taken it yet): read first.
            const now = await readCall(() => polling.getCall(callId));
            if (now && isTerminal(now.status)) {
              result = { snapshot: now, by: 'read' };
              break;
            }
            capHit = true;
            log.warn('call exceeded the hard cap; hanging up', { taskId, callId, hardCapMs });
            const hung = await readCall(() => polling.hangupCall(callId));
            if (hung && isTerminal(hung.status)) {
              result = {
                snapshot: { ...hung, status: 'failed', endReason: 'CALL_HARD_CAP_EXCEEDED' },
                by: 'hard-cap',
              };
              break;
            }
            capAt = Date.now() + END_GRACE_MS;
            if (lean) {
              capReached = false;
              startWatch(capAt);
            }
            continue;
          }
          if (past() && capHit) {
            result = { snapshot: unseen('CALL_HARD_CAP_EXCEEDED'), by: 'hard-cap' };
            break;
          }
        }
      } finally {
        scope.cancel(); // a no-op once the watch has answered
      }
      const end: { snapshot: CallSnapshot; by: NonNullable<AttemptRecord['endedBy']> } = result;
      if (capHit && end.by === 'watch')
        return {
          snapshot: { ...end.snapshot, status: 'failed', endReason: 'CALL_HARD_CAP_EXCEEDED' },
          by: 'hard-cap',
        };
      return end;
    }

    const outcomes: Outcome[] = [];
    for (let attempt = 1; ; attempt++) {
      hinted.clear();
      current = {
        attempt,
        callId: null,
        createdAt: nowIso(),
        endedAt: null,
        status: 'pending',
        endReason: null,
        durationS: null,
        endedBy: null,
        decision: null,
      };
      state.nextAttemptAt = null;
      setStatus('pending');

      // Permission to dial: not paused, in the window, a permit from the account limiter; then one call.
      let permit: PermitGrantMessage | null = null;
      let created: CallSnapshot | null = null;
      let leanPermit: LeanPermit | null = null;
      const firstTryAt = Date.now();
      let backoffMs = 1_000;
      // Lean: the campaign grants (and withholds while paused); every create has a permit of its own.
      while (lean && !created) {
        const allowed = cancel ? null : await waitForWindow();
        if (allowed === null) return finish('canceled', 'campaign canceled before this attempt');
        if (allowed !== 'go') return finish('expired', allowed.expired);
        leanPermit = await acquireLeanPermit(attempt, deadlineMs);
        if (!leanPermit) continue;
        if (state.attempts[state.attempts.length - 1] !== current) state.attempts.push(current);
        current.createdAt = nowIso();
        current.permitGrantedAt = leanPermit.grantedAt;
        const placed = await placeOnce(attempt, leanPermit);
        if (placed.kind === 'created') {
          created = placed.snapshot;
          dialedAt = Date.now();
          if (leanPermit.dayKey) countedDay = leanPermit.dayKey;
          break;
        }
        const id = leanPermit.id;
        heldPermit = null;
        if (placed.kind === 'blocked') {
          // The whole account cannot dial: the campaign pauses and grants again on resume.
          state.waitingFor = `paused: ${placed.message}`;
          await report({ status: 'pending' }, [
            { kind: 'blocked', taskId, id, block: placed.block, message: placed.message },
          ]);
          continue;
        }
        await report({ status: 'pending' }, [
          placed.kind === 'again' && placed.sentAt !== undefined
            ? { kind: 'release', taskId, id, dialedAt: placed.sentAt }
            : { kind: 'release', taskId, id, unused: true },
        ]);
        if (placed.kind === 'canceled') return finish('canceled', 'campaign canceled before this attempt');
        if (placed.kind === 'rejected') {
          current.status = 'failed';
          current.endReason = 'CREATE_REJECTED';
          current.decision = `call not created: ${placed.message}`;
          state.endReason = 'CREATE_REJECTED';
          return finish('failed', current.decision);
        }
        if (placed.kind !== 'again') continue;
        if (Date.now() - firstTryAt > CREATE_BUDGET_MS) {
          current.status = 'failed';
          current.endReason = 'CREATE_REJECTED';
          current.decision = 'call not created: Unpod did not take the call for 6 hours of tries';
          state.endReason = 'CREATE_REJECTED';
          return finish('failed', current.decision);
        }
        if (placed.waitMs > 0) {
          await condition(() => cancel !== null, Math.max(placed.waitMs, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 60_000);
        }
      }
      while (!created) {
        await condition(() => !paused || cancel !== null);
        const allowed = cancel ? null : await waitForWindow();
        if (allowed === null) return finish('canceled', 'campaign canceled before this attempt');
        if (allowed !== 'go') return finish('expired', allowed.expired);
        permit = await acquirePermit(attempt, deadlineMs);
        if (!permit) continue;
        if (state.attempts[state.attempts.length - 1] !== current) {
          state.attempts.push(current);
          await report({ status: 'pending', attemptStarted: attempt });
        }
        current.createdAt = nowIso();
        current.permitGrantedAt = permit.grantedAt;
        const placed = await placeCall(attempt);
        if (placed.kind === 'created') {
          created = placed.snapshot;
          break;
        }
        // Nothing was dialed: the permit goes back unused.
        await releasePermit(permit.id, true);
        if (placed.kind === 'canceled') return finish('canceled', 'campaign canceled before this attempt');
        if (placed.kind === 'blocked') {
          // The whole account cannot dial: pause (the campaign pauses every task) and try again on resume.
          paused = true;
          state.waitingFor = `paused: ${placed.message}`;
          await report({ status: 'pending', blocked: { kind: placed.block, message: placed.message } });
          continue;
        }
        current.status = 'failed';
        current.endReason = 'CREATE_REJECTED';
        current.decision = `call not created: ${placed.message}`;
        state.endReason = 'CREATE_REJECTED';
        return finish('failed', current.decision);
      }
      current.callId = created.callId;
      current.createdAt = created.startedAt ?? current.createdAt;
      state.waitingFor = null;
      // Placed with Unpod and not yet ended (queued, ringing or talking): "active" for the run's counts.
      setStatus('active');
      if (!lean) {
        await report({ status: 'active' });
        // The dial is done: its rate token runs one window from now (the limiter's clock, at or after the dial).
        await tellLimiter(() => limiter.signal(permitSignals.dialed, { id: permit!.id }));
      }

      const end = await awaitEnd(created);
      // Lean: the permit goes back with the attempt's end report (below), in one message.
      if (!lean) await releasePermit(permit!.id);
      const snap = end.snapshot;
      current.status = snap.status === 'completed' ? 'completed' : 'failed';
      current.endReason = snap.endReason;
      current.endedAt = snap.endedAt ?? nowIso();
      current.durationS = snap.durationS;
      current.endedBy = end.by;
      state.endReason = snap.endReason;
      state.transcript = snap.transcript ?? state.transcript;
      state.summary = snap.summary ?? state.summary;
      state.recordingUrl = snap.recordingUrl ?? state.recordingUrl;
      state.cost = snap.cost ?? state.cost;
      if (lean) endReasonUnsaid = true;
      else upsertSearchAttributes([{ key: TaskEndReason, value: snap.endReason ?? 'UNKNOWN' }]);

      const { outcome, known } = classifyEndReason(snap.endReason);
      if (!known) {
        log.warn('unknown end_reason, treated as a generic failure', { taskId, endReason: snap.endReason });
        unknownEndReason = snap.endReason ?? 'NONE';
      }
      outcomes.push(outcome);
      const decision = decide(policy, outcomes);
      if (decision.action === 'complete') {
        current.decision = 'completed';
        return finish('completed', `completed: ${snap.endReason}`);
      }
      if (decision.action === 'fail') {
        current.decision = decision.reason;
        return finish('failed', decision.reason);
      }
      if (cancel) {
        current.decision = 'not retried: campaign canceled';
        return finish('canceled', 'campaign canceled; retry not made');
      }
      current.decision = `retry in ${Math.round(decision.delayMs / 1000)}s (${decision.outcome})`;
      state.nextAttemptAt = new Date(Date.now() + decision.delayMs).toISOString();
      setStatus('pending');
      const ended: TaskReport[] = [];
      if (lean && heldPermit) {
        const next = planAttempt({
          window: timing?.callingWindow,
          zone,
          earliestMs: Date.now() + decision.delayMs,
          deadlineMs,
        });
        ended.push({
          kind: 'attemptEnded',
          taskId,
          id: heldPermit,
          ...(dialedAt ? { dialedAt } : {}),
          endReason: snap.endReason,
          ...(next.kind === 'at' ? { nextAt: next.atMs } : {}),
        });
        heldPermit = null;
        dialedAt = null;
      }
      await report({ status: 'pending', retryWaiting: true }, ended);
      // The next attempt waits for the delay, then for the window (a cancel ends the wait early).
      earliestMs = Date.now() + decision.delayMs;
    }
  }
}
