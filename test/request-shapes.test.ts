/**
 * The engine's own requests, recorded by the simulator while it runs campaigns (a plain run, a create whose
 * answer is lost and is then looked for, a cancel with hang-up, the preflight), held against what Unpod's SDK
 * sends — unpod 0.5.0, recorded by test/sdk-compat.test.ts into test/fixtures/unpod-sdk-0.5.0-requests.json:
 * - POST …/calls: `unpod/management/calls.py` create() — body fields within to_number, agent_id, pipe_id,
 *   from_number, instructions, data;
 * - GET …/calls/{id}: calls.py get(); GET …/calls?call_status=&pipe_id=: calls.py list();
 * - POST …/calls/{id}/hangup with no body: calls.py hangup();
 * - GET …/pipes/{id}: `unpod/management/pipes.py` get();
 * - headers: `unpod/management/_auth.py` BearerAuth and `_http.py` _headers() (Authorization, Content-Type,
 *   X-Request-Id).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { getProgress } from '../src/campaign/run-queries';
import { distinctShapes, requestShape, type RequestShape } from '../src/simulator';
import { cancelSignal } from '../workflows/definitions';
import { campaignWorkflowId } from '../workflows/ids';
import { contact, startTestStack, type TestStack } from './helpers/stack';

const SDK: RequestShape[] = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures', 'unpod-sdk-0.5.0-requests.json'), 'utf8'),
) as RequestShape[];
/** calls.py create(): the body fields it can send. */
const CREATE_FIELDS = ['agent_id', 'data', 'from_number', 'instructions', 'pipe_id', 'to_number'];

async function until(stack: TestStack, runId: string, states: string[]): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (states.includes((await getProgress(stack.env.client, runId)).state)) return;
    await delay(100);
  }
  throw new Error(`run ${runId} did not reach ${states.join('|')}`);
}

/** Until the run's first call is in the simulator's ledger. */
async function dialed(stack: TestStack, runId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (stack.simulator.ledger().dials.some((d) => d.task_workflow_id?.includes(runId))) return;
    await delay(50);
  }
  throw new Error(`run ${runId} dialed nothing`);
}

describe("the engine's requests match the SDK's", () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ recordRequests: true }, { landingDelayMs: 500 });
  });
  after(async () => {
    await stack?.close();
  });

  it('every request the engine sends has the shape the SDK gives that request', async () => {
    // A plain run, with a from-number.
    const plain = await stack.run([contact('+14155557001', 2)], {
      call: { pipeId: 'pipe_test', fromNumber: '+14155550199' },
    });
    await until(stack, plain, ['completed']);
    // A create whose answer is lost: the task lists live calls of the pipe (and, not finding it there, the pipe).
    stack.simulator.setFaults({
      lostAnswerRate: 1,
      paths: ['/api/v2/platform/speech/v1/calls'],
      methods: ['POST'],
    });
    const lost = await stack.run([contact('+14155557002', 2)]);
    await dialed(stack, lost);
    stack.simulator.setFaults({});
    await until(stack, lost, ['completed']);
    // A stuck call, canceled with hang-up.
    const stuck = await stack.run([contact('+14155557098', 2)]);
    await dialed(stack, stuck);
    await stack.env.client.workflow
      .getHandle(campaignWorkflowId(stuck))
      .signal(cancelSignal, { hangup: true });
    await until(stack, stuck, ['canceled']);

    const ours = distinctShapes(stack.simulator.requests().map(requestShape));
    const kinds = new Set(ours.map((s) => `${s.method} ${s.path}`));
    for (const k of [
      'POST /api/v2/platform/speech/v1/calls',
      'GET /api/v2/platform/speech/v1/calls/{id}',
      'GET /api/v2/platform/speech/v1/calls',
      'POST /api/v2/platform/speech/v1/calls/{id}/hangup',
      'GET /api/v2/platform/speech/v1/pipes/{id}',
    ])
      assert.ok(kinds.has(k), `the engine sent ${k} during these runs (saw: ${[...kinds].join(', ')})`);

    for (const s of ours) {
      const same = SDK.filter((x) => x.method === s.method && x.path === s.path && x.auth === s.auth);
      assert.ok(same.length > 0, `the SDK sends ${s.method} ${s.path} with ${s.auth} auth`);
      assert.ok(
        same.some((x) => JSON.stringify(x.headers) === JSON.stringify(s.headers)),
        `${s.method} ${s.path}: headers ${s.headers.join(',')} are the SDK's (${same.map((x) => x.headers.join(',')).join(' | ')})`,
      );
      const sdkQuery = new Set(same.flatMap((x) => x.query));
      assert.ok(
        s.query.every((q) => sdkQuery.has(q)),
        `${s.method} ${s.path}: query ${s.query.join(',')} within the SDK's ${[...sdkQuery].join(',')}`,
      );
      if (s.method === 'POST' && s.path.endsWith('/calls')) {
        assert.ok(
          s.body?.every((f) => CREATE_FIELDS.includes(f)),
          `create body fields ${s.body?.join(',')}`,
        );
        assert.ok(s.body?.includes('to_number') && s.body.includes('data'));
      } else {
        assert.equal(s.body, null, `${s.method} ${s.path} sends no body, as the SDK`);
      }
    }
  });
});
