/**
 * One path from a contact list to a run (src/campaign/start-from-list.ts): what each caller gets from it. Here:
 * a retry starts its new run over the contacts as they were, each with its own zone, instructions and call time
 * (before, it re-ingested them with region US and dropped those three).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { retryRun } from '../src/campaign/run-control';
import { getProgress } from '../src/campaign/run-queries';
import { batchContentsQuery } from '../workflows/definitions';
import { contactBatchWorkflowId } from '../workflows/ids';
import { contact, FAST_POLICY, startTestStack, UNLIMITED, type TestStack } from './helpers/stack';

async function waitForEnd(stack: TestStack, runId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await getProgress(stack.env.client, runId);
    if (p.state === 'completed' || p.state === 'canceled') return;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} did not end in ${timeoutMs} ms: ${JSON.stringify(p)}`);
    await delay(200);
  }
}

describe('one path from a list to a run', { timeout: 180_000 }, () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
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

    const retried = await retryRun(stack.env.client, stack.taskQueue, runId, 'failed', {
      accountId: `acct_${stack.taskQueue}`,
      spaceToken: 'space_retry',
      call: { pipeId: 'pipe_test' },
      policy: FAST_POLICY,
      window: 10,
      limits: UNLIMITED,
    });
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
});
