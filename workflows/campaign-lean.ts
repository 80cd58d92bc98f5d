/**
 * The campaign on the lean protocol (runs of 0.3). The account's limiter gives this run a share of the plan's
 * limits (slots, dials per window, tasks it may count today: account-shares.ts), and the run grants its tasks'
 * permits from it (permits.ts):
 *
 * - a contact due now is started with its first permit in its input, in one activity per chunk of starts, so its
 *   first dial needs no message at all; a retry (or a contact due later) asks by report and is told by signal;
 * - a task reports only what changes what others may do (a permit wanted, dialed, given back; an attempt's end;
 *   its end) through the worker's mailbox, one batched signal per flush, so this run hears a few signals a
 *   second however fast calls end, and a freed slot goes to the next task in the same workflow task;
 * - pause and resume change only what this run grants, so nothing needs telling; a cancel is told to every open
 *   task, in awaited chunks carried across continue-as-new.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  makeContinueAsNewFunc,
  log,
  setHandler,
  patched,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Contact, SkippedContact } from '../src/contacts/contact';
import {
  bookkeeping,
  buildProgress,
  countUnknownReason,
  initialCampaignState,
  loadNextBatch,
  preflight,
  releaseBatch,
  setInputHandlers,
  setPauseHandlers,
  starting,
  taskTiming,
  tellRunFinished,
} from './campaign-parts';
import {
  campaignDemandSignal,
  cancelSignal,
  LEAN_PROTOCOL,
  leanPermitSignal,
  MEMO_PROGRESS,
  progressQuery,
  shareAllocationSignal,
  taskCancelSignal,
  taskReportsSignal,
  type CampaignCarriedState,
  type CampaignDemand,
  type CampaignInput,
  type CampaignProgress,
  type LeanPermit,
  type TaskInput,
} from './definitions';
import { callTaskWorkflowId, limiterWorkflowId, permitId } from './ids';
import { shouldContinueAsNew } from './history';
import { CampaignAccount, CampaignRunId, CampaignSpace } from './search-attributes';
import { firstAttemptTime, planAttempt, windowZone } from './calling-window';
import {
  applyAllocation,
  dialed,
  emptyPool,
  grant,
  leaseEnd,
  needsCount,
  prune,
  release,
  room,
  today,
  tokensHeld,
  unwant,
  want,
} from './permits';
import { DEMAND_HEARTBEAT_MS } from './account-shares';
import { DEFAULT_HARD_CAP_MS } from './call-task';

/** A held permit's lease past the hard cap on its call (as the 0.2 limiter's): margin for the end to be seen. */
const LEASE_MARGIN_MS = 2 * 60_000;

/** Tasks started in one activity (and grants sent in one go): keeps each workflow task small. */
const START_CHUNK = 100;
/** Cancels sent to tasks in one go, awaited before the next chunk. */
const TELL_CHUNK = 100;
/** A changed demand is told to the limiter at most this often. */
const DEMAND_MIN_INTERVAL_MS = 1_000;
/** A limiter started anew waits this long to hear from every campaign that may hold a share. */
const SETTLE_MS = DEMAND_HEARTBEAT_MS + 5_000;
/** A running run's progress memo is written at most this often (and at once when its state changes). */
export const PROGRESS_MEMO_MS = 2_000;
/**
 * Runs started with this patch publish their progress as a memo, and their main loop is the only coroutine
 * that issues commands (the demand's heartbeat is one of its wakes, not a loop of its own): a workflow task's
 * commands then come out in one order however its jobs were split into activations.
 */
export const LEAN_MEMO_PATCH = 'lean-progress-memo';

interface OpenTask {
  retryWaiting: boolean;
  /** When it waits until (ms: a retry's delay and window, a call time); 0: not waiting for a time. */
  nextAt: number;
}

export async function leanCampaign(input: CampaignInput): Promise<CampaignProgress> {
  const publishes = patched(LEAN_MEMO_PATCH);
  const nowIso = () => new Date().toISOString();
  const s: CampaignCarriedState = input.state ?? initialCampaignState(nowIso());
  s.protocol = LEAN_PROTOCOL;
  const pool = (s.pool ??= emptyPool());
  const endReasons = (s.endReasons ??= {});
  const announced = new Set(s.announced);
  const open = new Map<string, OpenTask>(
    s.open.map(([id, , rw, , nextAt]) => [id, { retryWaiting: rw === 1, nextAt: nextAt ?? 0 }]),
  );
  const untold = new Set<string>(s.untold ?? []);
  const queue: Contact[] = s.queue;
  const queueSkipped: SkippedContact[] = s.queueSkipped;
  const selfId = workflowInfo().workflowId;
  const cap = input.concurrencyCap ?? null;
  const hardCapMs = () => s.hardCapMs ?? input.policy.maxCallMs ?? DEFAULT_HARD_CAP_MS;
  const leaseMs = () => hardCapMs() + input.policy.pollIntervalMs + Math.min(LEASE_MARGIN_MS, hardCapMs());
  let dirty = true;
  // The progress memo: when it was last written, in which state, and whether anything changed since.
  let publishedAt = 0;
  let publishedState = '';
  let publishedTotal = -1;
  let unpublished = true;
  const touch = () => {
    s.updatedAt = nowIso();
    dirty = true;
    unpublished = true;
  };

  const hasQueued = () => queue.length + queueSkipped.length > 0;
  const inputFinished = () => s.totalBatches !== null && s.cursorBatch > s.totalBatches && !hasQueued();
  const needsLoad = () => !s.cancel && !hasQueued() && announced.has(s.cursorBatch);
  const isDone = () => (s.cancel !== null || inputFinished()) && open.size === 0;

  // ---- demand to the account's limiter ----
  let lastDemandAt = 0;
  let lastDemandSig = '';
  let heartbeatFlag = false; // runs before the patch: set by the heartbeat loop
  const heartbeatDue = () =>
    publishes ? lastDemandAt > 0 && Date.now() - lastDemandAt >= DEMAND_HEARTBEAT_MS : heartbeatFlag;
  function demand(done = false): CampaignDemand {
    const startable =
      s.paused || s.cancel ? 0 : hasQueued() || !inputFinished() ? Math.max(0, input.window - open.size) : 0;
    const wants = pool.held.length + (s.paused || s.cancel ? 0 : pool.waiting.length) + startable;
    const now = Date.now();
    const r = room(pool, now, cap);
    const day = pool.alloc?.day;
    const needCount =
      pool.waiting.filter((w) => needsCount(pool, now, w[2] || null)).length +
      Math.min(startable, queue.length);
    const dayWants = pool.alloc?.limits.tasksPerDay == null ? 0 : Math.max(0, needCount - r.dayLeft);
    return {
      campaign: input.runId,
      workflowId: selfId,
      wants,
      held: pool.held.length,
      tokens: tokensHeld(pool),
      weight: input.weight ?? 1,
      cap,
      paused: s.paused,
      done,
      seenSeq: pool.alloc?.seq ?? 0,
      allocSlots: pool.alloc?.slots ?? 0,
      allocRate: pool.alloc?.rate ?? 0,
      day: day && pool.day?.[0] === day.key ? { key: day.key, used: pool.day[1] } : null,
      expired: pool.expired ?? 0,
      granted: pool.granted ?? 0,
      released: pool.released ?? 0,
      dayWants: dayWants > 0 ? dayWants + 10 : 0,
      ...(pool.alloc ? { limits: pool.alloc.limits } : {}),
    };
  }
  // What the limiter must hear of: a change in what this run could use, and the moment it is back within a cut
  // share (its slots and tokens then go to the others).
  const signature = (d: CampaignDemand) =>
    [
      Math.min(d.wants, pool.alloc?.limits.concurrency ?? d.wants),
      d.paused,
      d.dayWants > 0,
      d.seenSeq,
      d.expired,
      d.held > d.allocSlots,
      d.tokens > d.allocRate,
    ].join('|');
  const demandDue = () =>
    lastDemandAt === 0 ||
    heartbeatDue() ||
    (Date.now() - lastDemandAt >= DEMAND_MIN_INTERVAL_MS && signature(demand()) !== lastDemandSig);

  async function sendDemand(done = false): Promise<void> {
    const d = demand(done);
    lastDemandAt = Date.now();
    lastDemandSig = signature(d);
    heartbeatFlag = false;
    try {
      await getExternalWorkflowHandle(limiterWorkflowId(input.accountId)).signal(campaignDemandSignal, d);
    } catch {
      if (done) return;
      // Not running (first run of the account, or someone ended it): start it. One that replaces a limiter
      // this run had a share of first hears from the other campaigns, which may hold shares of the old one.
      await bookkeeping.ensureAccountLimiter(
        input.accountId,
        d,
        input.limits,
        pool.alloc ? SETTLE_MS : undefined,
      );
    }
  }

  // ---- handlers, before any await ----
  setHandler(progressQuery, progress);
  setInputHandlers(s, announced, touch);
  const pause = setPauseHandlers(s, touch);
  setHandler(cancelSignal, ({ hangup }) => {
    if (s.cancel) return;
    s.cancel = { hangup };
    pool.waiting = [];
    for (const id of open.keys()) untold.add(id);
    touch();
  });
  setHandler(shareAllocationSignal, (a) => {
    if (applyAllocation(pool, a)) touch();
  });
  setHandler(taskReportsSignal, (reports) => {
    const now = Date.now();
    for (const r of reports) {
      switch (r.kind) {
        case 'want': {
          const t = open.get(r.taskId);
          if (t) t.nextAt = 0; // its wait is over
          if (t && !s.cancel) want(pool, r.id, r.taskId, r.countedDay);
          break;
        }
        case 'dialed':
          dialed(pool, r.id, r.at);
          break;
        case 'release':
          if (!release(pool, r.id, now, r)) pool.waiting = pool.waiting.filter((w) => w[0] !== r.id);
          break;
        case 'blocked':
          release(pool, r.id, now, { unused: true });
          pause(`Unpod refused calls for the whole account: ${r.message}; then resume the run`);
          break;
        case 'attemptEnded': {
          release(pool, r.id, now, r.dialedAt ? { dialedAt: r.dialedAt } : {});
          s.attempts++;
          const t = open.get(r.taskId);
          if (t) {
            t.retryWaiting = true;
            t.nextAt = r.nextAt ?? 0;
          }
          break;
        }
        case 'final': {
          if (r.id) release(pool, r.id, now, r.dialedAt ? { dialedAt: r.dialedAt } : {});
          unwant(pool, r.taskId);
          if (!open.delete(r.taskId)) break; // a duplicate changes nothing
          untold.delete(r.taskId);
          if (r.dialedAt) s.attempts++;
          if (r.status in s.finals) s.finals[r.status as keyof typeof s.finals]++;
          const reason = r.endReason ?? 'NONE';
          endReasons[reason] = (endReasons[reason] ?? 0) + 1;
          if (r.unknownEndReason) countUnknownReason(s, r.unknownEndReason);
          break;
        }
      }
    }
    touch();
  });

  function progress(): CampaignProgress {
    let retriesWaiting = 0;
    for (const [id, t] of open) if (t.retryWaiting && !pool.held.some((h) => h[1] === id)) retriesWaiting++;
    const now = Date.now();
    const r = room(pool, now, cap);
    // Held back by the day only when the account's whole day is handed out, not while a quota is on its way.
    const share = pool.alloc?.day;
    const dayBlocked = share?.full === true && r.dayLeft === 0 && share.key === today(pool, now)?.key;
    let latest = 0;
    for (const t of open.values()) if (t.nextAt > now && t.nextAt > latest) latest = t.nextAt;
    const view = buildProgress(input, s, {
      open: open.size,
      ringing: 0,
      active: pool.held.length,
      retriesWaiting,
      waitingDay: dayBlocked
        ? pool.waiting.filter((w) => needsCount(pool, now, w[2] || null)).length +
          (s.paused || s.cancel ? 0 : Math.min(queue.length, Math.max(0, input.window - open.size)))
        : 0,
      done: isDone(),
    });
    return {
      ...view,
      nextAttemptLatest: latest ? new Date(latest).toISOString() : null,
      limits: pool.alloc?.limits ?? null,
    };
  }

  if (!input.state) {
    upsertSearchAttributes([
      { key: CampaignRunId, value: input.runId },
      { key: CampaignAccount, value: input.accountId },
      { key: CampaignSpace, value: input.spaceToken },
    ]);
    await preflight(input, s, pause);
  }

  // Runs before the patch: the demand's heartbeat was a loop of its own, one timer a period.
  if (!publishes) {
    void (async () => {
      for (;;) {
        await sleep(DEMAND_HEARTBEAT_MS);
        heartbeatFlag = true;
      }
    })();
  }

  /**
   * Writes the memo when the state or the total changed (a batch announced, the input closed), or when anything
   * changed and the interval has passed. The first is written by the main loop's first pass, once the preflight
   * is done (a reader queries the run until then); a continued run gets its memo from the run before.
   */
  function publish(): void {
    if (!publishes || !unpublished) return;
    const p = progress();
    const total = p.inputClosed ? -p.total - 2 : p.total;
    const due = p.state !== publishedState || total !== publishedTotal;
    if (!due && Date.now() - publishedAt < PROGRESS_MEMO_MS) return;
    upsertMemo({ [MEMO_PROGRESS]: p });
    publishedAt = Date.now();
    publishedState = p.state;
    publishedTotal = total;
    unpublished = false;
  }

  /**
   * When a contact's first attempt is due (its call time, then its window); null when it will not be made (the
   * task then says why). Due by now: it is started with a permit.
   */
  function plannedAt(c: Contact, now: number): number | null {
    const first = firstAttemptTime(c.callAt, now, Date.parse(input.createdAt), input.pastCallAt);
    if (first.kind !== 'at') return null;
    const plan = planAttempt({
      window: input.callingWindow,
      zone: windowZone(c.timezone, input.timezone),
      earliestMs: Math.max(first.atMs, now),
      deadlineMs: input.deadline ? Date.parse(input.deadline) : undefined,
    });
    return plan.kind === 'at' ? plan.atMs : null;
  }

  function taskInput(c: Contact, extra: Partial<TaskInput>): TaskInput {
    return {
      runId: input.runId,
      campaignWorkflowId: selfId,
      accountId: input.accountId,
      contact: c,
      call: input.call,
      policy: input.policy,
      callbackUrl: input.callbackUrl,
      hardCapMs: s.hardCapMs,
      protocol: LEAN_PROTOCOL,
      timing: taskTiming(input),
      ...extra,
    };
  }

  async function tellCancelChunk(): Promise<void> {
    const ids = [...untold].slice(0, TELL_CHUNK);
    const cancel = s.cancel!;
    await Promise.all(
      ids.map(async (id) => {
        try {
          await getExternalWorkflowHandle(id).signal(taskCancelSignal, cancel);
        } catch (err) {
          log.warn('could not signal task', { taskId: id, error: String(err) });
        }
      }),
    );
    for (const id of ids) untold.delete(id);
  }

  /**
   * Grants what the share allows: waiting tasks first (signals), then new contacts (started with a permit).
   * True when a chunk was full, so there may be more to grant at once.
   */
  async function grantAndStart(): Promise<boolean> {
    const now = Date.now();
    prune(pool, now, leaseMs());
    const grants: [string, LeanPermit][] = [];
    const starts: { workflowId: string; input: TaskInput }[] = [];
    if (!s.paused && !s.cancel && pool.alloc) {
      for (let i = 0; i < pool.waiting.length && grants.length < START_CHUNK;) {
        const [id, taskId, counted] = pool.waiting[i]!;
        const g = grant(pool, { id, taskId, countedDay: counted || null }, now, cap);
        if (g) {
          pool.waiting.splice(i, 1);
          grants.push([taskId, g]);
          continue;
        }
        const r = room(pool, now, cap);
        if (r.slots < 1 || r.tokens < 1) break;
        i++; // held back by the day's budget only: a retry counted today behind it may still go
      }
      while (starts.length < START_CHUNK && open.size < input.window && queue.length > 0) {
        const c = queue[0]!;
        const workflowId = callTaskWorkflowId(input.runId, c.phone);
        let permit: LeanPermit | undefined;
        const at = plannedAt(c, now);
        if (at !== null && at <= now) {
          permit =
            grant(pool, { id: permitId(workflowId, 1), taskId: workflowId, countedDay: null }, now, cap) ??
            undefined;
          if (!permit) break;
        }
        queue.shift();
        if (open.has(workflowId)) {
          if (permit) release(pool, permit.id, now, { unused: true });
          continue;
        }
        open.set(workflowId, { retryWaiting: false, nextAt: at !== null && at > now ? at : 0 });
        starts.push({ workflowId, input: taskInput(c, permit ? { permit } : {}) });
      }
    }
    // Skipped rows get a task of their own (their record), counted here: they report nothing.
    while (starts.length < START_CHUNK && !s.cancel && queueSkipped.length > 0) {
      const sk = queueSkipped.shift()!;
      const workflowId = callTaskWorkflowId(
        input.runId,
        sk.phone,
        sk.skipReason === 'duplicate' ? sk.line : undefined,
      );
      s.finals.skipped++;
      starts.push({
        workflowId,
        input: taskInput(sk, { skip: { reason: sk.skipReason, detail: sk.skipDetail } }),
      });
    }
    if (grants.length === 0 && starts.length === 0) return false;
    await Promise.all([
      ...grants.map(async ([taskId, g]) => {
        try {
          await getExternalWorkflowHandle(taskId).signal(leanPermitSignal, g);
        } catch (err) {
          // The task is gone (terminated): its permit is free again.
          log.warn('could not deliver a permit; released', { taskId, error: String(err) });
          release(pool, g.id, Date.now(), { unused: true });
          open.delete(taskId);
        }
      }),
      starts.length ? starting.startTasks({ tasks: starts }) : Promise.resolve(),
    ]);
    return grants.length >= START_CHUNK || starts.length >= START_CHUNK;
  }

  // ---- main loop ----
  for (;;) {
    publish(); // before the wait (and before the first pass's starts): what a reader sees is never behind
    const now = Date.now();
    const r = room(pool, now, cap);
    const work = pool.waiting.length > 0 || queue.length > 0;
    // Woken by reports, allocations and control; by time only when a rate token frees with work waiting, or
    // when a changed demand has waited out its interval.
    const wakes: number[] = [];
    if (work && !s.paused && r.tokens === 0 && r.tokenAt !== null) wakes.push(r.tokenAt);
    if (lastDemandAt > 0 && signature(demand()) !== lastDemandSig)
      wakes.push(lastDemandAt + DEMAND_MIN_INTERVAL_MS);
    // A permit whose task vanished is taken back at its lease's end.
    if (pool.held.length) wakes.push(Math.min(...pool.held.map((h) => leaseEnd(h, leaseMs()))));
    if (publishes) {
      if (lastDemandAt > 0) wakes.push(lastDemandAt + DEMAND_HEARTBEAT_MS);
      if (unpublished) wakes.push(publishedAt + PROGRESS_MEMO_MS);
    }
    const wakeMs = wakes.length ? Math.max(1, Math.min(...wakes) - now) : undefined;
    await condition(
      () => isDone() || dirty || untold.size > 0 || needsLoad() || shouldContinueAsNew() || heartbeatFlag,
      wakeMs,
    );
    dirty = false;
    if (isDone()) break;
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      s.announced = [...announced];
      s.untold = [...untold];
      s.open = [...open].map(([id, t]) =>
        t.nextAt
          ? [id, 'pending', t.retryWaiting ? 1 : 0, 0, t.nextAt]
          : [id, 'pending', t.retryWaiting ? 1 : 0],
      );
      s.continuedAsNew++;
      // The memo goes with the new run, so a reader never finds none while it starts.
      if (!publishes) await continueAsNew<typeof leanCampaign>({ ...input, state: s });
      await makeContinueAsNewFunc<typeof leanCampaign>({ memo: { [MEMO_PROGRESS]: progress() } })({
        ...input,
        state: s,
      });
    }
    if (untold.size > 0) {
      await tellCancelChunk();
      continue;
    }
    if (needsLoad()) {
      await loadNextBatch(input, s, announced);
      dirty = true;
    }
    if (await grantAndStart()) dirty = true;
    if (demandDue()) await sendDemand();
  }

  // Batches announced but never read (a canceled run) are released, so nothing stays open.
  for (const b of announced) await releaseBatch(input.runId, b);
  await sendDemand(true);
  await tellRunFinished(input, progress());
  await condition(allHandlersFinished);
  return progress();
}
