/**
 * The engine heals itself (issue "A self-healing, lean engine"): each scenario in its test's name, against a real
 * Temporal dev server and the simulator, which counts every limit violation the way Unpod would refuse it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure, decodeTimeoutType } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { getProgress, readEta } from '../src/campaign/run-queries';
import { limiterState, setLimits } from '../src/campaign/limits';
import { createCallActivities } from '../activities/calls';
import { CallWatcher } from '../src/unpod/call-watcher';
import { FAILURE_TYPES } from '../workflows/failures';
import { callTaskWorkflowId, campaignWorkflowId, limiterWorkflowId, permitId } from '../workflows/ids';
import {
  cancelSignal,
  leanPermitSignal,
  pauseSignal,
  resumeSignal,
  taskStatusQuery,
} from '../workflows/definitions';
import { startDevServer } from '../src/temporal/dev-server';
import {
  contact,
  dayLimitedSimulator,
  FAST_POLICY,
  startTestStack,
  type TestStack,
  waitForEnd,
} from './helpers/stack';

describe('tasks per day, counted on each day a task dials', () => {
  let stack: TestStack;
  // Long enough that a retry due a day after its first call lands well inside the next day, however slowly the
  // run starts and a freed share comes back (about 2 s on a loaded machine).
  const DAY = 6_000;
  before(async () => {
    stack = await startTestStack(dayLimitedSimulator(DAY, 1));
  });
  after(() => stack?.close());

  it('a retry dialed on the next day counts toward that day: one task a day, never two (no 429 from Unpod)', async () => {
    await delay(DAY - (Date.now() % DAY) + 50); // at the start of a day
    const dayOne = Date.now() - (Date.now() % DAY);
    const retried = contact('+14155571001', 2); // no answer on day 1, its retry due a day later, on day 2
    stack.simulator.script(retried.phone, [
      { endReason: 'NO_ANSWER', ringMs: 50, talkMs: 0 },
      { endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 100 },
    ]);
    // Due first thing on day 2 too. Only one of the two may dial that day; the other waits for day 3. (A task
    // counted once for ever would let the retry dial on day 2 beside it: two tasks that day.)
    const other = contact('+14155571002', 3, { callAt: new Date(dayOne + DAY + 100).toISOString() });
    stack.simulator.script(other.phone, [{ endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 100 }]);
    const runId = await stack.run([retried, other], {
      limits: { tasksPerDay: 1, dayMs: DAY, callsPerMinute: 10_000, concurrency: 100 },
      policy: { ...FAST_POLICY, noAnswer: { maxRetries: 1, delayMs: DAY } },
      window: 2,
    });
    const p = await waitForEnd(stack, runId, 60_000);
    assert.equal(p.counts.completed, 2);
    const ledger = stack.simulator.ledger();
    assert.deepEqual(ledger.violations, [], 'Unpod never had to refuse a task for the day');
    const tasksPerDay = new Map<number, Set<string>>();
    for (const d of ledger.dials) {
      const day = Math.floor(Date.parse(d.created_at) / DAY);
      tasksPerDay.set(day, (tasksPerDay.get(day) ?? new Set()).add(d.to_number));
    }
    assert.ok(
      [...tasksPerDay.values()].every((s) => s.size === 1),
      JSON.stringify([...tasksPerDay]),
    );
    assert.equal(ledger.dials.length, 3);
    // Each of the three dials on a day of its own: the retry is counted again on the day it dials.
    assert.equal(tasksPerDay.size, 3, JSON.stringify([...tasksPerDay]));
  });
});

describe('the account limiter can be lost', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      speed: 50,
      accounts: [
        {
          apiKey: 'sim_test_key',
          accountId: 'acct',
          callsPerMinute: 10_000,
          concurrency: 2,
          tasksPerDay: 100_000,
        },
      ],
    });
  });
  after(() => stack?.close());

  it('a limiter terminated mid-run: the run still finishes within the limits, and the new limiter keeps the limits set live', async () => {
    const account = `acct_${stack.taskQueue}`;
    await setLimits(stack.env.client, stack.taskQueue, account, {
      concurrency: 2,
      callsPerMinute: 10_000,
      tasksPerDay: null,
    });
    const contacts = Array.from({ length: 8 }, (_, i) => {
      const c = contact(`+1415557200${i}`, i + 2);
      stack.simulator.script(c.phone, [{ endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 1_000, talkMs: 20_000 }]);
      return c;
    });
    const runId = await stack.run(contacts, { window: 8 });
    for (let i = 0; i < 200 && stack.simulator.ledger().dials.length < 2; i++) await delay(50);
    const lost = stack.env.client.workflow.getHandle(limiterWorkflowId(account));
    const lostRunId = (await lost.describe()).runId;
    await lost.terminate('test: the limiter is lost');
    const p = await waitForEnd(stack, runId, 90_000);
    assert.equal(p.counts.completed, 8, 'every contact called');
    assert.deepEqual(stack.simulator.ledger().violations, [], 'never more than 2 calls at once');
    // The run started a new one (a terminated limiter still answers from its last state: not enough).
    const now = await stack.env.client.workflow.getHandle(limiterWorkflowId(account)).describe();
    assert.equal(now.status.name, 'RUNNING', 'a new limiter runs');
    assert.notEqual(now.runId, lostRunId, 'a new limiter runs');
    const view = await limiterState(stack.env.client, account);
    assert.ok(view);
    assert.equal(view.limits.concurrency, 2, 'the limits set live, not the defaults');
    assert.equal(view.limits.tasksPerDay, null);
  });

  it('limits with a zone that is not one are refused, naming the field, and no limiter is started with them', async () => {
    const account = `acct_zone_${stack.taskQueue}`;
    await assert.rejects(
      setLimits(stack.env.client, stack.taskQueue, account, { timezone: 'Mars/Olympus_Mons' }),
      /timezone/,
    );
    await assert.rejects(
      stack.env.client.workflow.getHandle(limiterWorkflowId(account)).describe(),
      WorkflowNotFoundError,
    );
  });

  it('a permit that ran out before its dial (a create retried too late) sends nothing to Unpod', async () => {
    const { createCall } = createCallActivities({
      unpod: stack.unpod,
      watcher: new CallWatcher(stack.unpod),
    });
    const before = stack.simulator.ledger().dials.length;
    const err = await new MockActivityEnvironment()
      .run(createCall, {
        taskWorkflowId: 'task-late',
        runId: 'R0',
        attempt: 1,
        pipeId: 'pipe_test',
        toNumber: '+14155573001',
        data: {},
        idempotencyKey: 'k',
        permit: { id: 'task-late#1.1', dialBy: Date.now() - 1, campaignWorkflowId: 'campaign-none' },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof ApplicationFailure && err.type === FAILURE_TYPES.permitExpired, String(err));
    assert.equal(stack.simulator.ledger().dials.length, before, 'no call was placed');
  });
});

describe('no fan-out of signals per waiting contact', () => {
  let stack: TestStack;
  const DAY = 6_000;
  before(async () => {
    // A server that refuses a workflow task sending more than 10 signals at once (the default is 2,000).
    const env = await startDevServer({ dynamicConfig: { 'limit.numPendingSignals.error': '10' } });
    stack = await startTestStack(dayLimitedSimulator(DAY, 10), { env });
  });
  after(() => stack?.close());

  it("the day's budget spent with 20 contacts waiting, on a server allowing 10 signals at once: each day's 10 go, none wedged", async () => {
    await delay(DAY - (Date.now() % DAY) + 50); // at the start of a day
    const contacts = Array.from({ length: 30 }, (_, i) => {
      const c = contact(`+1415557400${String(i).padStart(2, '0')}`, i + 2);
      stack.simulator.script(c.phone, [{ endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 100 }]);
      return c;
    });
    const runId = await stack.run(contacts, {
      limits: { tasksPerDay: 10, dayMs: DAY, callsPerMinute: 10_000, concurrency: 100 },
      window: 30,
    });
    const p = await waitForEnd(stack, runId, 45_000);
    assert.equal(p.counts.completed, 30);
    assert.deepEqual(stack.simulator.ledger().violations, []);
  });
});

describe('a worker that dies in the middle of starting tasks', () => {
  let stack: TestStack;
  // The first attempt of startTasks never ends and never heartbeats: what a SIGKILLed worker leaves behind.
  const hung: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== 'startTasks' || ctx.info.attempt > 1) return next(input);
        await new Promise((_, reject) =>
          ctx.cancellationSignal.addEventListener('abort', () => reject(ctx.cancellationSignal.reason)),
        );
        throw new Error('unreachable');
      },
    },
  });
  before(async () => {
    stack = await startTestStack({}, { activityInterceptors: [hung] });
  });
  after(() => stack?.close());

  it('the chunk it was starting is started again once its heartbeat stops, not after the minute its attempt may take', async () => {
    const contacts = Array.from({ length: 3 }, (_, i) => contact(`+1415557500${i}`, i + 2));
    const runId = await stack.run(contacts);
    const p = await waitForEnd(stack, runId, 90_000);
    assert.equal(p.counts.completed, 3);
    const history = await stack.env.client.workflow.getHandle(campaignWorkflowId(runId)).fetchHistory();
    const scheduled = new Map<string, string>();
    let retried: NonNullable<typeof history.events>[number]['activityTaskStartedEventAttributes'];
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
      const st = e.activityTaskStartedEventAttributes;
      if (st && scheduled.get(String(st.scheduledEventId)) === 'startTasks' && (st.attempt ?? 1) > 1)
        retried = st;
    }
    assert.ok(retried, 'the hung attempt was retried');
    assert.equal(
      decodeTimeoutType(retried.lastFailure?.timeoutFailureInfo?.timeoutType),
      'HEARTBEAT',
      `given up by its heartbeat: ${JSON.stringify(retried.lastFailure)}`,
    );
  });
});

describe('a worker that dies after starting tasks, before its attempt is recorded', () => {
  let stack: TestStack;
  // The first attempt of startTasks starts its chunk, then goes silent (killed before it could report): the retry
  // starts the same chunk again, after those tasks may already have called and ended.
  const diesAfterStarting: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== 'startTasks' || ctx.info.attempt > 1) return next(input);
        await next(input);
        await new Promise((_, reject) =>
          ctx.cancellationSignal.addEventListener('abort', () => reject(ctx.cancellationSignal.reason)),
        );
        throw new Error('unreachable');
      },
    },
  });
  before(async () => {
    stack = await startTestStack({}, { activityInterceptors: [diesAfterStarting] });
  });
  after(() => stack?.close());

  it('the retried chunk starts no task a second time: a task that already called and ended is not dialed again', async () => {
    const contacts = Array.from({ length: 3 }, (_, i) => {
      const c = contact(`+1415557510${i}`, i + 2);
      stack.simulator.script(c.phone, [{ endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 20, talkMs: 50 }]);
      return c;
    });
    const runId = await stack.run(contacts);
    const p = await waitForEnd(stack, runId, 90_000);
    assert.equal(p.counts.completed, 3);
    await delay(7_000); // past the first attempt's heartbeat timeout: the retry has run
    const ledger = stack.simulator.ledger();
    assert.deepEqual(ledger.duplicates, []);
    assert.equal(ledger.dials.filter((d) => d.task_workflow_id?.includes(runId)).length, 3);
  });
});

describe('a cancel that arrives while tasks are being started', () => {
  let stack: TestStack;
  let startsHeld: () => void = () => undefined;
  const startsBegan = new Promise<void>((resolve) => (startsHeld = resolve));
  // The first chunk's start is held for a second after it began: the cancel arrives while it is in flight.
  const slowStart: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== 'startTasks' || ctx.info.attempt > 1) return next(input);
        startsHeld();
        await delay(1_000);
        return next(input);
      },
    },
  });
  before(async () => {
    stack = await startTestStack({ speed: 1 }, { activityInterceptors: [slowStart] }); // calls last as scripted
  });
  after(() => stack?.close());

  it('misses none of them: each one started is told, hangs up, ends canceled; the limiter keeps no share for the run', async () => {
    const contacts = Array.from({ length: 5 }, (_, i) => {
      const c = contact(`+1415557520${i}`, i + 2);
      stack.simulator.script(c.phone, [{ endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 30_000 }]);
      return c;
    });
    const runId = await stack.run(contacts);
    await startsBegan;
    await stack.env.client.workflow
      .getHandle(campaignWorkflowId(runId))
      .signal(cancelSignal, { hangup: true });
    const p = await waitForEnd(stack, runId, 20_000); // a missed task would talk for 30 s, then retry
    assert.equal(p.state, 'canceled');
    assert.equal(p.counts.pending + p.counts.ringing + p.counts.active, 0, JSON.stringify(p.counts));
    assert.equal(p.counts.canceled, contacts.length, JSON.stringify(p.counts));
    const dials = stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
    assert.ok(dials.length <= contacts.length, `${dials.length} dials`);
    for (const d of dials) assert.equal(d.end_reason, 'HANGUP_REQUESTED', JSON.stringify(d));
    // The run is gone from its account's limiter, and a late report brings no share back.
    const account = `acct_${stack.taskQueue}`;
    const shareOf = async () =>
      (await limiterState(stack.env.client, account))?.shares?.find((sh) => sh.campaign.includes(runId));
    for (let i = 0; i < 50 && (await shareOf()); i++) await delay(200);
    assert.equal(await shareOf(), undefined, 'the ended run still has a share');
    await delay(3_000);
    assert.equal(await shareOf(), undefined, 'a share came back after the run ended');
  });
});

describe('a grant that arrives late', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ speed: 1 });
  });
  after(() => stack?.close());

  it("a grant for an earlier request (an attempt's first permit, a request given up) dials nothing: only the grant of the request waiting now does", async () => {
    const c = contact('+14155575300', 2);
    stack.simulator.script(c.phone, [
      { endReason: 'USER_DID_NOT_PICK_UP', ringMs: 1_500, talkMs: 0 },
      { endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 100 },
    ]);
    const runId = await stack.run([c]);
    const campaign = stack.env.client.workflow.getHandle(campaignWorkflowId(runId));
    const dials = () => stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
    for (let i = 0; i < 100 && dials().length < 1; i++) await delay(50);
    await campaign.signal(pauseSignal); // the retry's request then waits: the run grants nothing while paused
    for (let i = 0; i < 100 && !dials()[0]?.end_reason; i++) await delay(50);
    // Once the retry is due, the task asks for its second permit, and waits for it.
    const taskId = callTaskWorkflowId(runId, c.phone);
    const task = stack.env.client.workflow.getHandle(taskId);
    for (let i = 0; i < 100; i++) {
      const t = await task.query(taskStatusQuery);
      if (t.attempts.length === 1 && t.attempts[0]!.endedAt && t.nextAttemptAt === null) break;
      await delay(100);
    }
    await delay(500);
    const now = Date.now();
    for (const id of [permitId(taskId, 1), `${permitId(taskId, 2)}.0`])
      await task.signal(leanPermitSignal, { id, grantedAt: now, dialBy: now + 60_000, dayKey: null });
    await delay(2_000);
    assert.equal(dials().length, 1, 'a stale grant was dialed on');
    await campaign.signal(resumeSignal);
    const p = await waitForEnd(stack, runId, 20_000);
    assert.equal(p.counts.completed, 1);
    assert.equal(dials().length, 2);
    assert.deepEqual(stack.simulator.ledger().duplicates, []);
  });
});

describe('progress while no worker runs', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ speed: 1 }); // calls last as long as scripted
  });
  after(() => stack?.close());

  it("a running run's progress answers with its worker down (read from what the run published, not a query the worker must answer)", async () => {
    const contacts = Array.from({ length: 3 }, (_, i) => {
      const c = contact(`+1415557600${i}`, i + 2);
      stack.simulator.script(c.phone, [{ endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 12_000 }]);
      return c;
    });
    const runId = await stack.run(contacts);
    for (let i = 0; i < 200 && stack.simulator.ledger().dials.length < 3; i++) await delay(50);
    await delay(2_500); // past the memo's interval, so the dials are in it
    await stack.stopWorker();
    const answer = await Promise.race([
      getProgress(stack.env.client, runId).then(
        (p) => p,
        (e: unknown) => new Error(`failed: ${String(e)}`),
      ),
      delay(5_000).then(() => new Error('no answer in 5 s')),
    ]);
    assert.ok(!(answer instanceof Error), String(answer));
    assert.equal(answer.state, 'running');
    assert.equal(answer.total, 3);
    assert.equal(answer.counts.active, 3, JSON.stringify(answer.counts));
    await stack.startWorker();
    const p = await waitForEnd(stack, runId, 60_000);
    assert.equal(p.counts.completed, 3);
  });
  it("the account's limits answer with its worker down (read from the limiter's memo, not a query)", async () => {
    const account = `acct_view_${stack.taskQueue}`;
    await setLimits(stack.env.client, stack.taskQueue, account, { concurrency: 7 });
    await stack.stopWorker();
    try {
      const view = await Promise.race([
        limiterState(stack.env.client, account).then(
          (v) => v,
          (e: unknown) => new Error(`failed: ${String(e)}`),
        ),
        delay(5_000).then(() => new Error('no answer in 5 s')),
      ]);
      assert.ok(view && !(view instanceof Error), String(view));
      assert.equal(view.limits.concurrency, 7, 'the limits just set');
    } finally {
      await stack.startWorker();
    }
  });

  it("a running run's ETA answers with its worker down, and is no sooner than a retry due in a minute", async () => {
    const c = contact('+14155576100', 2);
    stack.simulator.script(c.phone, [
      { endReason: 'USER_DID_NOT_PICK_UP', ringMs: 50, talkMs: 0 },
      { endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 50, talkMs: 100 },
    ]);
    const runId = await stack.run([c], {
      policy: { ...FAST_POLICY, noAnswer: { maxRetries: 1, delayMs: 60_000 } },
    });
    let p = await getProgress(stack.env.client, runId);
    for (let i = 0; i < 100 && p.retriesWaiting < 1; i++) {
      await delay(100);
      p = await getProgress(stack.env.client, runId);
    }
    assert.equal(p.retriesWaiting, 1, 'the retry waits');
    await stack.stopWorker();
    const asked = Date.now();
    const eta = await Promise.race([
      readEta(stack.env.client, p).then(
        (e) => e,
        (e: unknown) => new Error(`failed: ${String(e)}`),
      ),
      delay(5_000).then(() => new Error('no answer in 5 s')),
    ]);
    assert.ok(typeof eta === 'string', String(eta));
    assert.ok(Date.parse(eta) >= asked + 50_000, `ETA ${eta} waits for the retry a minute away`);
    await stack.startWorker();
    await stack.env.client.workflow
      .getHandle(campaignWorkflowId(runId))
      .signal(cancelSignal, { hangup: true });
    await waitForEnd(stack, runId, 30_000);
  });
});
