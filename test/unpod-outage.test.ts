/**
 * Issue 13 item 1, the scenario it reproduced: no webhooks, and every GET to Unpod (the list of live calls, a
 * call's read) answering 503 for longer than the old polling profile's ~151 s of retries. Then all five tasks
 * FAILED and the campaign stayed `running` with five pending. A task must wait out an outage for as long as its
 * call can live, and end with its report.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { contact, FAST_POLICY, startTestStack, waitForEnd, type TestStack } from './helpers/stack';

const OUTAGE_MS = 194_000; // as in the issue

describe('Unpod unreachable for reads', { timeout: 400_000 }, () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  it(`GETs answer 503 for ${OUTAGE_MS / 1000} s with every call in flight: every task waits it out, the run completes, each contact dialed once`, async () => {
    const contacts = Array.from({ length: 5 }, (_, i) => {
      const c = contact(`+1415556900${i}`, i + 2);
      // The simulator runs 1,000× fast: 1 s of ringing and 20 s of talk, real time.
      stack.simulator.script(c.phone, [
        { endReason: 'USER_HUNG_UP_IN_CALL', ringMs: 1_000_000, talkMs: 20_000_000 },
      ]);
      return c;
    });
    // The call's hard cap well past the outage: this is about reads failing, not about a call that never ends.
    const runId = await stack.run(contacts, { policy: { ...FAST_POLICY, maxCallMs: 30 * 60_000 } });
    for (let i = 0; i < 400 && stack.simulator.ledger().dials.length < contacts.length; i++) await delay(50);
    assert.equal(stack.simulator.ledger().dials.length, contacts.length, 'every contact dialed');
    // Then every read fails: the calls are answered and end during the outage, and nobody can see it.
    stack.simulator.setFaults({ errorRate: 1, methods: ['GET'] });
    const started = Date.now();
    await delay(Math.max(0, OUTAGE_MS - (Date.now() - started)));
    stack.simulator.setFaults({});
    const p = await waitForEnd(stack, runId, 120_000);
    assert.equal(p.counts.completed, contacts.length, `every contact completed: ${JSON.stringify(p.counts)}`);
    assert.equal(stack.simulator.ledger().dials.length, contacts.length, 'no contact dialed twice');
    assert.deepEqual(stack.simulator.ledger().duplicates, []);
  });
});
