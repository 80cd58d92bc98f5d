/**
 * The /api/v2 surface against the real stack (Temporal dev server, simulator, worker) and a second HTTP
 * server carrying API keys for two spaces. Callbacks go to real local receivers; one fails before it
 * answers 2xx, to show Temporal's retries deliver it anyway.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { parse } from 'csv-parse/sync';
import type { RunningHttpServer } from '../src/http/serve';
import { buildHttpServer } from '../src/http/server';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER } from '../src/unpod/paths';
import { verifyWebhookSignature } from '../src/unpod/webhook-signature';
import { createWorker, workflowBundle } from '../src/worker/worker';
import { callbackSecretFor } from '../activities/callbacks';
import { LOOPBACK_ALLOWED, startStackHttp, startTestStack, type TestStack } from './helpers/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const CALLBACK_SECRET = 'cbsec_test_0123456789abcdef';
const KEY_A = 'key_space_a_0123456789';
const KEY_B = 'key_space_b_0123456789';
const BODY_LIMIT = 64 * 1024;
const OPS_KEY = 'ops_key_0123456789abcdef';
/** Fast policy: no retries, quick polls (durations as the API takes them). */
const POLICY = {
  noAnswer: { maxRetries: 0 },
  voicemail: { retry: false },
  failure: { maxRetries: 0 },
  pollInterval: 1000,
  maxCallDuration: 20000,
};

/** Keys of the documented examples (runs-api-v2.txt), which every object we answer must carry. */
const DOC_RUN_KEYS = [
  'space_id',
  'user',
  'thread_id',
  'run_id',
  'collection_ref',
  'run_mode',
  'status',
  'batch_count',
  'created',
  'modified',
];
const DOC_TASK_KEYS = [
  'space_id',
  'thread_id',
  'user',
  'user_org_id',
  'user_info',
  'run_id',
  'task_id',
  'collection_ref',
  'execution_type',
  'task',
  'input',
  'output',
  'created',
  'modified',
];
const DOC_USER_INFO_KEYS = ['id', 'email', 'full_name', 'user_token'];
const DOC_INPUT_KEYS = [
  'document_id',
  'name',
  'contact_number',
  'created',
  'token',
  'vapi_agent_id',
  'number_id',
  'quality',
];
const DOC_OUTPUT_KEYS = [
  'id',
  'assistantId',
  'phoneNumberId',
  'type',
  'startedAt',
  'endedAt',
  'transcript',
  'recordingUrl',
  'summary',
  'createdAt',
  'updatedAt',
  'orgId',
  'cost',
  'customer',
];
const DOC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

function hasKeys(obj: Json, keys: string[], what: string): void {
  for (const k of keys) assert.ok(Object.hasOwn(obj, k), `${what} lacks documented key ${k}`);
}

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Json;
}

/** A callback receiver; `failFirst` answers 500 to the first delivery of each event id. */
async function receiver(
  failFirst = false,
): Promise<{ url: string; got: Received[]; attempts: Map<string, number>; close(): Promise<void> }> {
  const got: Received[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as Json;
      const n = (attempts.get(body.event_id as string) ?? 0) + 1;
      attempts.set(body.event_id as string, n);
      if (failFirst && n === 1) {
        res.statusCode = 500;
        res.end('not yet');
        return;
      }
      got.push({ headers: req.headers, raw, body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    attempts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(250);
  }
}

/** +1 415 555 20NN: the simulator decides the outcome by NN (00 answered, 60 never picks up, 75 wrong number). */
const num = (nn: string, block = '20') => `+1415555${block}${nn}`;

describe('HTTP API v2', () => {
  let stack: TestStack;
  let worker: Worker;
  let running: Promise<void>;
  let api: RunningHttpServer;
  let base: string;

  const call = async (
    method: string,
    path: string,
    o: {
      key?: string | null;
      body?: unknown;
      form?: FormData;
      raw?: string;
      headers?: Record<string, string>;
    } = {},
  ) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key !== null) headers.authorization = `Token ${o.key ?? KEY_A}`;
    let body: FormData | string | undefined;
    if (o.form) body = o.form;
    else if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = { text };
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const space = (s = 'space_a') => `/api/v2/platform/spaces/${s}`;
  const csvForm = (csv: string | Blob, fields: Record<string, string> = {}, filename = 'contacts.csv') => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', typeof csv === 'string' ? new Blob([csv], { type: 'text/csv' }) : csv, filename);
    return form;
  };
  const runState = async (runId: string, s = 'space_a') =>
    (await call('GET', `${space(s)}/runs/${runId}/`)).json.data as Json;
  const waitForState = (runId: string, state: string) =>
    until(`run ${runId} ${state}`, async () => {
      const r = await runState(runId);
      return r.x_campaign.state === state ? r : undefined;
    });
  const runCount = async () => (await call('GET', `${space()}/runs/`)).json.count as number;

  before(async () => {
    stack = await startTestStack();
    // The stack's worker signs no callbacks: run one that does, on the same task queue.
    await stack.stopWorker();
    worker = await createWorker({
      connection: stack.env.nativeConnection,
      client: stack.env.client,
      namespace: 'default',
      taskQueue: stack.taskQueue,
      unpod: stack.unpod,
      callbackSigningSecret: CALLBACK_SECRET,
      workflowBundle: await workflowBundle(),
      tuning: { shutdownGraceTimeMs: 2_000 },
      outbound: LOOPBACK_ALLOWED,
    });
    running = worker.run();
    api = await startStackHttp(stack, {
      api: {
        keys: [
          { key: KEY_A, space: 'space_a', user: 'alice' },
          { key: KEY_B, space: 'space_b', user: 'bob' },
        ],
        // One account limiter per test stack: it runs on this stack's task queue.
        defaultAccount: `acct_${stack.taskQueue}`,
        defaultPipeId: 'pipe_test',
        defaultRegion: 'US',
        bodyLimitBytes: BODY_LIMIT,
        runMode: 'dev',
        callbacksEnabled: true,
        outbound: LOOPBACK_ALLOWED,
      },
      ops: { key: OPS_KEY },
      cors: {
        origins: ['https://app.example'],
        methods: ['GET', 'POST'],
        headers: ['authorization', 'content-type'],
        credentials: true,
      },
    });
    base = api.url;
  });

  after(async () => {
    await api?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await stack?.close();
  });

  describe('a CSV upload, watched through the v2 endpoints', () => {
    let rx: Awaited<ReturnType<typeof receiver>>;
    let runId: string;
    let created: Json;
    const csv = [
      'phone,name,clinic',
      `${num('00')},Ann,North`,
      `${num('60')},Bob,South`,
      'not-a-number,Cat,East',
      `${num('75')},Dan,West`,
      `${num('00')},Ann again,North`,
    ].join('\n');

    before(async () => {
      rx = await receiver();
      const res = await call('POST', `${space()}/runs/`, {
        form: csvForm(csv, {
          callback_url: rx.url,
          window: '5',
          policy: JSON.stringify(POLICY),
          agent_id: 'agent_x',
        }),
      });
      assert.equal(res.status, 201, res.text);
      created = res.json;
      runId = created.data.run_id as string;
    });
    after(() => rx.close());

    it('answers 201 with the run in the documented envelope and the validation report', () => {
      assert.deepEqual(Object.keys(created).slice(0, 4), ['count', 'status_code', 'message', 'data']);
      assert.equal(created.status_code, 201);
      assert.equal(created.count, 1);
      assert.equal(created.message, 'Run Created Successfully');
      hasKeys(created.data, DOC_RUN_KEYS, 'run');
      assert.match(runId, /^R[0-9a-f]{32}$/);
      assert.equal(created.data.space_id, 'space_a');
      assert.equal(created.data.user, 'alice');
      assert.equal(created.data.run_mode, 'dev');
      assert.equal(created.data.collection_ref, 'contacts.csv');
      assert.equal(created.data.batch_count, 1);
      assert.match(created.data.created, DOC_TIME);
      assert.ok(['running', 'completed'].includes(created.data.status));
      const v = created.x_validation;
      assert.equal(v.rows, 5);
      assert.equal(v.valid, 3);
      assert.equal(v.skipped.duplicate, 1);
      assert.equal(v.rejected, 1);
      assert.equal(v.rejects[0].line, 4);
      assert.equal(v.rejects[0].column, 'phone');
    });

    it('reaches completed, with counts by status under x_campaign', async () => {
      const run = await waitForState(runId, 'completed');
      assert.equal(run.status, 'completed');
      assert.equal(run.x_campaign.total, 4);
      assert.deepEqual(
        {
          completed: run.x_campaign.counts.completed,
          failed: run.x_campaign.counts.failed,
          skipped: run.x_campaign.counts.skipped,
        },
        { completed: 1, failed: 2, skipped: 1 },
      );
      assert.equal(run.x_campaign.callback_url, rx.url);
    });

    it('lists its tasks with every documented field, paged and filtered', async () => {
      const all = await call('GET', `${space()}/runs/${runId}/tasks/`);
      assert.equal(all.status, 200);
      assert.equal(all.json.message, 'Tasks Fetched Successfully');
      assert.equal(all.json.status_code, 200);
      assert.equal(all.json.count, 4);
      for (const t of all.json.data as Json[]) {
        hasKeys(t, DOC_TASK_KEYS, 'task');
        hasKeys(t.user_info, DOC_USER_INFO_KEYS, 'task.user_info');
        hasKeys(t.input, DOC_INPUT_KEYS, 'task.input');
        hasKeys(t.output, DOC_OUTPUT_KEYS, 'task.output');
        assert.equal(t.run_id, runId);
        assert.equal(t.execution_type, 'call');
        assert.equal(t.output.customer.number, t.input.contact_number);
        assert.match(t.created, DOC_TIME);
      }
      const ann = (all.json.data as Json[]).find(
        (t) => t.input.contact_number === num('00') && t.x_campaign.status === 'completed',
      )!;
      assert.ok(ann, 'the answered contact is completed');
      assert.equal(ann.input.name, 'Ann');
      assert.equal(ann.output.assistantId, 'agent_x');
      assert.equal(ann.x_campaign.end_reason, 'USER_HUNG_UP_IN_CALL');
      assert.equal(ann.x_campaign.attempts, 1);
      assert.equal(ann.x_campaign.metadata.clinic, 'North');
      assert.ok(ann.output.id, 'the call id is the output id');

      const page = await call('GET', `${space()}/runs/${runId}/tasks/?page=2&page_size=3`);
      assert.equal(page.json.count, 4);
      assert.equal(page.json.data.length, 1);
      const failed = await call('GET', `${space()}/runs/${runId}/tasks/?status=failed`);
      assert.equal(failed.json.count, 2);
      assert.deepEqual(
        (failed.json.data as Json[]).map((t) => t.x_campaign.status),
        ['failed', 'failed'],
      );
      const bad = await call('GET', `${space()}/runs/${runId}/tasks/?status=bogus`);
      assert.equal(bad.status, 400);
      hasKeys(bad.json, ['message', 'errors'], 'error');
    });

    it('POSTs a signed callback for each task and one when the run has finished', async () => {
      const events = await until('4 task callbacks and the run callback', async () =>
        rx.got.length >= 5 ? rx.got : undefined,
      );
      for (const e of events) {
        // Each space has its own secret, derived from the signing secret.
        const ok = verifyWebhookSignature({
          secret: callbackSecretFor(CALLBACK_SECRET, 'space_a'),
          timestampHeader: e.headers[PUSH_TIMESTAMP_HEADER],
          signatureHeader: e.headers[PUSH_SIGNATURE_HEADER],
          rawBody: e.raw,
        });
        assert.deepEqual(ok, { ok: true });
        const forged = verifyWebhookSignature({
          secret: CALLBACK_SECRET,
          timestampHeader: e.headers[PUSH_TIMESTAMP_HEADER],
          signatureHeader: e.headers[PUSH_SIGNATURE_HEADER],
          rawBody: e.raw,
        });
        assert.equal(forged.ok, false);
        assert.equal(e.body.run_id, runId);
      }
      const tasks = events.filter((e) => e.body.type === 'task.finished');
      const runs = events.filter((e) => e.body.type === 'run.finished');
      assert.equal(tasks.length, 4);
      assert.equal(new Set(tasks.map((e) => e.body.event_id)).size, 4);
      for (const t of tasks) hasKeys(t.body.data as Json, DOC_TASK_KEYS, 'callback task');
      assert.equal(runs.length, 1);
      hasKeys(runs[0]!.body.data as Json, DOC_RUN_KEYS, 'callback run');
      assert.equal(runs[0]!.body.data.x_campaign.state, 'completed');
      assert.equal(runs[0]!.body.data.x_campaign.counts.completed, 1);
      await delay(1000);
      assert.equal(
        rx.got.filter((e) => e.body.type === 'run.finished').length,
        1,
        'the run callback comes once',
      );
    });

    it('exports the run as CSV and as JSON', async () => {
      const csvRes = await call('GET', `${space()}/runs/${runId}/export/?format=csv`);
      assert.equal(csvRes.status, 200);
      assert.match(csvRes.headers.get('content-type') ?? '', /text\/csv/);
      assert.match(csvRes.text, /^line,phone,name,status/);
      const records = parse(csvRes.text, { columns: true }) as Record<string, string>[];
      assert.equal(records.length, 4);
      assert.deepEqual(records.map((r) => r.phone).sort(), [num('00'), num('00'), num('60'), num('75')]);
      const jsonRes = await call('GET', `${space()}/runs/${runId}/export/?format=json`);
      assert.equal(jsonRes.status, 200);
      const rows = JSON.parse(jsonRes.text) as Json[];
      assert.equal(rows.length, 4);
      assert.deepEqual(rows.map((r) => r.status as string).sort(), [
        'completed',
        'failed',
        'failed',
        'skipped',
      ]);
    });

    it('lists the space’s runs with pagination and a status filter', async () => {
      const list = await call('GET', `${space()}/runs/?page_size=50`);
      assert.equal(list.status, 200);
      assert.equal(list.json.message, 'Runs Fetched Successfully');
      assert.ok((list.json.data as Json[]).some((r) => r.run_id === runId));
      for (const r of list.json.data as Json[]) hasKeys(r, DOC_RUN_KEYS, 'listed run');
      assert.equal(list.json.count, (list.json.data as Json[]).length);
      const one = await call('GET', `${space()}/runs/?page=1&page_size=1`);
      assert.equal(one.json.data.length, 1);
      assert.equal(one.json.count, list.json.count);
      const completed = await call('GET', `${space()}/runs/?status=completed`);
      assert.ok((completed.json.data as Json[]).every((r) => r.status === 'completed'));
      assert.ok((completed.json.data as Json[]).some((r) => r.run_id === runId));
      const other = await call('GET', `${space('space_b')}/runs/`, { key: KEY_B });
      assert.ok(
        !(other.json.data as Json[]).some((r) => r.run_id === runId),
        'space_b does not see space_a’s run',
      );
    });

    it('retries the unanswered contacts in a new run with the same settings', async () => {
      const res = await call('POST', `${space()}/runs/${runId}/retry/`, { body: { which: 'no-answer' } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.x_campaign.retry_of, runId);
      assert.equal(res.json.x_campaign.retried, 1);
      assert.notEqual(res.json.data.run_id, runId);
      assert.equal(res.json.data.x_campaign.callback_url, rx.url);
      const tasks = await until('the retry run’s task', async () => {
        const r = await call('GET', `${space()}/runs/${res.json.data.run_id}/tasks/`);
        return r.json.count === 1 ? (r.json.data as Json[]) : undefined;
      });
      assert.equal(tasks[0]!.input.contact_number, num('60'));
      const bad = await call('POST', `${space()}/runs/${runId}/retry/`, { body: { which: 'everything' } });
      assert.equal(bad.status, 400);
    });

    it('refuses to pause a run that has ended (409)', async () => {
      const res = await call('POST', `${space()}/runs/${runId}/pause/`);
      assert.equal(res.status, 409);
      assert.equal(res.json.x_campaign.code, 'run_state_conflict');
    });
  });

  it('pauses, resumes and cancels a run', async () => {
    // 98: stuck in the call until hung up, so the run stays open while it is controlled.
    const res = await call('POST', `${space()}/runs/`, {
      body: {
        contacts: [{ phone: num('98', '21'), name: 'Eve' }, { phone: num('00', '21') }],
        window: 1,
        policy: { ...POLICY, maxCallDuration: 60000 },
      },
    });
    assert.equal(res.status, 201, res.text);
    const runId = res.json.data.run_id as string;
    assert.equal(res.json.data.collection_ref, 'api');
    const p = await call('POST', `${space()}/runs/${runId}/pause/`);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.message, 'Run Pause Requested');
    const paused = await waitForState(runId, 'paused');
    assert.equal(paused.status, 'paused', 'one mapping of run states: paused is paused');
    const paused2 = await call('GET', `${space()}/runs/?status=paused`);
    assert.ok((paused2.json.data as Json[]).some((r) => r.run_id === runId));
    assert.equal((await call('POST', `${space()}/runs/${runId}/resume/`)).status, 200);
    await waitForState(runId, 'running');
    const c = await call('POST', `${space()}/runs/${runId}/cancel/`, { body: { hangup: true } });
    assert.equal(c.status, 200, c.text);
    const canceled = await waitForState(runId, 'canceled');
    assert.equal(canceled.status, 'canceled');
    assert.equal(
      (await call('POST', `${space()}/runs/${runId}/cancel/`, { body: { hangup: 'yes' } })).status,
      400,
    );
  });

  it('delivers a callback durably to a receiver that fails first', async () => {
    const flaky = await receiver(true);
    try {
      const res = await call('POST', `${space()}/runs/`, {
        body: {
          contacts: [{ phone: num('00', '22'), name: 'Fay' }],
          callback_url: flaky.url,
          policy: POLICY,
        },
      });
      assert.equal(res.status, 201, res.text);
      const runId = res.json.data.run_id as string;
      const got = await until('both callbacks after a failure each', async () =>
        flaky.got.length >= 2 ? flaky.got : undefined,
      );
      assert.deepEqual(got.map((e) => e.body.type).sort(), ['run.finished', 'task.finished']);
      for (const e of got)
        assert.equal(flaky.attempts.get(e.body.event_id as string), 2, `${e.body.type} was retried once`);
      assert.equal(got.find((e) => e.body.type === 'run.finished')!.body.run_id, runId);
    } finally {
      await flaky.close();
    }
  });

  describe('bad uploads start nothing', () => {
    it('not CSV', async () => {
      const before = await runCount();
      const zip = new Blob([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 1, 2, 3])]);
      const res = await call('POST', `${space()}/runs/`, { form: csvForm(zip, {}, 'contacts.xlsx') });
      assert.equal(res.status, 400);
      assert.equal(res.json.message, 'Error creating run');
      assert.equal(res.json.x_campaign.code, 'not_csv');
      assert.equal(typeof res.json.errors, 'string');
      assert.equal(await runCount(), before);
    });
    it('empty', async () => {
      const res = await call('POST', `${space()}/runs/`, { form: csvForm('') });
      assert.equal(res.status, 400);
      assert.equal(res.json.x_campaign.code, 'empty_file');
    });
    it('no phone column', async () => {
      const res = await call('POST', `${space()}/runs/`, {
        form: csvForm('name,email\nAnn,a@example.com\n'),
      });
      assert.equal(res.status, 400);
      assert.equal(res.json.x_campaign.code, 'no_phone_column');
    });
    it('no valid row: the report, and no run', async () => {
      const before = await runCount();
      const res = await call('POST', `${space()}/runs/`, { form: csvForm('phone\nnope\n12\n') });
      assert.equal(res.status, 400);
      assert.equal(res.json.x_campaign.code, 'no_valid_rows');
      assert.equal(res.json.x_campaign.report.rejected, 2);
      assert.equal(await runCount(), before);
    });
    it('over the size limit: 413, for a file and for a JSON body', async () => {
      const big = `phone,name\n${Array.from({ length: 4000 }, (_, i) => `+1415555${String(3000 + i)},Name ${i}`).join('\n')}\n`;
      assert.ok(big.length > BODY_LIMIT);
      const res = await call('POST', `${space()}/runs/`, { form: csvForm(big) });
      assert.equal(res.status, 413);
      assert.equal(res.json.x_campaign.code, 'payload_too_large');
      const json = await call('POST', `${space()}/runs/`, {
        body: {
          contacts: Array.from({ length: 3000 }, (_, i) => ({
            phone: `+1415555${3000 + i}`,
            name: 'x'.repeat(20),
          })),
        },
      });
      assert.equal(json.status, 413);
      hasKeys(json.json, ['message', 'errors'], 'error');
    });
    it('a body that is neither multipart nor a valid JSON request', async () => {
      const res = await call('POST', `${space()}/runs/`, {
        body: { contacts: [], source_url: 'http://x.example/a.csv' },
      });
      assert.equal(res.status, 400);
      assert.equal(res.json.x_campaign.code, 'invalid_body');
    });
  });

  describe('auth', () => {
    let someRun: string;
    before(async () => {
      const res = await call('POST', `${space()}/runs/`, {
        body: { contacts: [{ phone: num('00', '23') }], policy: POLICY },
      });
      someRun = res.json.data.run_id as string;
    });
    it('a missing key is 401 in the documented error shape', async () => {
      const res = await call('GET', `${space()}/runs/`, { key: null });
      assert.equal(res.status, 401);
      assert.equal(res.json.message, 'Error fetching runs');
      assert.equal(typeof res.json.errors, 'string');
      assert.equal(res.json.x_campaign.code, 'not_authenticated');
      assert.ok(!res.text.includes('    at '), 'no stack trace');
    });
    it('an invalid key is 401', async () => {
      const res = await call('GET', `${space()}/runs/${someRun}/`, { key: 'not_a_real_key_123' });
      assert.equal(res.status, 401);
      assert.equal(res.json.x_campaign.code, 'invalid_token');
    });
    it('another space is 404, and so is its run', async () => {
      const res = await call('GET', `${space('space_b')}/runs/`, { key: KEY_A });
      assert.equal(res.status, 404);
      const run = await call('GET', `${space('space_b')}/runs/${someRun}/`, { key: KEY_B });
      assert.equal(run.status, 404);
      assert.equal(run.json.x_campaign.code, 'run_not_found');
      for (const path of ['tasks/', 'export/']) {
        assert.equal(
          (await call('GET', `${space('space_b')}/runs/${someRun}/${path}`, { key: KEY_B })).status,
          404,
          path,
        );
      }
      assert.equal(
        (await call('POST', `${space('space_b')}/runs/${someRun}/cancel/`, { key: KEY_B, body: {} })).status,
        404,
      );
      assert.equal((await call('GET', `${space()}/runs/${someRun}/`)).status, 200, 'its own space sees it');
    });
    it('an unknown run is 404', async () => {
      const res = await call('GET', `${space()}/runs/R${'0'.repeat(32)}/tasks/`);
      assert.equal(res.status, 404);
      assert.equal(res.json.message, 'Error retrieving run tasks');
    });
    it('permission hooks answer 403', async () => {
      const app = await buildHttpServer({
        temporal: stack.env.client,
        taskQueue: stack.taskQueue,
        api: {
          keys: [{ key: KEY_A, space: 'space_a', user: 'alice' }],
          // One account limiter per test stack: it runs on this stack's task queue.
          defaultAccount: `acct_${stack.taskQueue}`,
          defaultPipeId: 'pipe_test',
          defaultRegion: 'US',
          permissions: {
            canStart: () => false,
            canView: ({ runId }) => runId === undefined,
            canClose: () => false,
            canViewMetrics: () => false,
          },
        },
      });
      try {
        const auth = { authorization: `Token ${KEY_A}` };
        const start = await app.inject({
          method: 'POST',
          url: `${space()}/runs/`,
          headers: auth,
          payload: { contacts: [{ phone: num('00', '24') }] },
        });
        assert.equal(start.statusCode, 403);
        assert.equal(start.json<Json>().x_campaign.code, 'forbidden');
        assert.equal(
          (await app.inject({ method: 'GET', url: `${space()}/runs/`, headers: auth })).statusCode,
          200,
        );
        assert.equal(
          (await app.inject({ method: 'GET', url: `${space()}/runs/${someRun}/`, headers: auth })).statusCode,
          403,
        );
        assert.equal(
          (await app.inject({ method: 'POST', url: `${space()}/runs/${someRun}/pause/`, headers: auth }))
            .statusCode,
          403,
        );
        assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 403);
      } finally {
        await app.close();
      }
    });
  });

  it('CORS follows the configured options', async () => {
    const pre = await fetch(`${base}${space()}/runs/`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    const other = await fetch(`${base}/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('/metrics speaks Prometheus text: runs and tasks by status', async () => {
    assert.equal((await fetch(`${base}/metrics`)).status, 401, 'no ops key');
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${OPS_KEY}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE unpod_campaigns_runs gauge/);
    const completedRuns = Number(/unpod_campaigns_runs\{state="completed"\} (\d+)/.exec(text)?.[1]);
    assert.ok(completedRuns >= 1, text);
    const completedTasks = Number(/unpod_campaigns_tasks\{status="completed"\} (\d+)/.exec(text)?.[1]);
    assert.ok(completedTasks >= 1, text);
    assert.match(text, /unpod_campaigns_tasks\{status="skipped"\} \d+/);
  });

  it('/docs serves the OpenAPI document generated from the schemas', async () => {
    const doc = (await (await fetch(`${base}/docs/openapi.json`)).json()) as Json;
    assert.equal(doc.openapi, '3.1.0');
    const runsPath = '/api/v2/platform/spaces/{space_token}/runs/';
    assert.ok(doc.paths[runsPath].get && doc.paths[runsPath].post);
    for (const p of [
      '{run_id}/',
      '{run_id}/tasks/',
      '{run_id}/pause/',
      '{run_id}/resume/',
      '{run_id}/cancel/',
      '{run_id}/retry/',
      '{run_id}/export/',
    ]) {
      assert.ok(doc.paths[`${runsPath}${p}`], p);
    }
    const runProps = doc.components.schemas.RunsEnvelope.properties.data.items.properties as Json;
    for (const k of DOC_RUN_KEYS) assert.ok(runProps[k], `documented run field ${k}`);
    const taskProps = doc.components.schemas.TasksEnvelope.properties.data.items.properties as Json;
    for (const k of DOC_TASK_KEYS) assert.ok(taskProps[k], `documented task field ${k}`);
    const html = await (await fetch(`${base}/docs`)).text();
    assert.match(html, /openapi\.json/);
    // Swagger UI comes from this server, not a CDN: /docs works on a machine without the internet.
    for (const asset of html.match(/\/docs\/assets\/[\w.-]+/g) ?? []) {
      const res = await fetch(`${base}${asset}`);
      assert.equal(res.status, 200, asset);
      assert.ok((await res.text()).length > 10_000, `${asset} is the real file`);
    }
    assert.equal((html.match(/\/docs\/assets\//g) ?? []).length, 2);
    assert.equal((await fetch(`${base}/docs/assets/..%2Fpackage.json`)).status, 404);
  });

  it('the server it extends still answers /health', async () => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
  });
});
