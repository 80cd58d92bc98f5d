/**
 * Plan limits end to end: the account limiter against the simulator, which enforces the same limits on its own
 * and counts every violation in its ledger. Windows and days are shortened (the same on both sides).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { limiterState, setLimits } from '../src/campaign/limits';
import { callTaskWorkflowId } from '../workflows/ids';
import {
  contact,
  dayLimitedSimulator,
  FAST_POLICY,
  startTestStack,
  type TestStack,
  waitForEnd,
} from './helpers/stack';

const answered = (block: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    contact(`+1415556${String(block).padStart(2, '0')}${String(i).padStart(2, '0')}`, i + 2),
  );

describe('plan limits', () => {
  describe('calls per minute and concurrency, two campaigns on one account', () => {
    let stack: TestStack;
    const WINDOW = 2_000;
    before(async () => {
      stack = await startTestStack({
        speed: 300,
        rateWindowMs: WINDOW,
        accounts: [
          {
            apiKey: 'sim_test_key',
            accountId: 'acct',
            callsPerMinute: 8,
            concurrency: 3,
            tasksPerDay: 100_000,
          },
        ],
      });
    });
    after(() => stack?.close());

    it('never exceeds either limit while both campaigns run, and finishes every contact', async () => {
      const limits = { callsPerMinute: 8, concurrency: 3, tasksPerDay: null, windowMs: WINDOW };
      const [a, b] = await Promise.all([
        stack.run(answered(10, 12), { limits }),
        stack.run(answered(11, 12), { limits }),
      ]);
      const [pa, pb] = await Promise.all([waitForEnd(stack, a), waitForEnd(stack, b)]);
      assert.equal(pa.counts.completed, 12);
      assert.equal(pb.counts.completed, 12);
      const ledger = stack.simulator.ledger();
      assert.equal(ledger.dials.length, 24);
      assert.deepEqual(ledger.violations, []);
      // Both campaigns were served side by side, not one after the other.
      const order = ledger.dials.map((d) => (d.task_workflow_id!.includes(a) ? 'a' : 'b'));
      const firstB = order.indexOf('b');
      const lastA = order.lastIndexOf('a');
      assert.ok(firstB < lastA, `interleaved: ${order.join('')}`);
      // The limiter's view is the memo it publishes every 2 s at most: it catches up with the runs' last reports.
      let view = await limiterState(stack.env.client, pa.accountId);
      for (let i = 0; i < 50 && (view!.inUse > 0 || view!.stats.granted < 24); i++) {
        await delay(100);
        view = await limiterState(stack.env.client, pa.accountId);
      }
      // One permit per dial, plus one more for each dial refused past its grace (asked again under load).
      assert.ok(view!.stats.granted >= 24, `granted ${view!.stats.granted}`);
      assert.equal(view!.stats.granted - view!.stats.released, 0);
      assert.equal(view!.inUse, 0, 'every permit released');
    });
  });

  describe('tasks per day', () => {
    let stack: TestStack;
    const DAY = 4_000;
    before(async () => {
      stack = await startTestStack(dayLimitedSimulator(DAY, 4));
    });
    after(() => stack?.close());

    it('waits for the next day when the budget is spent, says so in status, and counts a retried task once', async () => {
      // Align to the start of a day so the first four land in one day.
      await delay(DAY - (Date.now() % DAY) + 50);
      const contacts = [...answered(20, 3), contact('+14155562050', 5)]; // the last: no answer, then answered
      contacts.push(...answered(21, 3).map((c, i) => ({ ...c, line: 6 + i })));
      const runId = await stack.run(contacts, {
        limits: { tasksPerDay: 4, dayMs: DAY, callsPerMinute: 10_000, concurrency: 100 },
        policy: { ...FAST_POLICY, noAnswer: { maxRetries: 2, delayMs: 100 } },
      });
      let sawWaiting = 0;
      const p = await waitForEnd(
        stack,
        runId,
        30_000,
        (x) => (sawWaiting = Math.max(sawWaiting, x.waitingForDailyBudget)),
      );
      assert.equal(p.counts.completed, 7);
      assert.equal(sawWaiting, 3, 'three tasks waited for the next day, and status said so');
      const ledger = stack.simulator.ledger();
      assert.deepEqual(ledger.violations, []);
      assert.equal(ledger.dials.length, 8, 'seven tasks, one of them twice');
      // First attempts: four the first day, three the next. The retried task counted once, so its second dial may
      // land on either day or later (a slower server spreads the run over a third short test day).
      const firstsPerDay = new Map<number, number>();
      for (const d of ledger.dials.filter((x) => x.attempt === 1)) {
        const day = Math.floor(Date.parse(d.created_at) / DAY);
        firstsPerDay.set(day, (firstsPerDay.get(day) ?? 0) + 1);
      }
      assert.deepEqual([...firstsPerDay.values()], [4, 3], JSON.stringify([...firstsPerDay]));
    });
  });

  describe('leases and live changes', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startTestStack({
        speed: 300,
        accounts: [
          {
            apiKey: 'sim_test_key',
            accountId: 'acct',
            callsPerMinute: 10_000,
            concurrency: 100,
            tasksPerDay: 100_000,
          },
        ],
      });
    });
    after(() => stack?.close());

    it('takes back the permit of a task that was killed while holding it', async () => {
      const policy = { ...FAST_POLICY, maxCallMs: 2_000, pollIntervalMs: 500 };
      const limits = { concurrency: 1, callsPerMinute: 10_000, tasksPerDay: null };
      const stuck = contact('+14155563098', 2); // never ends
      const next = contact('+14155563001', 2);
      const first = await stack.run([stuck], { limits, policy });
      for (
        let i = 0;
        i < 100 && !stack.simulator.ledger().dials.some((d) => d.to_number === stuck.phone);
        i++
      )
        await delay(50);
      const stuckDial = stack.simulator.ledger().dials.find((d) => d.to_number === stuck.phone);
      assert.ok(stuckDial, 'the stuck contact was dialed');
      await stack.env.client.workflow
        .getHandle(callTaskWorkflowId(first, stuck.phone))
        .terminate('test: dies holding its permit');
      // A second run on the same account (concurrency 1) can dial only once the dead task's lease expires.
      const second = await stack.run([next], { limits, policy });
      const p = await waitForEnd(stack, second, 20_000);
      assert.equal(p.counts.completed, 1);
      const dial = stack.simulator.ledger().dials.find((d) => d.to_number === next.phone)!;
      // TTL = maxCallMs + pollInterval + min(2 min, maxCallMs) = 4.5 s from the stuck call's grant.
      const gap = Date.parse(dial.created_at) - Date.parse(stuckDial.created_at);
      assert.ok(gap >= 4_000, `the next dial waited for the lease to expire (gap ${gap} ms)`);
      // The limiter's view is its memo (2 s at most behind): wait for it to show the lease taken back.
      let view = await limiterState(stack.env.client, `acct_${stack.taskQueue}`);
      for (let i = 0; i < 50 && view!.stats.expired < 1; i++) {
        await delay(100);
        view = await limiterState(stack.env.client, `acct_${stack.taskQueue}`);
      }
      assert.equal(view!.stats.expired, 1);
    });

    it('applies a limit changed live to the tasks already waiting', async () => {
      const account = `acct_${stack.taskQueue}`;
      const runId = await stack.run(answered(40, 6), {
        limits: { concurrency: 1, callsPerMinute: 1, tasksPerDay: null },
      });
      // At 1 call a minute, one dial now and the next in a minute.
      for (
        let i = 0;
        i < 100 &&
        stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId)).length < 1;
        i++
      ) {
        await delay(50);
      }
      await delay(500);
      assert.equal(
        stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId)).length,
        1,
      );
      const changed = await setLimits(stack.env.client, stack.taskQueue, account, {
        callsPerMinute: 600,
        concurrency: 6,
      });
      assert.equal(changed.callsPerMinute, 600);
      const p = await waitForEnd(stack, runId, 15_000);
      assert.equal(p.counts.completed, 6, 'finished in seconds, not minutes');
    });
  });
});
