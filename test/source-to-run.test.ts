/**
 * One path from a contact list to a run (src/campaign/start-from-list.ts): what each caller gets from it. Here:
 * a retry starts its new run over the contacts as they were, each with its own zone, instructions and call time
 * (before, it re-ingested them with region US and dropped those three).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { ingestContacts } from '../src/contacts';
import { startRunFromList } from '../src/campaign/start-from-list';
import { newRunId, type RunSettings } from '../src/campaign/start-run';
import { retryRun } from '../src/campaign/run-control';
import { batchContentsQuery } from '../workflows/definitions';
import { contactBatchWorkflowId } from '../workflows/ids';
import { contact, FAST_POLICY, startTestStack, UNLIMITED, type TestStack, waitForEnd } from './helpers/stack';

describe('one path from a list to a run', { timeout: 180_000 }, () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });
  /** A run of this stack's account over the test pipe, limits lifted. */
  const runSettings = (spaceToken: string, window: number): RunSettings => ({
    accountId: `acct_${stack.taskQueue}`,
    spaceToken,
    call: { pipeId: 'pipe_test' },
    policy: FAST_POLICY,
    window,
    limits: UNLIMITED,
  });

  it("retry carries each contact's own zone, instructions and call time", async () => {
    // +1 415 555 0175 / 0176: SIP_FAILED_WRONG_NUMBER at once (the simulator's rule table), never retried.
    const past = new Date(Date.now() - 60_000).toISOString();
    const failing = [
      contact('+14155550175', 2, {
        timezone: 'Asia/Kolkata',
        instructions: 'Speak Hindi first',
        callAt: past,
      }),
      contact('+14155550176', 3, { timezone: 'Europe/Berlin', instructions: 'Ask for Dr. Weber' }),
    ];
    const runId = await stack.run(failing, { policy: FAST_POLICY, limits: UNLIMITED });
    await waitForEnd(stack, runId);

    const retried = await retryRun(
      stack.env.client,
      stack.taskQueue,
      runId,
      'failed',
      runSettings('space_retry', 10),
    );
    assert.ok(retried, 'a new run');
    assert.equal(retried.retried, 2);
    const batch = await stack.env.client.workflow
      .getHandle(contactBatchWorkflowId(retried.runId, 1))
      .query(batchContentsQuery);
    const byPhone = new Map(batch.contacts.map((c) => [c.phone, c]));
    for (const c of failing) {
      const got = byPhone.get(c.phone);
      assert.ok(got, `${c.phone} is in the retry`);
      assert.equal(got.timezone, c.timezone, `${c.phone}: its zone`);
      assert.equal(got.instructions, c.instructions, `${c.phone}: its instructions`);
      assert.equal(got.callAt, c.callAt, `${c.phone}: its call time`);
      assert.equal(got.name, c.name);
      assert.deepEqual(got.metadata, c.metadata);
    }
    await waitForEnd(stack, retried.runId);
  });

  it('a list started again under the id of a run that has ended answers at once: nothing dialed, the list still summed up', async () => {
    // 600 rows: more than one batch, so a list nobody reads to its end would never finish its summary.
    const rows = Array.from({ length: 600 }, (_, i) => `+1415556${String(i).padStart(4, '0')},Contact ${i}`);
    const csv = () => Readable.from([`phone,name\n${rows.join('\n')}\n`]);
    const settings = { ...runSettings('space_repeat', 100), runId: newRunId() };
    const first = await startRunFromList(
      stack.env.client,
      stack.taskQueue,
      settings,
      ingestContacts(csv(), { defaultRegion: 'US' }),
    );
    await waitForEnd(stack, first.runId, 120_000);
    const dialed = stack.simulator
      .ledger()
      .dials.filter((d) => d.task_workflow_id?.includes(first.runId)).length;
    const again = await Promise.race([
      startRunFromList(
        stack.env.client,
        stack.taskQueue,
        settings,
        ingestContacts(csv(), { defaultRegion: 'US' }),
      ),
      delay(15_000).then(() => null),
    ]);
    assert.ok(again, 'no answer in 15 s');
    assert.equal(again.runId, first.runId);
    assert.equal(again.contacts, 0);
    assert.equal(again.summary.rows, 600);
    assert.equal(
      stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(first.runId)).length,
      dialed,
    );
  });
});
