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
import { PLACING, POLLING } from './activity-profiles';
import {
  callEndedSignal,
  callStatusSignal,
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
import { callIdempotencyKey } from './ids';
import { classifyEndReason, decide, type Outcome } from './policy';
import {
  CampaignAccount,
  CampaignRunId,
  TaskEndReason,
  TaskStatus as TaskStatusKey,
} from './search-attributes';

const placing = proxyActivities<Activities>(PLACING);
const polling = proxyActivities<Activities>(POLLING);

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

  // Handlers first, before any await.
  setHandler(taskStatusQuery, () => state);
  setHandler(taskPauseSignal, ({ paused: p }) => void (paused = p));
  setHandler(taskCancelSignal, (c) => void (cancel = c));
  setHandler(callEndedSignal, (snapshot) => {
    // Late or duplicate webhooks (an older attempt's call, a second delivery) change nothing.
    if (!current || snapshot.callId !== current.callId || ended) return;
    ended = { snapshot, by: 'webhook' };
  });
  setHandler(callStatusSignal, (snapshot) => {
    if (!current || snapshot.callId !== current.callId || ended) return;
    if (isTerminal(snapshot.status)) ended = { snapshot, by: 'webhook' };
    else observe(snapshot);
  });

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
    return state;
  }

  upsertSearchAttributes([
    { key: CampaignRunId, value: input.runId },
    { key: CampaignAccount, value: input.accountId },
    { key: TaskStatusKey, value: input.skip ? 'skipped' : 'pending' },
  ]);

  if (input.skip) return finish('skipped', `${input.skip.reason}: ${input.skip.detail}`);

  const outcomes: Outcome[] = [];
  for (let attempt = 1; ; attempt++) {
    await condition(() => !paused || cancel !== null);
    if (cancel) return finish('canceled', 'campaign canceled before this attempt');

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
    state.attempts.push(current);
    state.nextAttemptAt = null;
    setStatus('pending');
    await report({ status: 'pending', attemptStarted: attempt });

    let created: CallSnapshot;
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
      // Unpod refused the call itself (a 4xx): nothing was dialed, and asking again will not change that.
      // Anything else is a bug or an outage and fails the workflow task, to be fixed and retried.
      const cause =
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
      if (!cause?.nonRetryable) throw err;
      current.status = 'failed';
      current.endReason = 'CREATE_REJECTED';
      current.decision = `call not created: ${cause.message}`;
      state.endReason = 'CREATE_REJECTED';
      return finish('failed', current.decision);
    }
    current.callId = created.callId;
    current.createdAt = created.startedAt ?? current.createdAt;
    if (isTerminal(created.status)) ended = { snapshot: created, by: 'poll' };

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
    // The retry wait ends early only for a cancel.
    await condition(() => cancel !== null, decision.delayMs);
    if (cancel) return finish('canceled', 'campaign canceled while a retry was waiting');
  }
}
