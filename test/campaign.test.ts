/**
 * The campaign engine end to end: a real Temporal dev server, a real worker, and the faithful simulator (no
 * webhooks, no idempotency): every end is found by the worker's watcher, or hurried by an agent's push.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { defaultPayloadConverter } from '@temporalio/common';
import { getProgress, listTasks, tasksQuery, toExportRow } from '../src/campaign/run-queries';
import { deliverBatches, startRun } from '../src/campaign/start-run';
import { cancelSignal, pauseSignal, resumeSignal } from '../workflows/definitions';
import { campaignWorkflowId } from '../workflows/ids';
import { contact, FAST_POLICY, startTestStack, UNLIMITED, type TestStack, waitForEnd } from './helpers/stack';

/** +1 415 555 01NN: the simulator decides the outcome by NN (src/simulator rule table). */
const num = (nn: string, block = '01') => `+1415555${block}${nn}`;

describe('campaign engine', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('calls every contact and follows the retry policy for each end_reason', async () => {
    const expected: Record<string, { status: string; reasons: string[] }> = {
      '00': { status: 'completed', reasons: ['USER_HUNG_UP_IN_CALL'] },
      '50': { status: 'completed', reasons: ['USER_DID_NOT_PICK_UP', 'USER_HUNG_UP_IN_CALL'] },
      '60': {
        status: 'failed',
        reasons: ['USER_DID_NOT_PICK_UP', 'USER_DID_NOT_PICK_UP', 'USER_DID_NOT_PICK_UP'],
      },
      '65': { status: 'completed', reasons: ['VOICEMAIL_DETECTED_PRECONNECT', 'USER_HUNG_UP_IN_CALL'] },
      '70': {
        status: 'failed',
        reasons: ['AGENT_HUNG_UP_VOICEMAIL_DETECTED', 'AGENT_HUNG_UP_VOICEMAIL_DETECTED'],
      },
      '73': {
        status: 'failed',
        reasons: ['USER_HUNG_UP_RINGING', 'USER_HUNG_UP_RINGING', 'USER_HUNG_UP_RINGING'],
      },
      '75': { status: 'failed', reasons: ['SIP_FAILED_WRONG_NUMBER'] },
      '78': { status: 'failed', reasons: ['SIP_FAILED_NUMBER_BLOCKED'] },
      '80': { status: 'completed', reasons: ['AGENT_HUNG_UP_SILENCE_DETECTED'] },
      '85': { status: 'completed', reasons: ['MAX_DURATION_REACHED'] },
      '87': { status: 'completed', reasons: ['IDLE_TIMEOUT', 'USER_HUNG_UP_IN_CALL'] },
      '90': { status: 'failed', reasons: ['SIP_TRUNK_CONFIG_ERROR', 'SIP_TRUNK_CONFIG_ERROR'] },
      '95': { status: 'completed', reasons: ['AGENT_END_CALL'] },
      '96': { status: 'completed', reasons: ['CUSTOMER_ENDED_CALL'] },
      '97': { status: 'completed', reasons: ['CALLER_HANGUP'] },
    };
    const contacts = Object.keys(expected).map((nn, i) => contact(num(nn), i + 2));
    const dup = {
      ...contact(num('00'), 20),
      skipReason: 'duplicate' as const,
      skipDetail: 'duplicate of line 2',
    };
    const runId = await stack.run(contacts, { skipped: [dup] });
    const progress = await waitForEnd(stack, runId);

    const tasks = await listTasks(stack.env.client, runId);
    const skipped = tasks.filter((t) => t.status === 'skipped');
    assert.deepEqual(
      skipped.map((t) => [t.line, t.reason]),
      [[20, 'duplicate: duplicate of line 2']],
    );
    assert.equal(skipped[0]!.attempts.length, 0, 'a skipped row is never dialed');
    const byPhone = new Map(tasks.filter((t) => t.status !== 'skipped').map((t) => [t.phone, t]));
    for (const [nn, want] of Object.entries(expected)) {
      const t = byPhone.get(num(nn));
      assert.ok(t, `task for ${nn}`);
      assert.equal(t.status, want.status, `${nn}: ${t.reason}`);
      assert.deepEqual(
        t.attempts.map((a) => a.endReason),
        want.reasons,
        `${nn} end reasons`,
      );
    }
    // No webhooks, no push: every end was found by the watcher (or was over by the time the create answered).
    const endedBy = new Set([...byPhone.values()].flatMap((t) => t.attempts.map((a) => a.endedBy)));
    assert.ok(
      [...endedBy].every((b) => b === 'watch' || b === 'create'),
      [...endedBy].join(','),
    );
    // Unpod's own reasons (agent_end_call…) are completions; a reason still unknown is counted in the status.
    assert.deepEqual(progress.unknownEndReasons, { SIP_TRUNK_CONFIG_ERROR: 1 });

    const completed = Object.values(expected).filter((e) => e.status === 'completed').length;
    const failed = Object.values(expected).length - completed;
    assert.equal(progress.total, contacts.length + 1);
    assert.equal(progress.counts.completed, completed);
    assert.equal(progress.counts.failed, failed);
    assert.equal(progress.counts.skipped, 1);
    assert.equal(progress.counts.pending, 0);
    const attempts = Object.values(expected).reduce((n, e) => n + e.reasons.length, 0);
    assert.equal(progress.attempts, attempts);

    // Every attempt dialed exactly once: the ledger holds one dial per attempt and no duplicates.
    const ledger = stack.simulator.ledger();
    const dials = ledger.dials.filter((d) => d.task_workflow_id?.includes(runId));
    assert.equal(dials.length, attempts);
    assert.deepEqual(ledger.duplicates, []);

    // Export: one row per contact, in list order, with status, attempts, end reasons and call ids.
    const rows = tasks.sort((a, b) => a.line - b.line).map(toExportRow);
    assert.equal(rows.length, contacts.length + 1);
    const row50 = rows.find((r) => r.phone === num('50') && r.status !== 'skipped')!;
    assert.equal(row50.status, 'completed');
    assert.equal(row50.attempts, 2);
    assert.equal(row50.end_reasons, 'USER_DID_NOT_PICK_UP|USER_HUNG_UP_IN_CALL');
    assert.deepEqual(
      row50.call_ids.split('|'),
      byPhone.get(num('50'))!.attempts.map((a) => a.callId),
    );
    assert.ok(Number(row50.duration_s) > 0);
    assert.match(row50.transcript, /agent: /i);
    assert.equal(rows.find((r) => r.line === 20)!.status, 'skipped');

    // Visibility: the run id search attribute lists the run's tasks.
    let listed = 0;
    for await (const _ of stack.env.client.workflow.list({ query: tasksQuery(runId) })) listed++;
    assert.equal(listed, contacts.length + 1);
  });

  it('hangs up a stuck call at the hard cap and counts it a failure', async () => {
    const runId = await stack.run([contact(num('98', '04'), 2)], {
      policy: { ...FAST_POLICY, maxCallMs: 1_500, pollIntervalMs: 500 },
    });
    const p = await waitForEnd(stack, runId);
    assert.equal(p.counts.failed, 1);
    const [t] = await listTasks(stack.env.client, runId);
    assert.equal(t!.attempts.length, 2, 'a hard-cap failure is retried once by the failure rule');
    assert.ok(t!.attempts.every((a) => a.endedBy === 'hard-cap' && a.endReason === 'CALL_HARD_CAP_EXCEEDED'));
  });

  it('stops the total attempts at the attempt cap', async () => {
    const policy = { ...FAST_POLICY, maxAttempts: 2, noAnswer: { maxRetries: 5, delayMs: 200 } };
    const runId = await stack.run([contact(num('61', '05'), 2)], { policy });
    await waitForEnd(stack, runId);
    const [t] = await listTasks(stack.env.client, runId);
    assert.equal(t!.status, 'failed');
    assert.equal(t!.attempts.length, 2);
    assert.match(t!.reason ?? '', /attempt cap of 2/);
  });

  it('pauses (no new dials), resumes, and finishes', async () => {
    const contacts = Array.from({ length: 6 }, (_, i) => contact(num(String(10 + i), '06'), i + 2));
    const runId = await stack.run(contacts, { window: 1 });
    const handle = stack.env.client.workflow.getHandle(campaignWorkflowId(runId));
    await handle.signal(pauseSignal);
    await delay(300);
    const dialsAtPause = stack.simulator
      .ledger()
      .dials.filter((d) => d.task_workflow_id?.includes(runId)).length;
    await delay(1_500);
    const p = await getProgress(stack.env.client, runId);
    assert.equal(p.state, 'paused');
    const dialsLater = stack.simulator
      .ledger()
      .dials.filter((d) => d.task_workflow_id?.includes(runId)).length;
    assert.equal(dialsLater, dialsAtPause, 'no dial while paused');
    assert.ok(dialsAtPause < contacts.length);
    await handle.signal(resumeSignal);
    const end = await waitForEnd(stack, runId);
    assert.equal(end.counts.completed, contacts.length);
  });

  it("starts tasks eagerly: the server hands a new task's first workflow task to the worker that started it", async () => {
    const contacts = Array.from({ length: 12 }, (_, i) => contact(num('05', String(30 + i)), i + 2));
    const runId = await stack.run(contacts, { window: 12 });
    const p = await waitForEnd(stack, runId);
    assert.equal(p.counts.completed, contacts.length);
    // What each startTasks returned is in the campaign's history.
    const history = await stack.env.client.workflow.getHandle(campaignWorkflowId(runId)).fetchHistory();
    const results = (history.events ?? [])
      .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0])
      .filter((x) => x !== undefined && x !== null)
      .map((x) => defaultPayloadConverter.fromPayload<Record<string, unknown>>(x))
      .filter((r) => typeof r?.['eagerly'] === 'number') as { started: number; eagerly: number }[];
    const started = results.reduce((a, r) => a + r.started, 0);
    const eagerly = results.reduce((a, r) => a + r.eagerly, 0);
    assert.equal(started, contacts.length);
    assert.ok(eagerly > 0, `none of ${started} was started eagerly`);
  });

  it('cancels: no new dials, calls in progress hung up, the rest counted canceled', async () => {
    const contacts = Array.from({ length: 5 }, (_, i) =>
      contact(num(String(98 - (i % 2)), String(10 + i)), i + 2),
    );
    const runId = await stack.run(
      contacts.map((c, i) => ({ ...c, phone: `+1415555${String(70 + i).padStart(2, '0')}98` })),
      { window: 2 },
    );
    // Wait until the two stuck calls are dialed.
    for (
      let i = 0;
      i < 50 && stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId)).length < 2;
      i++
    ) {
      await delay(100);
    }
    await stack.env.client.workflow
      .getHandle(campaignWorkflowId(runId))
      .signal(cancelSignal, { hangup: true });
    const p = await waitForEnd(stack, runId);
    assert.equal(p.state, 'canceled');
    const dials = stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
    assert.equal(dials.length, 2, 'nothing dialed after the cancel');
    assert.ok(
      dials.every((d) => d.end_reason === 'HANGUP_REQUESTED'),
      JSON.stringify(dials),
    );
    assert.equal(p.counts.canceled + p.counts.completed + p.counts.failed, contacts.length);
    assert.equal(p.counts.canceled >= 3, true);
  });

  it('loses nothing and dials nothing twice across a worker restart', async () => {
    const contacts = Array.from({ length: 30 }, (_, i) =>
      contact(`+14155557${String(i).padStart(3, '0')}`, i + 2),
    );
    const runId = await stack.run(contacts, { window: 10 });
    await delay(400);
    await stack.stopWorker();
    await delay(500);
    await stack.startWorker();
    const p = await waitForEnd(stack, runId, 90_000);
    const finished = p.counts.completed + p.counts.failed;
    assert.equal(finished, contacts.length);
    assert.deepEqual(stack.simulator.ledger().duplicates, []);
  });

  it('a start repeated with the id of a run that has ended runs nothing again (a retried schedule firing)', async () => {
    const contacts = [contact('+14155558000', 2), contact('+14155558001', 3)];
    const runId = await stack.run(contacts);
    await waitForEnd(stack, runId);
    const handle = stack.env.client.workflow.getHandle(campaignWorkflowId(runId));
    const ended = await handle.describe();
    const again = await startRun(
      stack.env.client,
      stack.taskQueue,
      {
        runId,
        accountId: `acct_${stack.taskQueue}`,
        limits: UNLIMITED,
        spaceToken: 'space_test',
        call: { pipeId: 'pipe_test', agentId: 'agent_test' },
        policy: FAST_POLICY,
        window: 50,
      },
      (async function* () {
        yield { batchNo: 1, contacts, skipped: [] };
      })(),
    );
    const newest = await handle.describe();
    assert.equal(newest.runId, ended.runId, 'no second run of the campaign');
    assert.equal(newest.status.name, 'COMPLETED');
    assert.equal(again.runId, runId);
    assert.equal(again.contacts, 0, 'nothing delivered to the ended run');
    await delay(2_000);
    const dials = stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
    assert.equal(dials.length, 2, JSON.stringify(dials.map((d) => d.to_number)));
    const p = await getProgress(stack.env.client, runId);
    assert.equal(p.state, 'completed');
    assert.equal(p.counts.completed, 2);
  });

  it('a repeated start that saw the run still running, and meets it ended while it delivers, delivers nothing and fails not', async () => {
    // The window CI met on the cluster: the run's progress said completed, describe still said RUNNING, and by
    // the time the batch was announced the run had closed ("workflow execution already completed").
    const contacts = [contact('+14155558010', 2)];
    const runId = await stack.run(contacts);
    await waitForEnd(stack, runId);
    const handle = stack.env.client.workflow.getHandle(campaignWorkflowId(runId));
    for (let i = 0; i < 100 && (await handle.describe()).status.name === 'RUNNING'; i++) await delay(100);
    let read = 0;
    const delivered = await deliverBatches(
      stack.env.client,
      stack.taskQueue,
      runId,
      (async function* () {
        for (const batchNo of [1, 2]) {
          read++;
          yield { batchNo, contacts, skipped: [] };
        }
      })(),
      { repeated: true },
    );
    assert.deepEqual(delivered, { batches: 0, contacts: 0 });
    assert.equal(read, 2, 'the list is read to its end');
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });
});

describe('a call that ends before its create returns', () => {
  let stack: TestStack;
  before(async () => {
    // The create answers only after the call has ended: the watcher must still find its end (by reading it).
    stack = await startTestStack(
      {},
      {
        wrapUnpod: (c) => {
          const calls = {
            ...c.calls,
            create: async (...args: Parameters<typeof c.calls.create>) => {
              const call = await c.calls.create(...args);
              await delay(1_500);
              return call;
            },
          };
          return Object.assign(Object.create(Object.getPrototypeOf(c) as object) as typeof c, c, { calls });
        },
      },
    );
  });
  after(async () => {
    await stack?.close();
  });

  it('is found by the watcher, which reads a call that is no longer listed', async () => {
    const runId = await stack.run([contact(num('02', '08'), 2)]);
    const p = await waitForEnd(stack, runId, 20_000);
    assert.equal(p.counts.completed, 1);
    const [t] = await listTasks(stack.env.client, runId);
    assert.equal(t!.attempts[0]!.endedBy, 'watch');
    assert.equal(t!.attempts[0]!.endReason, 'USER_HUNG_UP_IN_CALL');
  });
});

describe("an AgentRunner's call_end push", () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({}, { agentPush: true });
  });
  after(async () => {
    await stack?.close();
  });

  it('hurries the read: the end is taken from the push before the watcher lists again', async () => {
    // A watcher interval far longer than the run: only the push can end these calls in time.
    const runId = await stack.run(
      ['00', '01', '02'].map((nn, i) => contact(num(nn, '09'), i + 2)),
      { policy: { ...FAST_POLICY, pollIntervalMs: 60_000 } },
    );
    const p = await waitForEnd(stack, runId, 30_000);
    assert.equal(p.counts.completed, 3);
    const tasks = await listTasks(stack.env.client, runId);
    assert.ok(
      tasks.every((t) => t.attempts.every((a) => a.endedBy === 'push' || a.endedBy === 'create')),
      JSON.stringify(tasks.map((t) => t.attempts.map((a) => a.endedBy))),
    );
  });
});
