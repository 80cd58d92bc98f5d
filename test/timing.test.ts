/**
 * Durable waits end to end: a contact's own call time, a call time already past, the deadline, and a calling
 * window that is closed now (the task sleeps until the exact opening in the contact's zone).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { listTasks } from '../src/campaign/run-queries';
import { cancelSignal, taskStatusQuery } from '../workflows/definitions';
import { nextWindowOpening, type CallingWindow } from '../workflows/calling-window';
import { callTaskWorkflowId, campaignWorkflowId } from '../workflows/ids';
import { contact, startTestStack, type TestStack, waitForEnd } from './helpers/stack';

describe('timing', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(() => stack?.close());

  it('dials a contact at its call_at, not before', async () => {
    const callAt = new Date(Date.now() + 2_500).toISOString();
    const c = contact('+14155557101', 2, { callAt });
    const runId = await stack.run([c]);
    const p = await waitForEnd(stack, runId, 30_000);
    assert.equal(p.counts.completed, 1);
    const dial = stack.simulator.ledger().dials.find((d) => d.to_number === c.phone)!;
    assert.ok(Date.parse(dial.created_at) >= Date.parse(callAt), `${dial.created_at} >= ${callAt}`);
  });

  it('skips a contact whose call time had passed when the run started, when told to', async () => {
    const past = contact('+14155557102', 2, { callAt: new Date(Date.now() - 60_000).toISOString() });
    const runId = await stack.run([past], { pastCallAt: 'skip' });
    const p = await waitForEnd(stack, runId, 30_000);
    assert.equal(p.counts.skipped, 1);
    const [t] = await listTasks(stack.env.client, runId);
    assert.match(t!.reason ?? '', /had already passed/);
    assert.equal(stack.simulator.ledger().dials.filter((d) => d.to_number === past.phone).length, 0);
  });

  it('calls a past call time at once by default', async () => {
    const past = contact('+14155557103', 2, { callAt: new Date(Date.now() - 60_000).toISOString() });
    const runId = await stack.run([past]);
    const p = await waitForEnd(stack, runId, 30_000);
    assert.equal(p.counts.completed, 1);
  });

  it('ends a task not reached by the deadline as expired, with the reason', async () => {
    const late = contact('+14155557104', 2, { callAt: new Date(Date.now() + 60_000).toISOString() });
    const runId = await stack.run([late], { deadline: new Date(Date.now() + 1_000).toISOString() });
    const p = await waitForEnd(stack, runId, 30_000);
    assert.equal(p.counts.expired, 1);
    const [t] = await listTasks(stack.env.client, runId);
    assert.equal(t!.status, 'expired');
    assert.match(t!.reason ?? '', /deadline/);
    assert.equal(stack.simulator.ledger().dials.filter((d) => d.to_number === late.phone).length, 0);
  });

  it('sleeps durably until the calling window opens in the contact zone', async () => {
    const zone = 'Asia/Kolkata';
    // A window open only on the day after tomorrow (in Kolkata), 10:00–12:00: closed now whatever the time.
    const weekday = (ms: number) =>
      ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(
        new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' }).format(ms),
      );
    const window: CallingWindow = {
      days: [weekday(Date.now() + 2 * 86_400_000)],
      start: '10:00',
      end: '12:00',
    };
    const c = contact('+14155557105', 2, { timezone: zone });
    const runId = await stack.run([c], { callingWindow: window });
    const task = stack.env.client.workflow.getHandle(callTaskWorkflowId(runId, c.phone));
    let next: string | null = null;
    for (let i = 0; i < 50 && !next; i++) {
      await delay(100);
      next = (await task.query(taskStatusQuery).catch(() => null))?.nextAttemptAt ?? null;
    }
    const expected = nextWindowOpening(window, zone, Date.now());
    assert.ok(next, 'the task says when it will call');
    assert.ok(
      Math.abs(Date.parse(next) - expected!) < 5_000,
      `${next} vs ${new Date(expected!).toISOString()}`,
    );
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hour: '2-digit',
      minute: '2-digit',
    }).format(Date.parse(next));
    assert.equal(local, '10:00', 'the window opens at 10:00 in Kolkata');
    assert.equal(
      stack.simulator.ledger().dials.filter((d) => d.to_number === c.phone).length,
      0,
      'not dialed',
    );
    await stack.env.client.workflow
      .getHandle(campaignWorkflowId(runId))
      .signal(cancelSignal, { hangup: false });
    const p = await waitForEnd(stack, runId, 30_000);
    assert.equal(p.counts.canceled, 1);
  });
});
