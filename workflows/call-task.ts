/**
 * callTaskWorkflow: one per contact — the Unpod "task". Per attempt: wait while paused, create the call with an
 * idempotency key, wait for the callEnded signal with a polling fallback and a hard cap, classify the end_reason
 * through the policy, then retry after the policy's delay or finish. Reports every status change to its campaign.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING, CALLBACK, PLACING, POLLING } from './activity-profiles';
import {
  callEndedSignal,
  callStatusSignal,
  permitDialedSignal,
  permitGrantedSignal,
  permitReleaseSignal,
  permitRequestSignal,
  permitWaitingSignal,
  permitWithdrawSignal,
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
} from './definitions';
import { callIdempotencyKey, limiterWorkflowId, permitId } from './ids';
import { firstAttemptTime, planAttempt, windowZone } from './calling-window';
import { classifyEndReason, decide, type Outcome } from './policy';
import {
  CampaignAccount,
  CampaignRunId,
  TaskEndReason,
  TaskStatus as TaskStatusKey,
} from './search-attributes';

const placing = proxyActivities<Activities>(PLACING);
const polling = proxyActivities<Activities>(POLLING);
const callbacks = proxyActivities<Activities>(CALLBACK);

const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);

/** A lease outlives the hard cap on a call by this much (at most) before the limiter takes it back unreleased. */
const LEASE_MARGIN_MS = 2 * 60_000;

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
  /** The end of the current attempt's call, when it has arrived (webhook or poll). */
  let ended: { snapshot: CallSnapshot; by: AttemptRecord['endedBy'] } | null = null;
  let current: AttemptRecord | null = null;

  /** The limiter's answer to this task's current permit request. */
  let grant: PermitGrantMessage | null = null;
  /** A task counts once toward tasks/day, however many attempts or permits it takes. */
  let countedTowardDay = false;

  // Handlers first, before any await.
  setHandler(taskStatusQuery, () => state);
  setHandler(permitGrantedSignal, (g) => void (grant = g));
  setHandler(permitWaitingSignal, (w) => {
    state.waitingFor = `${w.reason.replace(/_/g, ' ')} budget spent; resets at ${new Date(w.resetsAt).toISOString()}`;
    void report({ status: 'pending', waiting: w.reason });
  });
  setHandler(taskPauseSignal, ({ paused: p }) => void (paused = p));
  setHandler(taskCancelSignal, (c) => void (cancel = c));
  /**
   * Webhooks that arrive while createCall is still returning (a call can end before its create is processed):
   * kept by call id until the id is known. A few at most: only the current attempt's create is in flight.
   */
  const early = new Map<string, CallSnapshot>();
  function onCallEvent(snapshot: CallSnapshot): void {
    if (!current || ended) return;
    if (current.callId === null) {
      const seen = early.get(snapshot.callId);
      if (!seen || !isTerminal(seen.status)) early.set(snapshot.callId, snapshot);
      return;
    }
    // Late or duplicate webhooks (an older attempt's call, a second delivery) change nothing.
    if (snapshot.callId !== current.callId) return;
    if (isTerminal(snapshot.status)) ended = { snapshot, by: 'webhook' };
    else observe(snapshot);
  }
  setHandler(callEndedSignal, onCallEvent);
  setHandler(callStatusSignal, onCallEvent);

  const campaign = getExternalWorkflowHandle(input.campaignWorkflowId);
  async function report(event: Omit<TaskEvent, 'taskId'>): Promise<void> {
    try {
      await campaign.signal(taskEventSignal, { taskId, ...event });
    } catch (err) {
      // The campaign may already be closed (canceled, terminated): the task's own state stays the record.
      log.warn('could not report to campaign', { taskId, error: String(err) });
    }
  }

  function setStatus(status: TaskStatus): void {
    state.status = status;
    state.updatedAt = nowIso();
    upsertSearchAttributes([{ key: TaskStatusKey, value: status }]);
  }

  /** A non-terminal status seen on the current call (ringing, active) becomes the task's status. */
  function observe(snapshot: CallSnapshot): void {
    if (!current) return;
    if (snapshot.status === current.status) return;
    current.status = snapshot.status;
    if (snapshot.status === 'ringing' || snapshot.status === 'active') {
      setStatus(snapshot.status);
      void report({ status: snapshot.status });
    }
  }

  async function finish(status: TaskStatus, reason: string): Promise<TaskState> {
    state.reason = reason;
    state.nextAttemptAt = null;
    setStatus(status);
    await report({ status, final: true });
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
      limiter.signal(permitRequestSignal, {
        id,
        taskId,
        campaign: input.runId,
        firstAttempt,
        leaseTtlMs: policy.maxCallMs + policy.pollIntervalMs + Math.min(LEASE_MARGIN_MS, policy.maxCallMs),
      }),
    );
    // Past the deadline, a task still waiting for a permit gives up (the caller then ends it expired).
    const untilDeadline = deadlineMs === undefined ? undefined : Math.max(1, deadlineMs - Date.now());
    await condition(() => grant?.id === id || cancel !== null || paused, untilDeadline);
    const got = grant as PermitGrantMessage | null;
    if (got?.id !== id) {
      await tellLimiter(() => limiter.signal(permitWithdrawSignal, { id }));
      return null;
    }
    if (firstAttempt) countedTowardDay = true;
    state.waitingFor = null;
    // The slot is at most a second away (the limiter books no further): createCall itself waits for it, so
    // the dial lands on the slot without a timer and a workflow task in between.
    return got;
  }

  async function releasePermit(id: string, unused = false): Promise<void> {
    await tellLimiter(() => limiter.signal(permitReleaseSignal, unused ? { id, unused } : { id }));
  }

  upsertSearchAttributes([
    { key: CampaignRunId, value: input.runId },
    { key: CampaignAccount, value: input.accountId },
    { key: TaskStatusKey, value: input.skip ? 'skipped' : 'pending' },
  ]);

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

  const outcomes: Outcome[] = [];
  for (let attempt = 1; ; attempt++) {
    ended = null;
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

    // Permission to dial: not paused, then a permit from the account limiter, dialed within its grace.
    let permit: PermitGrantMessage | null = null;
    let created: CallSnapshot | null = null;
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
      try {
        created = await placing.createCall({
          idempotencyKey: callIdempotencyKey(taskId, attempt),
          taskWorkflowId: taskId,
          runId: input.runId,
          attempt,
          pipeId: input.call.pipeId,
          agentId: input.call.agentId,
          fromNumber: input.call.fromNumber,
          toNumber: contact.phone,
          instructions: contact.instructions,
          metadata: contact.metadata,
        });
      } catch (err) {
        const cause =
          err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        // Counted as dialed now (the limiter cannot know whether a timed-out try reached Unpod).
        await releasePermit(permit.id);
        // Unpod refused the call itself (a 4xx): nothing was dialed, and asking again will not change that.
        // Anything else is a bug or an outage and fails the workflow task, to be fixed and retried.
        if (!cause?.nonRetryable) throw err;
        current.status = 'failed';
        current.endReason = 'CREATE_REJECTED';
        current.decision = `call not created: ${cause.message}`;
        state.endReason = 'CREATE_REJECTED';
        return finish('failed', current.decision);
      }
    }
    // Known before any await, so webhooks for this call that arrive meanwhile are taken.
    current.callId = created.callId;
    current.createdAt = created.startedAt ?? current.createdAt;
    const arrived = early.get(created.callId);
    early.clear();
    if (arrived && isTerminal(arrived.status)) ended = { snapshot: arrived, by: 'webhook' };
    else if (isTerminal(created.status)) ended = { snapshot: created, by: 'poll' };
    else if (arrived) observe(arrived);
    // The dial is done: its rate token runs one window from now (the limiter's clock, at or after the dial).
    await tellLimiter(() => limiter.signal(permitDialedSignal, { id: permit!.id }));

    // Wait for the end: the webhook, else a poll every pollIntervalMs, else the hard cap.
    const deadline = Date.now() + policy.maxCallMs;
    let hungUpForCancel = false;
    while (!ended) {
      const waitMs = Math.max(0, Math.min(policy.pollIntervalMs, deadline - Date.now()));
      const cancelNeedsHangup = () => cancel?.hangup === true && !hungUpForCancel;
      await condition(() => ended !== null || cancelNeedsHangup(), waitMs);
      if (ended) break;
      const callId = current.callId!;
      if (cancelNeedsHangup()) {
        hungUpForCancel = true;
        const snap = await polling.hangupCall(callId);
        if (isTerminal(snap.status)) ended = { snapshot: snap, by: 'canceled' };
        continue;
      }
      const snap = await polling.getCall(callId);
      if (ended) break;
      if (isTerminal(snap.status)) {
        ended = { snapshot: snap, by: 'poll' };
        break;
      }
      observe(snap);
      if (Date.now() >= deadline) {
        log.warn('call exceeded the hard cap; hanging up', { taskId, callId, maxCallMs: policy.maxCallMs });
        const hung = await polling.hangupCall(callId);
        ended = {
          snapshot: { ...hung, status: 'failed', endReason: 'CALL_HARD_CAP_EXCEEDED' },
          by: 'hard-cap',
        };
      }
    }

    await releasePermit(permit!.id);
    const end: { snapshot: CallSnapshot; by: AttemptRecord['endedBy'] } = ended;
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
    upsertSearchAttributes([{ key: TaskEndReason, value: snap.endReason ?? 'UNKNOWN' }]);

    const { outcome, known } = classifyEndReason(snap.endReason);
    if (!known)
      log.warn('unknown end_reason, treated as a generic failure', { taskId, endReason: snap.endReason });
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
    await report({ status: 'pending', retryWaiting: true });
    // The next attempt waits for the delay, then for the window (a cancel ends the wait early).
    earliestMs = Date.now() + decision.delayMs;
  }
}
