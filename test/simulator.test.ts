/**
 * The Unpod simulator against a real server on port 0, driven with undici. High speed so calls end in ms.
 *   node --import tsx --test test/simulator.test.ts
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { request } from 'undici';
import {
  startSimulator,
  simulatorOutcomeRules,
  signWebhook,
  type RunningSimulator,
  type SimulatorOptions,
} from '../src/simulator';
import { dayWindow } from '../src/simulator/limits';
import { verifyWebhookSignature } from '../src/unpod/webhook-signature';

const KEY = 'sim_test_key';
const BIG = {
  apiKey: KEY,
  accountId: 'acct_big',
  callsPerMinute: 100_000,
  tasksPerDay: 100_000,
  concurrency: 1000,
};
const sims: RunningSimulator[] = [];
const servers: http.Server[] = [];

after(async () => {
  await Promise.all(sims.map((s) => s.close()));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function sim(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const s = await startSimulator({ speed: 1000, seed: 42, accounts: [BIG], ...opts });
  sims.push(s);
  return s;
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
  body: any;
}

async function api(
  s: RunningSimulator,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res> {
  const res = await request(s.url + path, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

let n = 0;
const createBody = (to: string, metadata?: Record<string, unknown>) => ({
  pipe_id: 'pipe_1',
  to_number: to,
  ...(metadata ? { metadata } : {}),
});
async function create(
  s: RunningSimulator,
  to: string,
  metadata?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<Res> {
  return api(s, 'POST', '/api/v1/calls/', createBody(to, metadata), headers);
}
/** A fresh number with the given last two digits. */
const num = (nn: number) => `+1415${String(1000 + ++n).padStart(4, '0')}${String(nn).padStart(2, '0')}`;

async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function getCall(s: RunningSimulator, id: string) {
  return (await api(s, 'GET', `/api/v1/calls/${id}/`)).body;
}
async function waitEnded(s: RunningSimulator, id: string) {
  return waitFor(async () => {
    const c = await getCall(s, id);
    return c.status === 'completed' || c.status === 'failed' ? c : undefined;
  }, `call ${id} to end`);
}
async function callOutcome(s: RunningSimulator, to: string, attempt?: number) {
  const r = await create(s, to, attempt ? { campaign_attempt: attempt } : undefined);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status, 'pending');
  const c = await waitEnded(s, r.body.call_id);
  return { status: c.status as string, end_reason: c.end_reason as string, call: c };
}

void describe('default outcome rules (last two digits)', () => {
  const cases: Array<[number, number, string, string]> = [
    // [digits, attempt, end_reason, status]
    [0, 1, 'USER_HUNG_UP_IN_CALL', 'completed'],
    [49, 1, 'USER_HUNG_UP_IN_CALL', 'completed'],
    [50, 1, 'USER_DID_NOT_PICK_UP', 'failed'],
    [59, 2, 'USER_HUNG_UP_IN_CALL', 'completed'],
    [60, 1, 'USER_DID_NOT_PICK_UP', 'failed'],
    [64, 3, 'USER_DID_NOT_PICK_UP', 'failed'],
    [65, 1, 'VOICEMAIL_DETECTED_PRECONNECT', 'failed'],
    [69, 2, 'USER_HUNG_UP_IN_CALL', 'completed'],
    [70, 1, 'AGENT_HUNG_UP_VOICEMAIL_DETECTED', 'completed'],
    [72, 2, 'AGENT_HUNG_UP_VOICEMAIL_DETECTED', 'completed'],
    [73, 1, 'USER_HUNG_UP_RINGING', 'failed'],
    [74, 2, 'USER_HUNG_UP_RINGING', 'failed'],
    [75, 1, 'SIP_FAILED_WRONG_NUMBER', 'failed'],
    [77, 1, 'SIP_FAILED_WRONG_NUMBER', 'failed'],
    [78, 1, 'SIP_FAILED_NUMBER_BLOCKED', 'failed'],
    [79, 1, 'SIP_FAILED_NUMBER_BLOCKED', 'failed'],
    [80, 1, 'AGENT_HUNG_UP_SILENCE_DETECTED', 'completed'],
    [84, 1, 'AGENT_HUNG_UP_SILENCE_DETECTED', 'completed'],
    [85, 1, 'MAX_DURATION_REACHED', 'completed'],
    [86, 1, 'MAX_DURATION_REACHED', 'completed'],
    [87, 1, 'IDLE_TIMEOUT', 'completed'],
    [89, 2, 'USER_HUNG_UP_IN_CALL', 'completed'],
    [90, 1, 'SIP_TRUNK_CONFIG_ERROR', 'failed'],
    [94, 2, 'SIP_TRUNK_CONFIG_ERROR', 'failed'],
    [95, 1, 'USER_HUNG_UP_IN_CALL', 'completed'],
    [97, 1, 'USER_HUNG_UP_IN_CALL', 'completed'],
  ];
  for (const [nn, attempt, reason, status] of cases) {
    void test(`..${String(nn).padStart(2, '0')} attempt ${attempt} → ${reason} (${status})`, async () => {
      const s = await sim();
      const o = await callOutcome(s, num(nn), attempt);
      assert.equal(o.end_reason, reason);
      assert.equal(o.status, status);
      assert.ok(o.call.ended_at);
      if (status === 'completed') {
        assert.ok(o.call.answered_at, 'answered calls have answered_at');
        assert.ok(o.call.transcript && o.call.summary && o.call.recording_url);
        assert.equal(typeof o.call.cost, 'number');
        assert.ok(o.call.duration_s > 0);
      } else {
        assert.equal(o.call.answered_at, null);
        assert.equal(o.call.transcript, null);
      }
      assert.ok(o.call.session_id, 'a session id is assigned when ringing');
    });
  }

  void test('without campaign_attempt the attempt is the count of calls to the number', async () => {
    const s = await sim();
    const to = num(55);
    assert.equal((await callOutcome(s, to)).end_reason, 'USER_DID_NOT_PICK_UP');
    assert.equal((await callOutcome(s, to)).end_reason, 'USER_HUNG_UP_IN_CALL');
  });

  void test('..98-99 is stuck until hung up; hangup ends it completed with HANGUP_REQUESTED', async () => {
    const s = await sim();
    const r = await create(s, num(98));
    const id = r.body.call_id;
    await waitFor(async () => (await getCall(s, id)).status === 'active', 'stuck call to go active');
    await new Promise((res) => setTimeout(res, 400)); // longer than any scaled talk time
    assert.equal((await getCall(s, id)).status, 'active');
    const h = await api(s, 'POST', `/api/v1/calls/${id}/hangup/`);
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'completed');
    assert.equal(h.body.end_reason, 'HANGUP_REQUESTED');
    const again = await api(s, 'POST', `/api/v1/calls/${id}/hangup/`);
    assert.equal(again.status, 200);
    assert.equal(again.body.ended_at, h.body.ended_at, 'hangup of a terminal call changes nothing');
    assert.equal((await api(s, 'POST', '/api/v1/calls/call_nope/hangup/')).status, 404);
    assert.equal((await api(s, 'GET', '/api/v1/calls/call_nope/')).status, 404);
  });

  void test('hangup of a pending call fails it with HANGUP_REQUESTED', async () => {
    const s = await sim({ speed: 1 });
    const r = await create(s, num(10));
    const h = await api(s, 'POST', `/api/v1/calls/${r.body.call_id}/hangup/`);
    assert.equal(h.body.status, 'failed');
    assert.equal(h.body.end_reason, 'HANGUP_REQUESTED');
  });

  void test('simulatorOutcomeRules documents every group', () => {
    const text = simulatorOutcomeRules();
    for (const s of ['00–49', '50–59', '95–97', '98–99', 'SIP_TRUNK_CONFIG_ERROR', 'MAX_DURATION_REACHED'])
      assert.ok(text.includes(s), s);
  });
});

void test('per-number script: one step per attempt, the last repeats; PUT /_sim/scripts works too', async () => {
  const s = await sim();
  const to = num(0); // would be answered by default
  s.script(to, [
    { endReason: 'USER_DID_NOT_PICK_UP' },
    { endReason: 'SIP_FAILED_NUMBER_BLOCKED' },
    { endReason: 'AGENT_HUNG_UP_SILENCE_DETECTED' },
  ]);
  const got = [];
  for (let i = 0; i < 4; i++) got.push((await callOutcome(s, to)).end_reason);
  assert.deepEqual(got, [
    'USER_DID_NOT_PICK_UP',
    'SIP_FAILED_NUMBER_BLOCKED',
    'AGENT_HUNG_UP_SILENCE_DETECTED',
    'AGENT_HUNG_UP_SILENCE_DETECTED',
  ]);
  // campaign_attempt selects the step explicitly.
  assert.equal((await callOutcome(s, to, 2)).end_reason, 'SIP_FAILED_NUMBER_BLOCKED');

  const to2 = num(0);
  const put = await api(s, 'PUT', `/_sim/scripts/${encodeURIComponent(to2)}`, [
    { endReason: 'IDLE_TIMEOUT' },
  ]);
  assert.equal(put.status, 200);
  assert.equal((await callOutcome(s, to2)).end_reason, 'IDLE_TIMEOUT');
});

void test('idempotency: same key → same call and one dial; different body → 422', async () => {
  const s = await sim();
  const to = num(1);
  const a = await create(s, to, { x: 1 }, { 'idempotency-key': 'k1' });
  const b = await create(s, to, { x: 1 }, { 'idempotency-key': 'k1' });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(b.body.call_id, a.body.call_id);
  const c = await create(s, to, { x: 2 }, { 'idempotency-key': 'k1' });
  assert.equal(c.status, 422);
  assert.ok(c.body.detail);
  const l = s.ledger();
  assert.equal(l.counts.dials, 1);
  assert.equal(l.dials.length, 1);
  assert.equal(l.dials[0]!.idempotency_key, 'k1');
});

void test('auth: missing, unknown key or wrong scheme → 401 {detail}', async () => {
  const s = await sim();
  for (const authorization of ['', 'Bearer nope', `Token ${KEY}`]) {
    const r = await api(s, 'POST', '/api/v1/calls/', createBody(num(1)), { authorization });
    assert.equal(r.status, 401, authorization);
    assert.equal(typeof r.body.detail, 'string');
  }
  assert.equal(s.ledger().counts.dials, 0);
});

void test('bad body → 400 naming the field', async () => {
  const s = await sim();
  const r = await api(s, 'POST', '/api/v1/calls/', { pipe_id: 'p', to_number: '4155550100' });
  assert.equal(r.status, 400);
  assert.match(r.body.detail, /to_number/);
  assert.deepEqual(
    r.body.errors.map((e: { field: string }) => e.field),
    ['to_number'],
  );
  const r2 = await api(s, 'POST', '/api/v1/calls/', { to_number: '+14155550100' });
  assert.equal(r2.status, 400);
  assert.match(r2.body.detail, /pipe_id/);
  assert.equal(s.ledger().counts.dials, 0);
});

void test('concurrency cap: excess calls wait in pending (FIFO), are counted as violations, and all finish', async () => {
  const s = await sim({ accounts: [{ ...BIG, concurrency: 1 }], speed: 2000 });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await create(s, num(10))).body.call_id);
  let maxBusy = 0;
  const order: string[] = [];
  const done = await waitFor(async () => {
    const list = (await api(s, 'GET', '/api/v1/calls/?limit=100')).body.results as Array<{
      call_id: string;
      status: string;
      started_at: string | null;
    }>;
    const busy = list.filter((c) => c.status === 'ringing' || c.status === 'active').length;
    maxBusy = Math.max(maxBusy, busy);
    for (const c of list) if (c.started_at && !order.includes(c.call_id)) order.push(c.call_id);
    return list.every((c) => c.status === 'completed') ? list : undefined;
  }, 'all calls to complete');
  assert.equal(done.length, 3);
  assert.ok(maxBusy <= 1, `at most one call ringing/active at a time, saw ${maxBusy}`);
  const l = s.ledger();
  assert.equal(l.violations.filter((v) => v.kind === 'concurrency').length, 2);
  // FIFO: started in creation order.
  const started = ids.map((id) => done.find((c) => c.call_id === id)!.started_at!);
  assert.deepEqual([...started].sort(), started);
});

void test('calls/minute: 429 with Retry-After and a violation; replays are not counted; the window slides', async () => {
  const s = await sim({ accounts: [{ ...BIG, callsPerMinute: 2 }], rateWindowMs: 800 });
  const first = await create(s, num(1), undefined, { 'idempotency-key': 'a' });
  assert.equal((await create(s, num(1))).status, 201);
  const limited = await create(s, num(1));
  assert.equal(limited.status, 429);
  assert.equal(limited.headers['retry-after'], '1');
  assert.equal(limited.body.detail, 'calls per minute limit exceeded');
  const replay = await create(s, first.body.to_number, undefined, { 'idempotency-key': 'a' });
  assert.equal(replay.status, 201, 'an idempotent replay is not a new create');
  assert.equal(replay.body.call_id, first.body.call_id);
  const l = s.ledger();
  assert.equal(l.counts.dials, 2);
  assert.deepEqual(
    l.violations.map((v) => v.kind),
    ['calls_per_minute'],
  );
  await new Promise((r) => setTimeout(r, 850));
  assert.equal((await create(s, num(1))).status, 201);
});

void test('tasks/day: distinct task workflow ids per day, 429 until the reset (dayMs)', async () => {
  const s = await sim({ accounts: [{ ...BIG, tasksPerDay: 2 }], dayMs: 1000 });
  const t = (wf: string, attempt: number) =>
    create(s, num(60), { campaign_task_workflow_id: wf, campaign_attempt: attempt });
  assert.equal((await t('wf-a', 1)).status, 201);
  assert.equal((await t('wf-b', 1)).status, 201);
  assert.equal((await t('wf-a', 2)).status, 201, 'a task already counted today may dial again');
  const limited = await t('wf-c', 1);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers['retry-after'], '1');
  assert.match(limited.body.detail, /tasks per day/);
  assert.deepEqual(
    s.ledger().violations.map((v) => v.kind),
    ['tasks_per_day'],
  );
  await waitFor(
    async () => ((await t('wf-c', 1)).status === 201 ? true : undefined),
    'the day to reset',
    3000,
  );
  assert.equal(s.ledger().counts.dials, 4);
});

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
  event: any;
}
async function receiver(status: () => number = () => 200): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const code = status();
      if (code < 300) got.push({ headers: req.headers, raw, event: JSON.parse(raw) });
      res.statusCode = code;
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/unpod`, got };
}

void test('webhooks: signed events for every status change; tampering fails verification; ..95 sends none', async () => {
  const rx = await receiver();
  const s = await sim({ webhookUrl: rx.url, webhookSecret: 'whsec_t' });
  const id = (await create(s, num(20))).body.call_id;
  const silent = (await create(s, num(96))).body.call_id;
  const evs = await waitFor(() => {
    const e = rx.got.filter((g) => g.event.call.call_id === id);
    return e.length >= 3 ? e : undefined;
  }, 'three webhooks');
  await waitEnded(s, silent);
  await new Promise((r) => setTimeout(r, 100));
  const statuses = evs.map((e) => `${e.event.type}:${e.event.call.status}`).sort();
  assert.deepEqual(statuses, [
    'call.ended:completed',
    'call.status_changed:active',
    'call.status_changed:ringing',
  ]);
  assert.equal(new Set(evs.map((e) => e.event.event_id)).size, 3, 'event ids are unique');
  for (const e of evs) {
    const args = {
      secret: 'whsec_t',
      timestampHeader: e.headers['x-unpod-timestamp'],
      signatureHeader: e.headers['x-unpod-signature'],
      rawBody: e.raw,
    };
    assert.deepEqual(verifyWebhookSignature(args), { ok: true });
    assert.equal(
      verifyWebhookSignature({
        ...args,
        rawBody: e.raw
          .replace('completed', 'failed')
          .replace('active', 'failed')
          .replace('ringing', 'failed'),
      }).ok,
      false,
    );
    assert.equal(verifyWebhookSignature({ ...args, secret: 'other' }).ok, false);
    assert.equal(
      verifyWebhookSignature({ ...args, nowMs: Date.now() + 3600_000 }).ok,
      false,
      'stale timestamp',
    );
  }
  const ended = evs.find((e) => e.event.type === 'call.ended')!;
  assert.equal(ended.event.call.end_reason, 'USER_HUNG_UP_IN_CALL');
  assert.equal(rx.got.filter((g) => g.event.call.call_id === silent).length, 0, 'no webhook for ..95-97');
  assert.equal(s.ledger().counts.webhooks_dropped, 3);
  assert.equal(signWebhook('s', 1, 'b'), signWebhook('s', 1, 'b'));
  assert.match(signWebhook('s', 1, 'b'), /^v1=[0-9a-f]{64}$/);
});

async function lossyRun(seed: number) {
  const rx = await receiver();
  const s = await sim({ seed, webhookUrl: rx.url, webhookFaults: { lossRate: 0.3, duplicateRate: 0.3 } });
  const N = 20;
  const ids = [];
  for (let i = 0; i < N; i++) ids.push((await create(s, num(30))).body.call_id);
  for (const id of ids) await waitEnded(s, id);
  const l = await waitFor(() => {
    const c = s.ledger().counts;
    return c.webhooks_sent === rx.got.length &&
      c.webhooks_sent === 3 * N - c.webhooks_dropped + c.webhooks_duplicated
      ? s.ledger()
      : undefined;
  }, 'deliveries to settle');
  return { l, rx, N };
}

void test('webhook loss and duplication rates are honoured and reproducible with a seed', async () => {
  const { l, rx, N } = await lossyRun(7);
  const c = l.counts;
  const emitted = 3 * N;
  assert.ok(
    c.webhooks_dropped >= emitted * 0.1 && c.webhooks_dropped <= emitted * 0.5,
    `dropped ${c.webhooks_dropped}/${emitted}`,
  );
  assert.ok(c.webhooks_duplicated > 0, 'some duplicated');
  const byId = new Map<string, number>();
  for (const g of rx.got) byId.set(g.event.event_id, (byId.get(g.event.event_id) ?? 0) + 1);
  assert.equal(byId.size, emitted - c.webhooks_dropped, 'every event not dropped arrived');
  assert.equal(
    [...byId.values()].filter((v) => v === 2).length,
    c.webhooks_duplicated,
    'duplicates arrive twice with the same event_id',
  );
  const again = await lossyRun(7);
  assert.equal(again.l.counts.webhooks_dropped, c.webhooks_dropped, 'same seed, same drops');
  assert.equal(again.l.counts.webhooks_duplicated, c.webhooks_duplicated, 'same seed, same duplicates');
});

void test('webhook delivery retries a failing receiver and then gives up, counting it', async () => {
  let calls = 0;
  const rx = await receiver(() => (++calls === 1 ? 500 : 200));
  const s = await sim({ webhookUrl: rx.url });
  s.script('+14155559999', [{ endReason: 'SIP_FAILED_WRONG_NUMBER', ringMs: 10 }]);
  const id = (await create(s, '+14155559999')).body.call_id;
  await waitFor(
    () => (rx.got.filter((g) => g.event.call.call_id === id).length === 2 ? true : undefined),
    'both events after a retry',
  );
  assert.ok(calls >= 3, 'the first 500 was retried');

  s.setWebhookUrl('http://127.0.0.1:9/nothing-listens-here');
  await create(s, '+14155559999');
  await waitFor(
    () => (s.ledger().counts.webhooks_failed >= 2 ? true : undefined),
    'deliveries to give up',
    5000,
  );
});

void test('API faults: a 503 dials nothing; a timeout answers 504 and dials nothing; /_sim is never faulted', async () => {
  const s = await sim();
  s.setFaults({ errorRate: 1 });
  const r = await create(s, num(1));
  assert.equal(r.status, 503);
  assert.ok(r.body.detail);
  const adm = await api(s, 'GET', '/_sim/ledger');
  assert.equal(adm.status, 200);
  assert.equal(adm.body.counts.dials, 0);
  assert.equal(adm.body.counts.faults_injected, 1);
  s.setFaults({ timeoutRate: 1, timeoutMs: 100 });
  const t0 = Date.now();
  const t = await create(s, num(1));
  assert.equal(t.status, 504);
  assert.ok(Date.now() - t0 >= 90);
  s.setFaults({ errorRate: 1, paths: ['/api/v1/sessions/'] });
  assert.equal((await create(s, num(1))).status, 201, 'faults only on the listed prefixes');
  assert.equal((await api(s, 'GET', '/api/v1/sessions/')).status, 503);
  s.setFaults(undefined);
  const l = s.ledger();
  assert.equal(l.counts.dials, 1);
  assert.equal(l.counts.faults_injected, 3);
});

void test('close() releases a request held by a timeout fault', async () => {
  const s = await startSimulator({ speed: 1000, faults: { timeoutRate: 1, timeoutMs: 30_000 } });
  const pending = create(s, num(1)).then(
    () => 'answered',
    () => 'socket closed',
  );
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await s.close();
  assert.equal(await pending, 'socket closed');
  assert.ok(Date.now() - t0 < 2000);
});

void test('ledger duplicates: two idempotency keys for the same (task workflow, attempt)', async () => {
  const s = await sim();
  const md = { campaign_task_workflow_id: 'task-x', campaign_attempt: 1 };
  const a = await create(s, num(1), md, { 'idempotency-key': 'one' });
  const b = await create(s, num(1), md, { 'idempotency-key': 'two' });
  await create(s, num(1), { ...md, campaign_attempt: 2 }, { 'idempotency-key': 'three' });
  const l = s.ledger();
  assert.deepEqual(l.duplicates, [
    { task_workflow_id: 'task-x', attempt: 1, call_ids: [a.body.call_id, b.body.call_id] },
  ]);
  assert.equal(l.dials.find((d) => d.call_id === a.body.call_id)!.task_workflow_id, 'task-x');
  s.reset();
  assert.equal(s.ledger().dials.length, 0);
});

void test('v1 tasks/runs/sessions and v2 runs are consistent with the calls', async () => {
  const s = await sim();
  const task = await api(s, 'POST', '/api/v1/tasks/', {
    agent_handle: 'sim-agent',
    phone_number: num(2),
    space_token: 'sp_x',
    metadata: { campaign_run_id: 'run-1' },
  });
  assert.equal(task.status, 201);
  const call = await waitEnded(s, task.body.call_id);
  const runs = await api(s, 'GET', `/api/v1/runs/?task_id=${task.body.task_id}`);
  assert.equal(runs.body.results.length, 1);
  assert.equal(runs.body.results[0].status, 'completed');
  const sess = await api(s, 'GET', `/api/v1/sessions/${call.session_id}/`);
  assert.equal(sess.body.call_id, call.call_id);
  const v2 = await api(s, 'GET', '/api/v2/platform/spaces/sp_x/runs/run-1/tasks/', undefined, {
    authorization: `Token ${KEY}`,
  });
  assert.equal(v2.status, 200);
  assert.equal(v2.body.count, 1);
  assert.equal(v2.body.data[0].output.endedReason, 'USER_HUNG_UP_IN_CALL');
  assert.equal(
    (await api(s, 'GET', '/api/v2/platform/spaces/sp_x/runs/')).status,
    401,
    'v2 wants Token auth',
  );
  const bad = await api(s, 'POST', '/api/v1/tasks/', {
    agent_handle: 'a',
    phone_number: '123',
    space_token: 's',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.detail, /phone_number/);
});

void test('webhook delay and reorder still deliver every event exactly once', async () => {
  const rx = await receiver();
  const s = await sim({ webhookUrl: rx.url, webhookFaults: { delayMs: [5, 30], reorder: true } });
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await create(s, num(40))).body.call_id);
  await waitFor(() => (rx.got.length === 15 ? true : undefined), '15 events');
  assert.equal(new Set(rx.got.map((g) => g.event.event_id)).size, 15);
  assert.deepEqual(new Set(rx.got.map((g) => g.event.call.call_id)), new Set(ids));
});

void test('admin endpoints: health, limits, faults, webhook url, reset', async () => {
  const s = await sim();
  assert.deepEqual((await api(s, 'GET', '/_sim/health')).body, { ok: true });
  assert.equal((await api(s, 'PUT', '/_sim/accounts/acct_big/limits', { callsPerMinute: 1 })).status, 200);
  assert.equal((await api(s, 'PUT', '/_sim/accounts/acct_nope/limits', { callsPerMinute: 1 })).status, 404);
  assert.equal((await create(s, num(1))).status, 201);
  assert.equal((await create(s, num(1))).status, 429);
  assert.equal((await api(s, 'PUT', '/_sim/faults', { errorRate: 2 })).status, 400, 'rates are validated');
  assert.equal((await api(s, 'PUT', '/_sim/faults', { errorRate: 1 })).status, 200);
  assert.equal((await api(s, 'GET', '/api/v1/calls/')).status, 503);
  assert.equal((await api(s, 'PUT', '/_sim/faults', {})).status, 200);
  const rx = await receiver();
  assert.equal((await api(s, 'PUT', '/_sim/webhook', { url: rx.url })).status, 200);
  assert.equal((await api(s, 'POST', '/_sim/reset')).status, 200);
  const l = s.ledger();
  assert.equal(l.counts.dials + l.counts.violations, 0, 'reset forgets dials and violations');
  await create(s, num(1));
  await waitFor(() => (rx.got.length === 3 ? true : undefined), 'webhooks to the new url');
});

void test('tasks/day resets at midnight in the account time zone', () => {
  const now = Date.UTC(2026, 2, 8, 20, 30); // 2026-03-08 20:30Z: the US DST change day
  for (const tz of ['UTC', 'Asia/Kolkata', 'America/New_York']) {
    const w = dayWindow(now, { epoch: 0, timezone: tz });
    assert.ok(w.resetAt > now && w.resetAt - now <= 24 * 3600_000, tz);
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(w.resetAt));
    assert.equal(local, '00:00', `${tz} resets at local midnight`);
  }
  assert.equal(dayWindow(now, { epoch: 0, timezone: 'UTC' }).resetAt, Date.UTC(2026, 2, 9));
});
