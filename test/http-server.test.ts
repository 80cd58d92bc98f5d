/**
 * The HTTP server against a real Temporal dev server (test/helpers/temporal.ts) and a real worker running a
 * test-only workflow (test/fixtures/webhook-target.workflow.ts) that records the signals it gets. Webhook
 * deliveries go through a real listening server with undici.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { request } from 'undici';
import { startHttpServer, type RunningHttpServer } from '../src/http/serve';
import { buildHttpServer } from '../src/http/server';
import {
  METADATA_TASK_WORKFLOW_ID,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../src/unpod/paths';
import type { Call, WebhookEvent } from '../src/unpod/schemas';
import { signWebhook } from '../src/unpod/webhook-signature';
import {
  receivedQuery,
  stopSignal,
  webhookTargetWorkflow,
  type ReceivedSignal,
} from './fixtures/webhook-target.workflow';
import { testEnv, uniqueTaskQueue } from './helpers/temporal';

/** Response bodies are read loosely; each assertion names the field it checks. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = Record<string, any>;

const SECRET = 'whsec_test_secret_0123456789';

function makeCall(overrides: Partial<Call> = {}): Call {
  return {
    call_id: `call_${randomUUID().slice(0, 8)}`,
    pipe_id: 'pipe_test',
    agent_id: null,
    direction: 'outbound',
    to_number: '+14155552671',
    from_number: null,
    status: 'completed',
    end_reason: 'USER_HUNG_UP_IN_CALL',
    session_id: null,
    metadata: {},
    created_at: '2025-01-15T10:30:00Z',
    started_at: '2025-01-15T10:30:05Z',
    answered_at: '2025-01-15T10:30:09Z',
    ended_at: '2025-01-15T10:31:09Z',
    duration_s: 60,
    transcript: 'hello',
    summary: 'said hello',
    recording_url: 'https://rec.example/1.wav',
    cost: 0.12,
    ...overrides,
  };
}

function makeEvent(call: Call, type: WebhookEvent['type'] = 'call.ended'): WebhookEvent {
  return { event_id: `evt_${randomUUID()}`, type, occurred_at: new Date().toISOString(), call };
}

function signedHeaders(
  body: string,
  opts: { secret?: string; timestampS?: number } = {},
): Record<string, string> {
  const t = opts.timestampS ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    [WEBHOOK_TIMESTAMP_HEADER]: String(t),
    [WEBHOOK_SIGNATURE_HEADER]: signWebhook(opts.secret ?? SECRET, t, body),
  };
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await request(`${url}/webhooks/unpod`, { method: 'POST', body, headers });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: JSON.parse(text) as JsonBody,
    text,
  };
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
      webhookSecret: SECRET,
      ops: { public: true },
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

  void test('unknown routes get the error shape', async () => {
    const res = await get(server.url, '/nope');
    assert.equal(res.status, 404);
    assertErrorShape(res.json, 'not_found');
  });

  void test('with a worker polling the task queue', async (t) => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/webhook-target.workflow'),
    });

    await worker.runUntil(async () => {
      const started: string[] = [];
      const startTarget = async () => {
        const id = `task-http-${randomUUID()}`;
        const handle = await env.client.workflow.start(webhookTargetWorkflow, { workflowId: id, taskQueue });
        started.push(id);
        return handle;
      };
      const received = (id: string): Promise<ReceivedSignal[]> =>
        env.client.workflow.getHandle(id).query(receivedQuery);
      const routedCall = (workflowId: string, overrides: Partial<Call> = {}) =>
        makeCall({
          metadata: { [METADATA_TASK_WORKFLOW_ID]: workflowId, contact_name: 'Ada' },
          ...overrides,
        });

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

      await t.test('a signed call.ended delivery is routed as callEnded with the snapshot', async () => {
        const handle = await startTarget();
        const body = JSON.stringify(makeEvent(routedCall(handle.workflowId, { call_id: 'call_ended_1' })));
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        assert.equal(res.json.routed, true);
        assert.deepEqual(await received(handle.workflowId), [
          {
            signal: 'callEnded',
            snapshot: {
              callId: 'call_ended_1',
              status: 'completed',
              endReason: 'USER_HUNG_UP_IN_CALL',
              startedAt: '2025-01-15T10:30:05Z',
              endedAt: '2025-01-15T10:31:09Z',
              durationS: 60,
              transcript: 'hello',
              summary: 'said hello',
              recordingUrl: 'https://rec.example/1.wav',
              cost: 0.12,
            },
          },
        ]);
      });

      await t.test('a failed call is terminal too: callEnded', async () => {
        const handle = await startTarget();
        const call = routedCall(handle.workflowId, {
          status: 'failed',
          end_reason: 'SIP_FAILED_WRONG_NUMBER',
          duration_s: null,
        });
        const body = JSON.stringify(makeEvent(call));
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        const got = await received(handle.workflowId);
        assert.equal(got.length, 1);
        assert.equal(got[0]!.signal, 'callEnded');
        assert.equal(got[0]!.snapshot.endReason, 'SIP_FAILED_WRONG_NUMBER');
        assert.equal(got[0]!.snapshot.durationS, null);
      });

      await t.test('a call.status_changed delivery (ringing) is routed as callStatus', async () => {
        const handle = await startTarget();
        const call = routedCall(handle.workflowId, {
          call_id: 'call_ringing_1',
          status: 'ringing',
          end_reason: null,
          answered_at: null,
          ended_at: null,
          duration_s: null,
          transcript: null,
          summary: null,
          recording_url: null,
          cost: null,
        });
        const body = JSON.stringify(makeEvent(call, 'call.status_changed'));
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        assert.equal(res.json.routed, true);
        const got = await received(handle.workflowId);
        assert.equal(got.length, 1);
        assert.equal(got[0]!.signal, 'callStatus');
        assert.equal(got[0]!.snapshot.callId, 'call_ringing_1');
        assert.equal(got[0]!.snapshot.status, 'ringing');
        assert.equal(got[0]!.snapshot.endReason, null);
      });

      await t.test(
        'a duplicate delivery is routed again (the workflow dedupes, not the server)',
        async () => {
          const handle = await startTarget();
          const body = JSON.stringify(makeEvent(routedCall(handle.workflowId)));
          assert.equal((await post(server.url, body, signedHeaders(body))).status, 202);
          assert.equal((await post(server.url, body, signedHeaders(body))).status, 202);
          assert.equal((await received(handle.workflowId)).length, 2);
        },
      );

      await t.test('a forged signature (wrong secret) is 401 and nothing is signalled', async () => {
        const handle = await startTarget();
        const body = JSON.stringify(makeEvent(routedCall(handle.workflowId)));
        const res = await post(server.url, body, signedHeaders(body, { secret: 'whsec_attacker_guess' }));
        assert.equal(res.status, 401);
        assertErrorShape(res.json, 'invalid_signature');
        assert.deepEqual(await received(handle.workflowId), []);
      });

      await t.test('a missing signature header is 401 and nothing is signalled', async () => {
        const handle = await startTarget();
        const body = JSON.stringify(makeEvent(routedCall(handle.workflowId)));
        const headers = signedHeaders(body);
        delete headers[WEBHOOK_SIGNATURE_HEADER];
        const res = await post(server.url, body, headers);
        assert.equal(res.status, 401);
        assert.deepEqual(await received(handle.workflowId), []);
      });

      await t.test('a tampered body (signed, then changed) is 401 and nothing is signalled', async () => {
        const handle = await startTarget();
        const original = JSON.stringify(
          makeEvent(routedCall(handle.workflowId, { end_reason: 'USER_DID_NOT_PICK_UP' })),
        );
        const headers = signedHeaders(original);
        const tampered = original.replace('USER_DID_NOT_PICK_UP', 'USER_HUNG_UP_IN_CALL');
        assert.notEqual(tampered, original);
        const res = await post(server.url, tampered, headers);
        assert.equal(res.status, 401);
        assertErrorShape(res.json, 'invalid_signature');
        assert.deepEqual(await received(handle.workflowId), []);
      });

      await t.test(
        'the raw bytes are verified: a re-serialised (whitespace-changed) body is 401',
        async () => {
          const handle = await startTarget();
          const event = makeEvent(routedCall(handle.workflowId));
          const signedAs = JSON.stringify(event, null, 2);
          const res = await post(server.url, JSON.stringify(event), signedHeaders(signedAs));
          assert.equal(res.status, 401);
          // ...while the pretty-printed bytes it was signed over are accepted.
          const ok = await post(server.url, signedAs, signedHeaders(signedAs));
          assert.equal(ok.status, 202);
          assert.equal((await received(handle.workflowId)).length, 1);
        },
      );

      await t.test(
        'a replay (validly signed, timestamp older than the tolerance) is 401; so is one from the future',
        async () => {
          const handle = await startTarget();
          const body = JSON.stringify(makeEvent(routedCall(handle.workflowId)));
          const nowS = Math.floor(Date.now() / 1000);
          const stale = await post(server.url, body, signedHeaders(body, { timestampS: nowS - 301 - 5 }));
          assert.equal(stale.status, 401);
          assert.match(stale.json.error.message, /tolerance/);
          const future = await post(server.url, body, signedHeaders(body, { timestampS: nowS + 301 + 5 }));
          assert.equal(future.status, 401);
          assert.deepEqual(await received(handle.workflowId), []);
          // Within tolerance, the same bytes go through: the 401s above were about time only.
          const fresh = await post(server.url, body, signedHeaders(body, { timestampS: nowS - 60 }));
          assert.equal(fresh.status, 202);
        },
      );

      await t.test('signed but malformed JSON is 400 invalid_json', async () => {
        const body = '{"event_id": "evt_1", "type": ';
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 400);
        assertErrorShape(res.json, 'invalid_json');
      });

      await t.test(
        'signed but schema-invalid is 400 naming the field, and nothing is signalled',
        async () => {
          const handle = await startTarget();
          const event = makeEvent(routedCall(handle.workflowId)) as unknown as {
            call: Record<string, unknown>;
          };
          event.call.status = 'exploded';
          delete event.call.call_id;
          const body = JSON.stringify(event);
          const res = await post(server.url, body, signedHeaders(body));
          assert.equal(res.status, 400);
          assertErrorShape(res.json, 'invalid_webhook_event');
          const paths = (res.json.error.issues as { path: string }[]).map((i) => i.path).sort();
          assert.deepEqual(paths, ['call.call_id', 'call.status']);
          assert.match(res.json.error.message, /call\.status/);
          assert.deepEqual(await received(handle.workflowId), []);
        },
      );

      await t.test('no routing key in call.metadata is 202 routed:false', async () => {
        const body = JSON.stringify(makeEvent(makeCall({ metadata: { something: 'else' } })));
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        assert.equal(res.json.routed, false);
        assert.match(res.json.reason, new RegExp(METADATA_TASK_WORKFLOW_ID));
      });

      await t.test('an unknown workflow id is 202 routed:false', async () => {
        const body = JSON.stringify(makeEvent(routedCall(`task-never-started-${randomUUID()}`)));
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        assert.equal(res.json.routed, false);
        assert.match(res.json.reason, /closed or unknown/);
      });

      await t.test('a closed task workflow is 202 routed:false (a late webhook)', async () => {
        const handle = await startTarget();
        await handle.signal(stopSignal);
        assert.deepEqual(await handle.result(), []);
        const body = JSON.stringify(makeEvent(routedCall(handle.workflowId)));
        const res = await post(server.url, body, signedHeaders(body));
        assert.equal(res.status, 202);
        assert.equal(res.json.routed, false);
      });

      await t.test('the signature and timestamp header values never reach the log', async () => {
        const handle = await startTarget();
        const body = JSON.stringify(makeEvent(routedCall(handle.workflowId)));
        const headers = signedHeaders(body);
        await post(server.url, body, headers);
        await post(server.url, body, { ...headers, [WEBHOOK_SIGNATURE_HEADER]: 'v1=' + 'ab'.repeat(32) });
        const log = logLines.join('');
        assert.ok(log.includes('webhook'), 'the log did record the requests');
        assert.ok(!log.includes(headers[WEBHOOK_SIGNATURE_HEADER]!.slice(3)), 'signature value not logged');
        assert.ok(!log.includes('ab'.repeat(32)), 'forged signature value not logged');
        assert.ok(!log.includes(SECRET), 'secret not logged');
      });

      await Promise.all(
        started.map((id) =>
          env.client.workflow
            .getHandle(id)
            .terminate('test over')
            .catch(() => undefined),
        ),
      );
    });
  });

  void test('Temporal unreachable: /ready is 503 naming temporal, and a webhook is 503 so the sender retries', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const down = new Client({ connection, namespace: 'default' });
    const app = await buildHttpServer({
      temporal: down,
      taskQueue,
      webhookSecret: SECRET,
      readyCheckTimeoutMs: 300,
      webhookSignalTimeoutMs: 300,
      ops: { public: true },
    });
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().checks.temporal, 'failed');
      assert.equal(ready.json().error.code, 'temporal_unavailable');

      const body = JSON.stringify(
        makeEvent(makeCall({ metadata: { [METADATA_TASK_WORKFLOW_ID]: 'task-x' } })),
      );
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/unpod',
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

  void test('the injected clock drives the tolerance', async () => {
    const app = await buildHttpServer({
      temporal: env.client,
      taskQueue,
      webhookSecret: SECRET,
      webhookToleranceS: 10,
      now: () => Date.UTC(2030, 0, 1),
    });
    try {
      const body = JSON.stringify(makeEvent(makeCall()));
      const t = Date.UTC(2030, 0, 1) / 1000;
      const inside = await app.inject({
        method: 'POST',
        url: '/webhooks/unpod',
        payload: body,
        headers: signedHeaders(body, { timestampS: t - 10 }),
      });
      assert.equal(inside.statusCode, 202, inside.body);
      const outside = await app.inject({
        method: 'POST',
        url: '/webhooks/unpod',
        payload: body,
        headers: signedHeaders(body, { timestampS: t - 11 }),
      });
      assert.equal(outside.statusCode, 401);
    } finally {
      await app.close();
    }
  });
});
