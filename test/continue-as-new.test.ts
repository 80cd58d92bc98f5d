/**
 * Campaigns and limiters that continue as new while the client is still talking to them. On a server that
 * suggests continue-as-new after a few dozen events, the campaign continues as new many times while its
 * batches are still being announced; every announcement must land (an update that reaches a run as it closes
 * is sent again) and every contact must be called exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { getProgress } from '../src/campaign/run-queries';
import { setLimits } from '../src/campaign/limits';
import {
  campaignLimitSettingsSignal,
  cancelSignal,
  pauseSignal,
  permitSignals,
  resumeSignal,
} from '../workflows/definitions';
import { accountLimiterWorkflow } from '../workflows/account-limiter';
import { DEFAULT_LIMITS, initialState } from '../workflows/limiter-core';
import { campaignWorkflowId, limiterWorkflowId } from '../workflows/ids';
import { contact, startTestStack, UNLIMITED, type TestStack } from './helpers/stack';
import { earlyContinueAsNewEnv } from './helpers/temporal';

/** Numbers the simulator answers at once (last two digits 00–49), unique per index. */
const answered = (i: number) => `+1415${String(Math.floor(i / 50) * 100 + (i % 50)).padStart(7, '0')}`;

describe('continue-as-new under live updates', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({}, { env: await earlyContinueAsNewEnv() });
  });
  after(async () => {
    await stack?.close();
  });

  it('announces every batch while the campaign continues as new, and calls each contact once', async () => {
    const n = 240;
    const contacts = Array.from({ length: n }, (_, i) => contact(answered(i), i + 2));
    // 80 batches of 3: the updates keep coming while the campaign continues as new every few batches.
    const runId = await stack.run(contacts, { batchSize: 3, window: 20 });
    const deadline = Date.now() + 120_000;
    let p = await getProgress(stack.env.client, runId);
    while (p.state !== 'completed' && Date.now() < deadline) {
      await delay(250);
      p = await getProgress(stack.env.client, runId);
    }
    assert.equal(p.state, 'completed', JSON.stringify(p));
    assert.equal(p.counts.completed, n);
    assert.ok(p.continuedAsNew >= 3, `the campaign continued as new ${p.continuedAsNew} times`);

    const runs = [];
    for await (const wf of stack.env.client.workflow.list({
      query: `WorkflowId = '${campaignWorkflowId(runId)}'`,
    }))
      runs.push(wf);
    assert.equal(runs.length, p.continuedAsNew + 1);

    const ledger = stack.simulator.ledger();
    const dialed = new Map<string, number>();
    for (const d of ledger.dials.filter((x) => x.task_workflow_id?.includes(runId)))
      dialed.set(d.to_number, (dialed.get(d.to_number) ?? 0) + 1);
    assert.equal(dialed.size, n, 'every contact dialed');
    assert.deepEqual(
      [...dialed].filter(([, times]) => times > 1),
      [],
      'no contact dialed twice',
    );
    assert.equal(ledger.duplicates.length, 0);
  });

  it('pause then resume while the campaign continues as new: nothing is dialed while paused, and every contact is called after the resume', async () => {
    // Each trial: 30 open tasks (window 30) on a campaign that continues as new every few events, paused and
    // resumed at once. Before, the signals were sent from the handlers without being awaited, and a
    // continue-as-new right after dropped some: those tasks never paused, or stayed paused for good.
    for (let trial = 0; trial < 8; trial++) {
      const contacts = Array.from({ length: 30 }, (_, i) => contact(answered(1_000 + trial * 30 + i), i + 2));
      const runId = await stack.run(contacts, { window: 30 });
      const handle = stack.env.client.workflow.getHandle(campaignWorkflowId(runId));
      await handle.signal(pauseSignal);
      await delay(600);
      const dialsAt = () =>
        stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId)).length;
      const before = dialsAt();
      await delay(700);
      assert.equal(dialsAt(), before, `trial ${trial}: no dial while paused`);
      await handle.signal(resumeSignal);
      const deadline = Date.now() + 60_000;
      let p = await getProgress(stack.env.client, runId);
      while (p.state !== 'completed' && Date.now() < deadline) {
        await delay(250);
        p = await getProgress(stack.env.client, runId);
      }
      assert.equal(p.state, 'completed', `trial ${trial}: ${JSON.stringify(p.counts)}`);
      assert.equal(p.counts.completed, 30);
    }
  });

  it('a cancel told to 150 open tasks in chunks of 100 while the campaign continues as new: every one is told, hangs up, ends canceled', async () => {
    // The first chunk's signals alone exceed the server's 60 events: the campaign continues as new between
    // chunks, and the tasks not yet told must be told by the next run.
    const n = 150;
    const stuck = (i: number) => `+1415${String(80_000 + i).padStart(5, '0')}98`; // never end until hung up
    const contacts = Array.from({ length: n }, (_, i) => contact(stuck(i), i + 2));
    const runId = await stack.run(contacts, { window: n });
    const dials = () => stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
    for (let i = 0; i < 600 && dials().length < n; i++) await delay(100);
    assert.equal(dials().length, n, 'every call is live before the cancel');
    const before = (await getProgress(stack.env.client, runId)).continuedAsNew;
    await stack.env.client.workflow
      .getHandle(campaignWorkflowId(runId))
      .signal(cancelSignal, { hangup: true });
    const deadline = Date.now() + 90_000;
    let p = await getProgress(stack.env.client, runId);
    while (p.state !== 'canceled' && Date.now() < deadline) {
      await delay(250);
      p = await getProgress(stack.env.client, runId);
    }
    assert.equal(p.state, 'canceled', JSON.stringify(p.counts));
    assert.equal(p.counts.canceled, n, JSON.stringify(p.counts));
    assert.ok(p.continuedAsNew > before, 'the campaign continued as new while it told them');
    assert.equal(dials().length, n, 'nothing dialed after the cancel');
    assert.deepEqual(
      dials().filter((d) => d.end_reason !== 'HANGUP_REQUESTED'),
      [],
      'every call hung up',
    );
  });

  it('changes the limits of a limiter that keeps continuing as new', async () => {
    const accountId = `acct_${stack.taskQueue}_limits`;
    for (let i = 0; i < 40; i++) {
      const limits = await setLimits(stack.env.client, stack.taskQueue, accountId, {
        ...UNLIMITED,
        callsPerMinute: 1_000 + i,
      });
      assert.equal(limits.callsPerMinute, 1_000 + i);
    }
    let runs = 0;
    for await (const _ of stack.env.client.workflow.list({
      query: `WorkflowId = '${limiterWorkflowId(accountId)}'`,
    }))
      runs++;
    assert.ok(runs >= 2, `the limiter continued as new (${runs} runs)`);
  });

  it('a request blocked by tasks/day is told it waits once, not again after its 0.2 limiter continues as new', async () => {
    const { client } = stack.env;
    const accountId = `acct_${stack.taskQueue}_told`;
    // The task that waits: any running workflow records the signals it is sent (here an idle limiter).
    const task = await client.workflow.start(accountLimiterWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: `told-task-${stack.taskQueue}`,
      args: [{ accountId: `${accountId}_other` }],
    });
    // A limiter of the 0.2 protocol (it carries `state`) with no task left for today.
    const limiter = await client.workflow.start(accountLimiterWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: limiterWorkflowId(accountId),
      args: [{ accountId, state: initialState({ ...DEFAULT_LIMITS, tasksPerDay: 0 }) }],
    });
    await limiter.signal(permitSignals.request, {
      id: 'told-p1',
      taskId: task.workflowId,
      campaign: 'told-campaign',
      firstAttempt: true,
      leaseTtlMs: 60_000,
    });
    // Changes that tell nobody anything, until the server's suggestion (60 events) makes it continue as new.
    const runsOf = async () => {
      let n = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowId = '${limiter.workflowId}'` })) n++;
      return n;
    };
    for (let i = 0; i < 200 && (await runsOf()) < 2; i++)
      await limiter.signal(campaignLimitSettingsSignal, { campaign: 'told-campaign', weight: 1 + (i % 2) });
    assert.ok((await runsOf()) >= 2, 'the limiter continued as new');
    await delay(3_000); // the new run's first workflow tasks
    const waitings = (await task.fetchHistory()).events?.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'permitWaiting',
    );
    assert.equal(waitings?.length, 1, 'told once that it waits for the next day');
    await limiter.terminate('test over');
    await task.terminate('test over');
  });
});
