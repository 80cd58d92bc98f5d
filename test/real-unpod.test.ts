/**
 * What the real Unpod makes necessary, against the faithful simulator (no idempotency, no webhooks):
 * - a create whose answer is lost, or that lands after the client's timeout, is found again by listing and
 *   adopted — exactly one call per attempt, never a second create;
 * - an account-wide refusal (no number, agent unpublished, no runner, bad key) pauses the run with the reason
 *   instead of failing contact after contact, and the run goes on after resume;
 * - `409 number_in_use` waits and tries again;
 * - the preflight refuses a pipe that does not exist or has no number, before anything is dialed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { getProgress, listTasks } from '../src/campaign/run-queries';
import { resumeSignal, type CampaignProgress } from '../workflows/definitions';
import { campaignWorkflowId } from '../workflows/ids';
import { contact, FAST_POLICY, startTestStack, type TestStack } from './helpers/stack';

async function waitFor(
  stack: TestStack,
  runId: string,
  done: (p: CampaignProgress) => boolean,
  timeoutMs = 60_000,
): Promise<CampaignProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await getProgress(stack.env.client, runId);
    if (done(p)) return p;
    if (Date.now() > deadline)
      throw new Error(`run ${runId}: condition not met in ${timeoutMs} ms: ${JSON.stringify(p)}`);
    await delay(150);
  }
}
const ended = (p: CampaignProgress) => p.state === 'completed' || p.state === 'canceled';
const dialsOf = (stack: TestStack, runId: string) =>
  stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
const num = (nn: string, block: string) => `+1415556${block}${nn}`;

describe('exactly one call per attempt without server idempotency', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({}, { landingDelayMs: 1_500 });
  });
  after(async () => {
    await stack?.close();
  });

  it('a create placed but whose answer was lost is found by listing and adopted, not placed again', async () => {
    stack.simulator.setFaults({ lostAnswerRate: 1, paths: ['/api/v2/platform/speech/v1/calls'] });
    const runId = await stack.run([contact(num('00', '10'), 2), contact(num('01', '10'), 3)]);
    // Both creates reached Unpod and placed calls; neither answer came back.
    for (let i = 0; i < 100 && dialsOf(stack, runId).length < 2; i++) await delay(50);
    stack.simulator.setFaults({});
    const p = await waitFor(stack, runId, ended);
    assert.equal(p.counts.completed, 2, JSON.stringify(p.counts));
    const dials = dialsOf(stack, runId);
    assert.equal(dials.length, 2, 'one call per contact: the lost ones were adopted');
    assert.deepEqual(stack.simulator.ledger().duplicates, []);
    const tasks = await listTasks(stack.env.client, runId);
    const adopted = tasks.map((t) => t.attempts[0]!.callId).sort();
    assert.deepEqual(adopted, dials.map((d) => d.call_id).sort(), 'the task holds the call Unpod placed');
    assert.ok(stack.simulator.ledger().counts.answers_lost >= 2);
  });

  it('a create that lands after the client gave up (a slow create) is adopted too', async () => {
    // The test client times out at 5 s; Unpod places the call at 6 s; the task lists after the landing delay.
    stack.simulator.setFaults({
      slowCreateRate: 1,
      slowCreateMs: 6_000,
      paths: ['/api/v2/platform/speech/v1/calls'],
    });
    const runId = await stack.run([contact(num('02', '11'), 2)]);
    for (let i = 0; i < 200 && dialsOf(stack, runId).length < 1; i++) await delay(50);
    stack.simulator.setFaults({});
    const p = await waitFor(stack, runId, ended);
    assert.equal(p.counts.completed, 1, JSON.stringify(p.counts));
    assert.equal(dialsOf(stack, runId).length, 1);
    assert.deepEqual(stack.simulator.ledger().duplicates, []);
  });

  it('a 503 before anything was placed is created again once it has been looked for', async () => {
    stack.simulator.setFaults({ errorRate: 1, paths: ['/api/v2/platform/speech/v1/calls'] });
    const runId = await stack.run([contact(num('03', '12'), 2)]);
    await delay(1_500);
    assert.equal(dialsOf(stack, runId).length, 0);
    stack.simulator.setFaults({});
    const p = await waitFor(stack, runId, ended);
    assert.equal(p.counts.completed, 1);
    assert.equal(dialsOf(stack, runId).length, 1);
  });
});

describe('account-wide refusals pause the run', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  for (const [block, kind, words] of [
    ['21', 'no_from_number', /phone number attached/],
    ['22', 'playbook_not_published', /not published/],
    ['23', 'no_worker_available', /AgentRunner/],
    ['24', 'unauthorized', /API key/],
  ] as const) {
    it(`${kind}: the run pauses with the reason, fails no contact, and finishes after resume`, async () => {
      stack.simulator.setAccountFailure('acct_default', kind);
      const contacts = ['10', '11', '12', '13'].map((nn, i) => contact(num(nn, block), i + 2));
      const runId = await stack.run(contacts, { window: 4 });
      const paused = await waitFor(stack, runId, (p) => p.state === 'paused', 30_000);
      assert.match(paused.pausedReason ?? '', words);
      await delay(500);
      const still = await getProgress(stack.env.client, runId);
      assert.equal(still.counts.failed, 0, 'no contact was failed for an account-wide condition');
      assert.equal(dialsOf(stack, runId).length, 0);
      stack.simulator.setAccountFailure('acct_default', null);
      await stack.env.client.workflow.getHandle(campaignWorkflowId(runId)).signal(resumeSignal);
      const p = await waitFor(stack, runId, ended);
      assert.equal(p.counts.completed, 4, JSON.stringify(p.counts));
      assert.equal(p.pausedReason, null);
      assert.equal(dialsOf(stack, runId).length, 4);
    });
  }

  it('409 number_in_use waits and tries again; nothing fails, one call', async () => {
    stack.simulator.setAccountFailure('acct_default', 'number_in_use');
    const runId = await stack.run([contact(num('20', '30'), 2)]);
    await delay(1_500);
    assert.equal(dialsOf(stack, runId).length, 0);
    stack.simulator.setAccountFailure('acct_default', null);
    const p = await waitFor(stack, runId, ended);
    assert.equal(p.counts.completed, 1);
    assert.equal(dialsOf(stack, runId).length, 1);
  });
});

describe('the preflight', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      pipes: [
        { pipeId: 'pipe_test', agentId: 'agent_test' },
        { pipeId: 'pipe_nonum', number: null },
        { pipeId: 'pipe_short', maxCallDurationS: 1 },
      ],
    });
  });
  after(async () => {
    await stack?.close();
  });

  it('a pipe that does not exist pauses the run before anything is dialed, naming the pipe', async () => {
    const runId = await stack.run([contact(num('40', '40'), 2)], { call: { pipeId: 'pipe_missing' } });
    const p = await waitFor(stack, runId, (x) => x.state === 'paused', 30_000);
    assert.match(p.pausedReason ?? '', /pipe "pipe_missing" does not exist/);
    assert.equal(dialsOf(stack, runId).length, 0);
    assert.equal(p.counts.pending, 1);
  });

  it('a pipe with no number and no from-number pauses it; a from-number lets it dial', async () => {
    const runId = await stack.run([contact(num('41', '41'), 2)], { call: { pipeId: 'pipe_nonum' } });
    const p = await waitFor(stack, runId, (x) => x.state === 'paused', 30_000);
    assert.match(p.pausedReason ?? '', /no phone number attached/);
    const ok = await stack.run([contact(num('42', '42'), 2)], {
      call: { pipeId: 'pipe_nonum', fromNumber: '+14155550199' },
    });
    const done = await waitFor(stack, ok, ended);
    assert.equal(done.counts.completed, 1);
  });

  it("the hard cap follows the pipe's max_call_duration_s (plus ringing) when the policy sets none", async () => {
    const { maxCallMs: _none, ...policy } = FAST_POLICY;
    const short = await stack.run([contact(num('01', '43'), 2)], { call: { pipeId: 'pipe_short' }, policy });
    const dflt = await stack.run([contact(num('02', '43'), 2)], { policy });
    const own = await stack.run([contact(num('03', '43'), 2)], { call: { pipeId: 'pipe_short' } });
    const caps: (number | undefined)[] = [];
    for (const runId of [short, dflt, own]) {
      await waitFor(stack, runId, ended);
      caps.push((await listTasks(stack.env.client, runId))[0]!.hardCapMs);
    }
    assert.deepEqual(caps, [1_000 + 120_000, 3_600_000 + 120_000, FAST_POLICY.maxCallMs]);
  });
});
