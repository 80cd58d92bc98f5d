/**
 * The HTTP server against a real Temporal dev server (test/helpers/temporal.ts) and a real worker running a
 * test-only workflow (test/fixtures/push-target.workflow.ts) that records the signals it gets. Agent pushes go
 * through a real listening server with undici.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { request } from 'undici';
import { startHttpServer, type RunningHttpServer } from '../src/http/serve';
import { buildHttpServer } from '../src/http/server';
import {
  AGENT_PUSH_PATH,
  DATA_TASK_ID,
  PUSH_SIGNATURE_HEADER,
  PUSH_TIMESTAMP_HEADER,
} from '../src/unpod/paths';
import { signWebhook } from '../src/unpod/webhook-signature';
import { receivedQuery, stopSignal, pushTargetWorkflow } from './fixtures/push-target.workflow';
import { testEnv, uniqueTaskQueue } from './helpers/temporal';

/** Response bodies are read loosely; each assertion names the field it checks. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = Record<string, any>;

const SECRET = 'push_test_secret_0123456789abcdef';

/** A workflow id of the task-id form (workflows/ids.ts): the only kind the push endpoint routes to. */
const taskId = () => `task-R${randomBytes(16).toString('hex')}-14155552671`;

function pushBody(workflowId: string | undefined, callId = `call_${randomUUID().slice(0, 8)}`): string {
  return JSON.stringify({
    event: 'call_end',
    call_id: callId,
    final_state: 'ended',
    data:
      workflowId === undefined
        ? { contact_name: 'Ada' }
        : { [DATA_TASK_ID]: workflowId, contact_name: 'Ada' },
  });
}

function signedHeaders(
  body: string,
  opts: { secret?: string; timestampS?: number } = {},
): Record<string, string> {
  const t = opts.timestampS ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    [PUSH_TIMESTAMP_HEADER]: String(t),
    [PUSH_SIGNATURE_HEADER]: signWebhook(opts.secret ?? SECRET, t, body),
  };
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await request(`${url}${AGENT_PUSH_PATH}`, { method: 'POST', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) as JsonBody, text };
}

async function get(url: string, path: string) {
  const res = await request(`${url}${path}`);
  return { status: res.statusCode, json: (await res.body.json()) as JsonBody };
}

function assertErrorShape(body: JsonBody, code: string): void {
  assert.equal(body.error?.code, code);
  assert.equal(typeof body.error?.message, 'string');
  assert.ok(!/\bat .+:\d+:\d+/.test(JSON.stringify(body)), 'no stack trace in the body');
}

void describe('HTTP server', () => {
  let env: TestWorkflowEnvironment;
  let taskQueue: string;
  let server: RunningHttpServer;
  const logLines: string[] = [];

  before(async () => {
    env = await testEnv();
    taskQueue = uniqueTaskQueue('http');
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      temporal: env.client,
      taskQueue,
      agentPushSecret: SECRET,
      logger: { level: 'trace', stream: { write: (line: string) => void logLines.push(line) } },
    });
  });

  after(async () => {
    await server?.close();
    await env?.teardown();
  });

  void test('GET /health answers 200 {status: ok}', async () => {
    const res = await get(server.url, '/health');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  void test('GET /ready is 503 naming the worker check while no worker polls the task queue', async () => {
    const res = await get(server.url, '/ready');
    assert.equal(res.status, 503);
    assert.equal(res.json.status, 'not_ready');
    assert.equal(res.json.checks.temporal, 'ok');
    assert.equal(res.json.checks.worker, 'no_pollers');
    assert.equal(res.json.error.code, 'no_worker');
  });

  void test('unknown routes get the error shape; the old webhook route is gone', async () => {
    const res = await get(server.url, '/nope');
    assert.equal(res.status, 404);
    assertErrorShape(res.json, 'not_found');
    const old = await request(`${server.url}/webhooks/unpod`, { method: 'POST', body: '{}' });
    assert.equal(old.statusCode, 404);
    await old.body.dump();
  });

  void test('with a worker polling the task queue', async (t) => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/push-target.workflow'),
    });

    await worker.runUntil(async () => {
      const started: string[] = [];
      const startTarget = async (id = taskId()) => {
        const handle = await env.client.workflow.start(pushTargetWorkflow, { workflowId: id, taskQueue });
        started.push(id);
        return handle;
      };
      const received = (id: string) => env.client.workflow.getHandle(id).query(receivedQuery);

      await t.test('GET /ready is 200 with both checks ok', async () => {
        // The server lists a poller once the worker's first long poll reaches it: allow a moment under load.
        let res = await get(server.url, '/ready');
        for (let i = 0; i < 50 && res.status !== 200; i++) {
          await new Promise((r) => setTimeout(r, 100));
          res = await get(server.url, '/ready');
        }
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { status: 'ready', checks: { temporal: 'ok', worker: 'ok' } });
      });

      await t.test('a signed push is routed to its task as callEndHint {callId}, nothing more', async () => {
        const handle = await startTarget();
        const body = pushBody(handle.workflowId, 'call_ended_1');
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        assert.deepEqual(res.json, { routed: true, workflowId: handle.workflowId });
        assert.deepEqual(await received(handle.workflowId), [{ callId: 'call_ended_1' }]);
      });

      const refused: [string, () => Promise<{ status: number; json: JsonBody }>, number, string][] = [];
      const target = await startTarget();
      const body = pushBody(target.workflowId);
      refused.push(
        [
          'a forged signature (wrong secret)',
          () =>
            post(server.url, body, signedHeaders(body, { secret: 'guess_guess_guess_guess_guess_guess' })),
          401,
          'invalid_signature',
        ],
        [
          'a missing signature header',
          () => post(server.url, body, { 'content-type': 'application/json' }),
          401,
          'invalid_signature',
        ],
        [
          'a tampered body (signed, then changed)',
          () => post(server.url, body.replace('Ada', 'Eve'), signedHeaders(body)),
          401,
          'invalid_signature',
        ],
        [
          'a replay (timestamp 10 minutes old)',
          () =>
            post(server.url, body, signedHeaders(body, { timestampS: Math.floor(Date.now() / 1000) - 600 })),
          401,
          'invalid_signature',
        ],
        [
          'signed but malformed JSON',
          () => post(server.url, '{"event":', signedHeaders('{"event":')),
          400,
          'invalid_json',
        ],
        [
          'signed but not an agent event',
          () => {
            const b = JSON.stringify({ event: 'call_start', call_id: 'c' });
            return post(server.url, b, signedHeaders(b));
          },
          400,
          'invalid_agent_event',
        ],
      );
      for (const [name, send, status, code] of refused) {
        await t.test(`${name} is ${status} and nothing is signalled`, async () => {
          const res = await send();
          assert.equal(res.status, status);
          assertErrorShape(res.json, code);
          assert.deepEqual(await received(target.workflowId), []);
        });
      }

      await t.test(
        'only ids of the task form are routed: a limiter or campaign id is 404, never signalled',
        async () => {
          // Real workflows of other kinds, running: a forged push naming them must not reach them.
          const limiter = await startTarget('limiter-acct_other');
          const campaign = await startTarget(`campaign-R${randomBytes(16).toString('hex')}`);
          for (const id of [limiter.workflowId, campaign.workflowId, `${target.workflowId}x`, '']) {
            const b = pushBody(id);
            const res = await post(server.url, b, signedHeaders(b));
            assert.equal(res.status, 404, id);
            assertErrorShape(res.json, 'task_not_found');
          }
          assert.deepEqual(await received(limiter.workflowId), []);
          assert.deepEqual(await received(campaign.workflowId), []);
        },
      );

      await t.test('no task id in data, an unknown task or a closed one: 404', async () => {
        const none = pushBody(undefined);
        assert.equal((await post(server.url, none, signedHeaders(none))).status, 404);
        const unknown = pushBody(taskId());
        assert.equal((await post(server.url, unknown, signedHeaders(unknown))).status, 404);
        const closed = await startTarget();
        await closed.signal(stopSignal);
        await closed.result();
        const late = pushBody(closed.workflowId);
        assert.equal((await post(server.url, late, signedHeaders(late))).status, 404);
      });

      await t.test('the signature and timestamp header values never reach the log', () => {
        const log = logLines.join('\n');
        assert.ok(log.includes(AGENT_PUSH_PATH), 'the log did record the requests');
        assert.ok(!log.includes('v1='), 'no signature value in the log');
      });

      for (const id of started) {
        await env.client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined);
      }
    });
  });

  void test('Temporal unreachable: /ready is 503 naming temporal, and a push is 503', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const down = new Client({ connection, namespace: 'default' });
    const app = await buildHttpServer({
      temporal: down,
      taskQueue,
      agentPushSecret: SECRET,
      readyCheckTimeoutMs: 300,
      pushSignalTimeoutMs: 300,
    });
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().checks.temporal, 'failed');
      const body = pushBody(taskId());
      const res = await app.inject({
        method: 'POST',
        url: AGENT_PUSH_PATH,
        payload: body,
        headers: signedHeaders(body),
      });
      assert.equal(res.statusCode, 503);
      assertErrorShape(res.json(), 'temporal_unavailable');
      assert.ok(res.headers['retry-after']);
    } finally {
      await app.close();
      await connection.close().catch(() => undefined);
    }
  });

  void test('without AGENT_PUSH_SECRET the push route does not exist', async () => {
    const app = await buildHttpServer({ temporal: env.client, taskQueue });
    try {
      const body = pushBody(taskId());
      const res = await app.inject({
        method: 'POST',
        url: AGENT_PUSH_PATH,
        payload: body,
        headers: signedHeaders(body),
      });
      assert.equal(res.statusCode, 404);
    } finally {
      await app.close();
    }
  });

  void test('the injected clock drives the tolerance', async () => {
    const app = await buildHttpServer({
      temporal: env.client,
      taskQueue,
      agentPushSecret: SECRET,
      pushToleranceS: 10,
      now: () => Date.UTC(2030, 0, 1),
    });
    try {
      const body = pushBody(taskId());
      const t = Date.UTC(2030, 0, 1) / 1000;
      const inside = await app.inject({
        method: 'POST',
        url: AGENT_PUSH_PATH,
        payload: body,
        headers: signedHeaders(body, { timestampS: t - 10 }),
      });
      assert.equal(inside.statusCode, 404, 'signature accepted; the task does not exist');
      const outside = await app.inject({
        method: 'POST',
        url: AGENT_PUSH_PATH,
        payload: body,
        headers: signedHeaders(body, { timestampS: t - 11 }),
      });
      assert.equal(outside.statusCode, 401);
    } finally {
      await app.close();
    }
  });
});
