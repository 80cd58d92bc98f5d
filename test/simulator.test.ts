/**
 * The Unpod simulator against a real server on port 0, driven with plain undici requests shaped as the SDK
 * (unpod 0.5.0 `management/calls.py`, `_http.py`, `_auth.py`) sends them. High speed so calls end in ms.
 *   node --import tsx --test test/simulator.test.ts
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { request } from 'undici';
import {
  DEFAULT_MIX,
  distinctShapes,
  requestShape,
  startSimulator,
  simulatorOutcomeRules,
  type RunningSimulator,
  type SimulatorOptions,
} from '../src/simulator';
import { dayWindow } from '../src/simulator/limits';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, unpodPaths } from '../src/unpod/paths';
import { agentPushSchema, callSchema, callListSchema, unwrapData } from '../src/unpod/schemas';
import { verifyWebhookSignature } from '../src/unpod/webhook-signature';

const KEY = 'sim_test_key';
const BIG = {
  apiKey: KEY,
  accountId: 'acct_big',
  callsPerMinute: 100_000,
  tasksPerDay: 100_000,
  concurrency: 1000,
};
const CALLS = unpodPaths.calls();
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
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
  body: any;
}

/** A request as the SDK's AsyncHTTPClient sends it: auth headers, Content-Type JSON, a fresh X-Request-Id. */
async function api(
  s: RunningSimulator,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  opts: { timeoutMs?: number } = {},
): Promise<Res> {
  const res = await request(s.url + path, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'x-request-id': `req-${Math.random()}`,
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

let n = 0;
const createBody = (to: string, data?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  to_number: to,
  pipe_id: 'pipe_1',
  ...(data ? { data } : {}),
  ...extra,
});
async function create(
  s: RunningSimulator,
  to: string,
  data?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<Res> {
  return api(s, 'POST', CALLS, createBody(to, data), headers);
}
/** A fresh number with the given last two digits. */
const num = (nn: number) => `+1415${String(1000 + ++n).padStart(4, '0')}${String(nn).padStart(2, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const TERMINAL = ['connected', 'notConnected', 'failed', 'completed', 'not_connected'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
async function getCall(s: RunningSimulator, id: string, headers?: Record<string, string>): Promise<any> {
  const r = await api(s, 'GET', unpodPaths.call(id), undefined, headers);
  assert.equal(r.status, 200, r.text);
  return r.body.data;
}
async function waitEnded(s: RunningSimulator, id: string) {
  return waitFor(async () => {
    const c = await getCall(s, id);
    return TERMINAL.includes(c.status) ? c : undefined;
  }, `call ${id} to end`);
}
async function listCalls(s: RunningSimulator, query = '') {
  const r = await api(s, 'GET', `${CALLS}${query}`);
  assert.equal(r.status, 200, r.text);
  return r.body.data as Array<Record<string, unknown>>;
}
async function callOutcome(s: RunningSimulator, to: string, attempt?: number) {
  const r = await create(s, to, attempt ? { campaign_attempt: attempt } : undefined);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.data.status, 'pending');
  const c = await waitEnded(s, r.body.data.id);
  return { status: c.status as string, end_reason: c.end_reason as string, call: c };
}

void describe('paths, envelope and the call model', () => {
  void test('create: 201 in the renderer envelope, status pending, the SDK Call shape, data as sent', async () => {
    const s = await sim({ speed: 1 });
    const data = { campaign_task_id: 'task-1', campaign_attempt: 1, clinic: 'Northside' };
    const r = await api(s, 'POST', CALLS, createBody(num(10), data, { instructions: 'be brief' }));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.status_code, 201);
    assert.equal(typeof r.body.message, 'string');
    const c = r.body.data;
    assert.equal(c.status, 'pending');
    assert.match(c.id, /^call_/);
    assert.equal(c.call_id, c.id);
    assert.equal(c.user_number, c.to_number);
    assert.deepEqual(c.data, data);
    assert.equal(c.metadata, undefined, 'the context field is data, not metadata');
    assert.equal(c.instructions, 'be brief');
    assert.equal(c.direction, 'outbound');
    assert.equal(c.pipe_id, 'pipe_1');
    assert.match(c.from_number, /^\+1555010\d{4}$/, "the pipe's number");
    assert.deepEqual(c.transcript, []);
    assert.equal(c.transcript_turns, 0);
    for (const k of [
      'end_reason',
      'started_at',
      'ended_at',
      'duration_s',
      'recording_url',
      'initial_call_id',
    ])
      assert.equal(c[k], null, k);
    assert.ok(c.created && c.modified);
    assert.equal(c.scheduled_at, null);
    assert.ok('call_timings' in c.traces);
    // Our own boundary schema reads it (unwrapped as _http.py unwrap_data does).
    const parsed = callSchema.parse(unwrapData(r.body));
    assert.equal(parsed.state, 'pending');
    assert.equal(parsed.data.clinic, 'Northside');
  });

  void test('no trailing slashes, and the old /api/v1 routes are gone', async () => {
    const s = await sim();
    assert.equal((await api(s, 'POST', `${CALLS}/`, createBody(num(1)))).status, 404);
    assert.equal((await api(s, 'POST', '/api/v1/calls/', createBody(num(1)))).status, 404);
    for (const p of ['/api/v1/sessions/', '/api/v1/spaces/', '/api/v1/agents/', '/api/v1/call-logs/'])
      assert.equal((await api(s, 'GET', p)).status, 404, p);
    assert.equal(s.ledger().counts.dials, 0);
  });

  void test('GET …/calls/{id}: full record; unknown id → 404 {status_code, message}', async () => {
    const s = await sim();
    const o = await callOutcome(s, num(20));
    const c = o.call;
    assert.equal(c.status, 'connected');
    assert.equal(c.end_reason, 'USER_HUNG_UP_IN_CALL');
    assert.ok(Array.isArray(c.transcript) && c.transcript.length > 0);
    for (const t of c.transcript) {
      assert.ok(['agent', 'user'].includes(t.role));
      assert.equal(typeof t.content, 'string');
      assert.ok(!Number.isNaN(Date.parse(t.timestamp)));
    }
    assert.equal(c.transcript_turns, c.transcript.length);
    assert.match(c.recording_url, /^https:\/\//);
    assert.ok(c.duration_s > 0);
    assert.ok(c.started_at && c.ended_at && c.session_id);
    const t = c.traces.call_timings;
    assert.ok(t.call_dialed_at && t.call_connected_at && t.call_ended_at);
    assert.equal(t.talk_duration_seconds, c.duration_s);
    assert.equal(c.traces.supervoice_end_reason, 'USER_HUNG_UP_IN_CALL');
    const missing = await api(s, 'GET', unpodPaths.call('call_nope'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.status_code, 404);
    assert.equal(typeof missing.body.message, 'string');
  });

  void test('lifecycle: pending → dispatching → ringing → active → connected', async () => {
    const s = await sim({ speed: 1 });
    const to = num(0);
    s.script(to, [{ endReason: 'agent_end_call', ringMs: 800, talkMs: 800 }]);
    const created = (await create(s, to)).body.data;
    const id = created.id;
    const seen: string[] = [created.status];
    await waitFor(
      async () => {
        const st = (await getCall(s, id)).status as string;
        if (seen.at(-1) !== st) seen.push(st);
        return TERMINAL.includes(st) ? true : undefined;
      },
      'the call to end',
      8000,
    );
    assert.deepEqual(seen, ['pending', 'dispatching', 'ringing', 'active', 'connected']);
  });
});

void describe('default outcome rules (last two digits), new vocabulary', () => {
  const cases: Array<[number, number, string, string]> = [
    // [digits, attempt, end_reason, status]
    [0, 1, 'USER_HUNG_UP_IN_CALL', 'connected'],
    [49, 1, 'USER_HUNG_UP_IN_CALL', 'connected'],
    [50, 1, 'USER_DID_NOT_PICK_UP', 'notConnected'],
    [59, 2, 'USER_HUNG_UP_IN_CALL', 'connected'],
    [60, 1, 'USER_DID_NOT_PICK_UP', 'notConnected'],
    [64, 3, 'USER_DID_NOT_PICK_UP', 'notConnected'],
    [65, 1, 'VOICEMAIL_DETECTED_PRECONNECT', 'notConnected'],
    [69, 2, 'USER_HUNG_UP_IN_CALL', 'connected'],
    [70, 1, 'AGENT_HUNG_UP_VOICEMAIL_DETECTED', 'connected'],
    [73, 1, 'USER_HUNG_UP_RINGING', 'notConnected'],
    [75, 1, 'SIP_FAILED_WRONG_NUMBER', 'failed'],
    [78, 1, 'SIP_FAILED_NUMBER_BLOCKED', 'failed'],
    [80, 1, 'AGENT_HUNG_UP_SILENCE_DETECTED', 'connected'],
    [85, 1, 'MAX_DURATION_REACHED', 'connected'],
    [87, 1, 'IDLE_TIMEOUT', 'connected'],
    [89, 2, 'USER_HUNG_UP_IN_CALL', 'connected'],
    [90, 1, 'SIP_TRUNK_CONFIG_ERROR', 'failed'],
    [95, 1, 'agent_end_call', 'connected'],
    [96, 1, 'customer-ended-call', 'connected'],
    [97, 1, 'caller_hangup', 'connected'],
  ];
  for (const [nn, attempt, reason, status] of cases) {
    void test(`..${String(nn).padStart(2, '0')} attempt ${attempt} → ${reason} (${status})`, async () => {
      const s = await sim();
      const o = await callOutcome(s, num(nn), attempt);
      assert.equal(o.end_reason, reason);
      assert.equal(o.status, status);
      assert.ok(o.call.ended_at);
      assert.ok(o.call.session_id, 'a session id is assigned when ringing');
      if (status === 'connected') {
        assert.ok(o.call.transcript.length > 0 && o.call.recording_url);
        assert.ok(o.call.duration_s > 0);
        assert.ok(o.call.traces.call_timings.call_connected_at);
      } else {
        assert.deepEqual(o.call.transcript, [], 'a never-answered call has no turns: [] on a GET');
        assert.equal(o.call.recording_url, null);
        assert.equal(o.call.traces.call_timings.call_connected_at, null);
      }
    });
  }

  void test('without campaign_attempt the attempt is the count of calls to the number', async () => {
    const s = await sim();
    const to = num(55);
    assert.equal((await callOutcome(s, to)).end_reason, 'USER_DID_NOT_PICK_UP');
    assert.equal((await callOutcome(s, to)).end_reason, 'USER_HUNG_UP_IN_CALL');
  });

  void test('simulatorOutcomeRules documents every group', () => {
    const text = simulatorOutcomeRules();
    for (const s of ['00–49', '50–59', '95–95', '98–99', 'agent_end_call', 'SIP_TRUNK_CONFIG_ERROR', 'data.'])
      assert.ok(text.includes(s), s);
  });
});

void test("old vocabulary ('older servers'): completed / not_connected / failed, no dispatching", async () => {
  const s = await sim({ statusVocabulary: 'old' });
  assert.equal((await callOutcome(s, num(10))).status, 'completed');
  assert.equal((await callOutcome(s, num(60))).status, 'not_connected');
  assert.equal((await callOutcome(s, num(75))).status, 'failed');
  const slow = await sim({ statusVocabulary: 'old', speed: 1 });
  const created = (await create(slow, num(10))).body.data;
  const id = created.id;
  const seen = new Set<string>([created.status]);
  for (let i = 0; i < 60; i++) {
    seen.add((await getCall(slow, id)).status);
    await sleep(10);
  }
  assert.ok(!seen.has('dispatching'), `seen ${[...seen].join(', ')}`);
  assert.ok(seen.has('pending'));
  assert.deepEqual(
    s.ledger().dials.map((d) => d.status),
    ['completed', 'not_connected', 'failed'],
    'the ledger speaks the same vocabulary',
  );
});

void test('mix mode with DEFAULT_MIX draws Unpod’s own reasons too, each ending in the right status', async () => {
  const s = await sim({ outcomes: { mix: { ...DEFAULT_MIX } }, seed: 3 });
  const got = new Map<string, string>();
  const ids = [];
  for (let i = 0; i < 80; i++) ids.push((await create(s, num(i % 100))).body.data.id);
  for (const id of ids) {
    const c = await waitEnded(s, id);
    got.set(c.end_reason, c.status);
  }
  for (const r of ['agent_end_call', 'USER_DID_NOT_PICK_UP']) assert.ok(got.has(r), `drew ${r}`);
  assert.ok(
    ['caller_hangup', 'no_answer', 'customer-ended-call'].some((r) => got.has(r)),
    `drew some of Unpod's own reasons: ${[...got.keys()].join(', ')}`,
  );
  if (got.has('no_answer')) assert.equal(got.get('no_answer'), 'notConnected');
  assert.equal(got.get('agent_end_call'), 'connected');
});

void describe('list', () => {
  void test('newest first, no pagination, rows carry transcript null and transcript_turns; filters', async () => {
    const s = await sim();
    const done = (await callOutcome(s, num(10))).call;
    const stuck = (await create(s, num(98), undefined)).body.data;
    const other = (await api(s, 'POST', CALLS, { ...createBody(num(98)), pipe_id: 'pipe_2' })).body.data;
    for (const c of [stuck, other])
      await waitFor(async () => (await getCall(s, c.id)).status === 'active', 'stuck calls active');
    const all = await listCalls(s);
    assert.deepEqual(
      all.map((c) => c.id),
      [other.id, stuck.id, done.id],
    );
    for (const row of all) assert.equal(row.transcript, null, 'list rows do not load turns');
    assert.equal(all.find((c) => c.id === done.id)!.transcript_turns, done.transcript.length);
    assert.ok(done.transcript.length > 0);
    const raw = await api(s, 'GET', CALLS);
    assert.deepEqual(Object.keys(raw.body).sort(), ['data', 'message', 'status_code']);

    const live = await listCalls(s, '?call_status=in_flight');
    assert.deepEqual(new Set(live.map((c) => c.id)), new Set([stuck.id, other.id]));
    assert.deepEqual(
      (await listCalls(s, '?call_status=connected')).map((c) => c.id),
      [done.id],
    );
    assert.deepEqual(
      (await listCalls(s, '?call_status=active&pipe_id=pipe_2')).map((c) => c.id),
      [other.id],
    );
    assert.deepEqual(
      (await listCalls(s, '?call_status=in_flight&pipe_id=pipe_1')).map((c) => c.id),
      [stuck.id],
    );
    assert.deepEqual(await listCalls(s, '?call_status=completed'), [], 'exact status, new vocabulary');
    const parsed = callListSchema.parse(unwrapData(raw.body));
    assert.deepEqual(
      parsed.map((c) => c.transcript),
      [null, null, null],
    );
  });
});

void describe('hangup', () => {
  void test('a stuck call: POST …/hangup without a body ends it connected with HANGUP_REQUESTED', async () => {
    const s = await sim();
    const id = (await create(s, num(98))).body.data.id;
    await waitFor(async () => (await getCall(s, id)).status === 'active', 'stuck call to go active');
    await sleep(300); // longer than any scaled talk time
    assert.equal((await getCall(s, id)).status, 'active');
    const h = await api(s, 'POST', unpodPaths.callHangup(id));
    assert.equal(h.status, 200, h.text);
    assert.equal(h.body.data.status, 'connected');
    assert.equal(h.body.data.end_reason, 'HANGUP_REQUESTED');
    const again = await api(s, 'POST', unpodPaths.callHangup(id));
    assert.equal(again.body.data.ended_at, h.body.data.ended_at, 'hangup of a terminal call changes nothing');
    const missing = await api(s, 'POST', unpodPaths.callHangup('call_nope'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.status_code, 404);
  });

  void test('a pending call ends notConnected; hangupAnswer "empty" answers 200 with no body', async () => {
    const s = await sim({ speed: 1, hangupAnswer: 'empty' });
    const id = (await create(s, num(10))).body.data.id;
    const h = await api(s, 'POST', unpodPaths.callHangup(id));
    assert.equal(h.status, 200);
    assert.equal(h.text, '');
    const c = await getCall(s, id);
    assert.equal(c.status, 'notConnected');
    assert.equal(c.end_reason, 'HANGUP_REQUESTED');
  });
});

void describe('auth', () => {
  void test('Bearer, Token and JWT with the account key; missing, unknown or unsupported → 401 {detail}', async () => {
    const s = await sim();
    for (const scheme of ['Bearer', 'Token', 'JWT']) {
      const r = await api(s, 'POST', CALLS, createBody(num(1)), { authorization: `${scheme} ${KEY}` });
      assert.equal(r.status, 201, `${scheme}: ${r.text}`);
    }
    for (const authorization of ['', 'Bearer nope', 'Token nope', `Basic ${KEY}`, KEY]) {
      const r = await api(s, 'POST', CALLS, createBody(num(1)), { authorization });
      assert.equal(r.status, 401, authorization);
      assert.equal(typeof r.body.detail, 'string');
    }
    assert.equal((await api(s, 'GET', CALLS, undefined, { authorization: '' })).status, 401);
    assert.equal(s.ledger().counts.dials, 3);
  });

  void test('an account with an orgHandle: Token/JWT need a matching Org-Handle (403 otherwise); Bearer does not', async () => {
    const s = await sim({ accounts: [{ ...BIG, orgHandle: 'acme' }] });
    for (const scheme of ['Token', 'JWT']) {
      const none = await api(s, 'POST', CALLS, createBody(num(1)), { authorization: `${scheme} ${KEY}` });
      assert.equal(none.status, 403, scheme);
      assert.match(none.body.detail, /Org-Handle/);
      const wrong = await api(s, 'GET', CALLS, undefined, {
        authorization: `${scheme} ${KEY}`,
        'org-handle': 'other',
      });
      assert.equal(wrong.status, 403);
      assert.equal(typeof wrong.body.detail, 'string');
      const ok = await api(s, 'POST', CALLS, createBody(num(1)), {
        authorization: `${scheme} ${KEY}`,
        'org-handle': 'acme',
      });
      assert.equal(ok.status, 201, ok.text);
    }
    assert.equal((await create(s, num(1))).status, 201, 'Bearer (direct mode) needs no Org-Handle');
    assert.equal(s.ledger().counts.dials, 3);
  });

  void test('calls are per account: another key cannot read them', async () => {
    const s = await sim({ accounts: [BIG, { ...BIG, apiKey: 'k2', accountId: 'acct_2' }] });
    const id = (await create(s, num(1))).body.data.id;
    assert.equal(
      (await api(s, 'GET', unpodPaths.call(id), undefined, { authorization: 'Bearer k2' })).status,
      404,
    );
    assert.deepEqual((await api(s, 'GET', CALLS, undefined, { authorization: 'Bearer k2' })).body.data, []);
  });
});

void describe('create validation, pipes and numbers', () => {
  void test('bad body → 400 naming the field; agent_id alone resolves its pipe', async () => {
    const s = await sim();
    const r = await api(s, 'POST', CALLS, { pipe_id: 'p', to_number: '4155550100' });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /to_number/);
    const r2 = await api(s, 'POST', CALLS, { to_number: '+14155550100' });
    assert.equal(r2.status, 400);
    assert.match(r2.body.detail, /pipe_id/);
    assert.equal(s.ledger().counts.dials, 0);
    const a = await api(s, 'POST', CALLS, { to_number: '+14155550100', agent_id: 'agent_x' });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.body.data.agent_id, 'agent_x');
    const pipe = await api(s, 'GET', unpodPaths.pipe(a.body.data.pipe_id));
    assert.equal(pipe.body.data.agent_id, 'agent_x');
  });

  void test('configured pipes: unknown → 404; no number and no from_number → 400 no_from_number', async () => {
    const s = await sim({
      pipes: [
        { pipeId: 'pipe_a', agentId: 'agent_a', number: '+14155550001', maxCallDurationS: 600 },
        { pipeId: 'pipe_bare', number: null },
      ],
    });
    const p = await api(s, 'GET', unpodPaths.pipe('pipe_a'));
    assert.equal(p.status, 200);
    assert.equal(p.body.status_code, 200);
    const pipe = p.body.data;
    assert.equal(pipe.pipe_id, 'pipe_a');
    assert.equal(pipe.agent_id, 'agent_a');
    assert.equal(pipe.number, '+14155550001');
    assert.ok(pipe.number_id);
    assert.equal(pipe.max_call_duration_s, 600);
    assert.equal(pipe.status, 'active');
    assert.equal(typeof pipe.name, 'string');
    const bare = (await api(s, 'GET', unpodPaths.pipe('pipe_bare'))).body.data;
    assert.equal(bare.number, null);
    assert.equal(bare.max_call_duration_s, 3600, 'the default cap');
    assert.equal((await api(s, 'GET', unpodPaths.pipe('pipe_nope'))).status, 404);

    const unknown = await api(s, 'POST', CALLS, { ...createBody(num(1)), pipe_id: 'pipe_nope' });
    assert.equal(unknown.status, 404);
    const noFrom = await api(s, 'POST', CALLS, { ...createBody(num(1)), pipe_id: 'pipe_bare' });
    assert.equal(noFrom.status, 400);
    assert.deepEqual(noFrom.body, { detail: 'no_from_number' });
    const given = await api(s, 'POST', CALLS, {
      ...createBody(num(1)),
      pipe_id: 'pipe_bare',
      from_number: '+14155550002',
    });
    assert.equal(given.status, 201);
    assert.equal(given.body.data.from_number, '+14155550002');
    const byAgent = await api(s, 'POST', CALLS, { to_number: num(1), agent_id: 'agent_a' });
    assert.equal(byAgent.body.data.pipe_id, 'pipe_a');
    assert.equal(s.ledger().counts.dials, 2);
  });

  void test("numbers: the pipes' numbers, in_call while one is used, on both the proxy and the direct path", async () => {
    const s = await sim({ pipes: [{ pipeId: 'pipe_a', number: '+14155550001' }] });
    const rows = (await api(s, 'GET', unpodPaths.numbers())).body.data;
    assert.equal(rows.length, 1);
    assert.equal(rows[0].number, '+14155550001');
    assert.equal(rows[0].status, 'assigned');
    assert.equal(rows[0].pipe_id, 'pipe_a');
    assert.ok(rows[0].id);
    const id = (await api(s, 'POST', CALLS, { ...createBody(num(98)), pipe_id: 'pipe_a' })).body.data.id;
    await waitFor(async () => (await getCall(s, id)).status === 'active', 'call active');
    const busy = (await api(s, 'GET', `${unpodPaths.numbers()}?status=in_call`)).body.data;
    assert.equal(busy.length, 1);
    assert.equal(busy[0].active_call_id, id);
    const direct = await api(s, 'GET', '/v1/numbers?status_filter=in_call');
    assert.equal(direct.status, 200);
    assert.deepEqual(Object.keys(direct.body), ['data'], 'supervoice answers a bare {data}');
    assert.equal(direct.body.data[0].number, '+14155550001');
  });

  void test("talk beyond the pipe's max_call_duration_s ends MAX_DURATION_REACHED at the cap", async () => {
    const s = await sim({ pipes: [{ pipeId: 'pipe_short', maxCallDurationS: 10 }] });
    const to = num(0);
    s.script(to, [{ endReason: 'agent_end_call', talkMs: 60_000 }]);
    const id = (await api(s, 'POST', CALLS, { ...createBody(to), pipe_id: 'pipe_short' })).body.data.id;
    const c = await waitEnded(s, id);
    assert.equal(c.end_reason, 'MAX_DURATION_REACHED');
    assert.equal(c.status, 'connected');
    assert.equal(c.duration_s, 10);
  });
});

void test('per-number script: one step per attempt, the last repeats; PUT /_sim/scripts works too', async () => {
  const s = await sim();
  const to = num(0); // would be answered by default
  s.script(to, [
    { endReason: 'USER_DID_NOT_PICK_UP' },
    { endReason: 'SIP_FAILED_NUMBER_BLOCKED' },
    { endReason: 'no_answer' },
  ]);
  const got = [];
  for (let i = 0; i < 4; i++) got.push((await callOutcome(s, to)).end_reason);
  assert.deepEqual(got, ['USER_DID_NOT_PICK_UP', 'SIP_FAILED_NUMBER_BLOCKED', 'no_answer', 'no_answer']);
  // data.campaign_attempt selects the step explicitly.
  assert.equal((await callOutcome(s, to, 2)).end_reason, 'SIP_FAILED_NUMBER_BLOCKED');
  const to2 = num(0);
  const put = await api(s, 'PUT', `/_sim/scripts/${encodeURIComponent(to2)}`, [
    { endReason: 'IDLE_TIMEOUT' },
  ]);
  assert.equal(put.status, 200);
  assert.equal((await callOutcome(s, to2)).end_reason, 'IDLE_TIMEOUT');
});

void describe('idempotency', () => {
  void test('ignored by default: the same Idempotency-Key twice places two calls, a double dial in the ledger', async () => {
    const s = await sim();
    const data = { campaign_task_id: 'task-x', campaign_attempt: 1 };
    const a = await create(s, num(1), data, { 'idempotency-key': 'k1' });
    const b = await create(s, num(1), data, { 'idempotency-key': 'k1' });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(b.body.data.id, a.body.data.id);
    assert.equal(b.headers['idempotent-replayed'], undefined);
    const l = s.ledger();
    assert.equal(l.counts.dials, 2);
    assert.deepEqual(l.duplicates, [
      { task_workflow_id: 'task-x', attempt: 1, call_ids: [a.body.data.id, b.body.data.id] },
    ]);
    assert.equal(l.dials[0]!.idempotency_key, 'k1', 'the header is recorded, not honoured');
  });

  void test('idempotency: true honours it: same key → same call, different body → 422', async () => {
    const s = await sim({ idempotency: true });
    const to = num(1);
    const a = await create(s, to, { x: 1 }, { 'idempotency-key': 'k1' });
    const b = await create(s, to, { x: 1 }, { 'idempotency-key': 'k1' });
    assert.equal(b.status, 201);
    assert.equal(b.body.data.id, a.body.data.id);
    const c = await create(s, to, { x: 2 }, { 'idempotency-key': 'k1' });
    assert.equal(c.status, 422);
    assert.ok(c.body.detail);
    assert.equal(s.ledger().counts.dials, 1);
  });
});

void describe('limits', () => {
  void test('calls/minute: 429 {error} with Retry-After and X-RateLimit headers on it and on every 2xx', async () => {
    const s = await sim({ accounts: [{ ...BIG, callsPerMinute: 2 }], rateWindowMs: 800 });
    const t0 = Math.floor(Date.now() / 1000);
    const first = await create(s, num(1));
    assert.equal(first.status, 201);
    assert.equal(first.headers['x-ratelimit-limit'], '2');
    assert.equal(first.headers['x-ratelimit-remaining'], '1');
    const reset = Number(first.headers['x-ratelimit-reset']);
    assert.ok(reset >= t0 && reset <= t0 + 2, `reset ${reset} is unix seconds`);
    const get = await api(s, 'GET', CALLS);
    assert.equal(get.headers['x-ratelimit-remaining'], '1', 'GETs carry them too and cost nothing');
    assert.equal((await create(s, num(1))).headers['x-ratelimit-remaining'], '0');
    const limited = await create(s, num(1));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal(limited.headers['x-ratelimit-remaining'], '0');
    assert.equal(limited.headers['x-ratelimit-limit'], '2');
    assert.deepEqual(limited.body, {
      error: { code: 'rate_limited', message: 'calls per minute limit exceeded' },
    });
    const l = s.ledger();
    assert.equal(l.counts.dials, 2);
    assert.deepEqual(
      l.violations.map((v) => v.kind),
      ['calls_per_minute'],
    );
    assert.equal((await api(s, 'GET', '/_sim/ledger')).headers['x-ratelimit-limit'], undefined);
    await sleep(850);
    assert.equal((await create(s, num(1))).status, 201, 'the window slides');
  });

  void test('tasks/day: distinct data.campaign_task_id per day, 429 until the reset (dayMs)', async () => {
    const DAY = 3000;
    const s = await sim({ accounts: [{ ...BIG, tasksPerDay: 2 }], dayMs: DAY });
    await sleep(DAY - (Date.now() % DAY) + 20); // start of a day: the four creates land in one day
    const t = (task: string, attempt: number) =>
      create(s, num(60), { campaign_task_id: task, campaign_attempt: attempt });
    assert.equal((await t('task-a', 1)).status, 201);
    assert.equal((await t('task-b', 1)).status, 201);
    assert.equal((await t('task-a', 2)).status, 201, 'a task already counted today may dial again');
    const limited = await t('task-c', 1);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) <= 3, 'Retry-After: until the day resets');
    assert.match(limited.body.error.message, /tasks per day/);
    assert.deepEqual(
      s.ledger().violations.map((v) => v.kind),
      ['tasks_per_day'],
    );
    await waitFor(async () => (await t('task-c', 1)).status === 201, 'the day to reset', 5000);
    assert.equal(s.ledger().counts.dials, 4);
  });

  void test('concurrency cap: excess calls wait in pending (FIFO), not refused, counted, and all finish', async () => {
    const s = await sim({ accounts: [{ ...BIG, concurrency: 1 }], speed: 2000 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await create(s, num(10));
      assert.equal(r.status, 201);
      ids.push(r.body.data.id);
    }
    let maxBusy = 0;
    const done = await waitFor(async () => {
      const list = await listCalls(s);
      const busy = list.filter((c) =>
        ['dispatching', 'ringing', 'active'].includes(c.status as string),
      ).length;
      maxBusy = Math.max(maxBusy, busy);
      return list.every((c) => c.status === 'connected') ? list : undefined;
    }, 'all calls to complete');
    assert.equal(done.length, 3);
    assert.ok(maxBusy <= 1, `at most one call dispatching/ringing/active at a time, saw ${maxBusy}`);
    assert.equal(s.ledger().violations.filter((v) => v.kind === 'concurrency').length, 2);
    const started = ids.map((id) => done.find((c) => c.id === id)!.started_at as string);
    assert.deepEqual([...started].sort(), started, 'FIFO: started in creation order');
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
  });
});

void describe('faults', () => {
  void test('a 503 or a 504 places nothing; /_sim is never faulted; paths and methods narrow them', async () => {
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
    s.setFaults({ errorRate: 1, paths: [unpodPaths.numbers()] });
    assert.equal((await create(s, num(1))).status, 201, 'faults only on the listed prefixes');
    assert.equal((await api(s, 'GET', unpodPaths.numbers())).status, 503);
    s.setFaults({ errorRate: 1, paths: [CALLS], methods: ['POST'] });
    assert.equal((await api(s, 'GET', CALLS)).status, 200, 'only POSTs');
    assert.equal((await create(s, num(1))).status, 503);
    s.setFaults(undefined);
    const l = s.ledger();
    assert.equal(l.counts.dials, 1);
    assert.equal(l.counts.faults_injected, 4);
  });

  void test('lostAnswerRate: the call is placed exactly once, the answer never comes, and the call lives on', async () => {
    const s = await sim({ faults: { lostAnswerRate: 1 } });
    const data = { campaign_task_id: 'task-lost', campaign_attempt: 1 };
    await assert.rejects(create(s, num(10), data), 'the connection is destroyed without an answer');
    const l = s.ledger();
    assert.equal(l.counts.dials, 1);
    assert.equal(l.counts.answers_lost, 1);
    s.setFaults(undefined);
    // The documented way to find out: list the pipe's calls and match the marker in data.
    const rows = await listCalls(s, '?pipe_id=pipe_1');
    const found = rows.filter((c) => (c.data as Record<string, unknown>).campaign_task_id === 'task-lost');
    assert.equal(found.length, 1);
    const ended = await waitEnded(s, found[0]!.id as string);
    assert.equal(ended.status, 'connected', 'it rang and ended like any call');
    assert.equal(s.ledger().counts.dials, 1);
  });

  void test('slowCreateRate: held past the client timeout, then placed exactly once although the client left', async () => {
    const s = await sim({ faults: { slowCreateRate: 1, slowCreateMs: 400 } });
    const data = { campaign_task_id: 'task-slow', campaign_attempt: 1 };
    const t0 = Date.now();
    await assert.rejects(
      api(s, 'POST', CALLS, createBody(num(10), data), {}, { timeoutMs: 100 }),
      'the client gave up first',
    );
    assert.ok(Date.now() - t0 < 350);
    assert.equal(s.ledger().counts.dials, 0, 'not placed yet');
    await waitFor(() => s.ledger().counts.dials === 1, 'the held create to be placed');
    await sleep(100);
    const l = s.ledger();
    assert.equal(l.counts.dials, 1);
    assert.equal(l.counts.creates_slowed, 1);
    assert.equal(l.dials[0]!.task_workflow_id, 'task-slow');
    // A patient client gets its 201 after the hold.
    const t1 = Date.now();
    const ok = await create(s, num(10));
    assert.equal(ok.status, 201);
    assert.ok(Date.now() - t1 >= 390);
    assert.equal(s.ledger().counts.dials, 2);
  });

  void test('close() releases requests held by a timeout or a slow create', async () => {
    for (const faults of [
      { timeoutRate: 1, timeoutMs: 30_000 },
      { slowCreateRate: 1, slowCreateMs: 30_000 },
    ]) {
      const s = await startSimulator({ speed: 1000, faults });
      const pending = create(s, num(1)).then(
        () => 'answered',
        () => 'socket closed',
      );
      await sleep(50);
      const t0 = Date.now();
      await s.close();
      assert.equal(await pending, 'socket closed');
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(s.ledger().counts.dials, 0);
    }
  });
});

void describe('account-wide failures', () => {
  const cases = [
    ['no_from_number', 400, { detail: 'no_from_number' }],
    ['playbook_not_published', 400, { detail: 'playbook_not_published' }],
    ['no_worker_available', 503, { detail: 'no_worker_available' }],
    ['number_in_use', 409, { detail: 'number_in_use' }],
  ] as const;
  for (const [kind, code, body] of cases) {
    void test(`${kind}: every create answers ${code} ${JSON.stringify(body)} until cleared`, async () => {
      const s = await sim();
      s.setAccountFailure('acct_big', kind);
      for (let i = 0; i < 2; i++) {
        const r = await create(s, num(1));
        assert.equal(r.status, code);
        assert.deepEqual(r.body, body);
      }
      assert.equal((await api(s, 'GET', CALLS)).status, 200, 'reads still work');
      assert.equal(s.ledger().counts.dials, 0);
      assert.equal(s.ledger().counts.account_failures, 2);
      s.setAccountFailure('acct_big', null);
      assert.equal((await create(s, num(1))).status, 201);
    });
  }

  void test('unauthorized: every request of the account answers 401 {detail}; set by option or /_sim', async () => {
    const s = await sim({
      accounts: [BIG, { ...BIG, apiKey: 'k2', accountId: 'acct_2' }],
      accountFailures: { acct_big: 'unauthorized' },
    });
    for (const [m, p] of [
      ['POST', CALLS],
      ['GET', CALLS],
      ['GET', unpodPaths.pipe('pipe_1')],
    ] as const) {
      const r = await api(s, m, p, m === 'POST' ? createBody(num(1)) : undefined);
      assert.equal(r.status, 401, p);
      assert.equal(typeof r.body.detail, 'string');
    }
    assert.equal((await create(s, num(1), undefined, { authorization: 'Bearer k2' })).status, 201);
    const put = await api(s, 'PUT', '/_sim/accounts/acct_big/failure', { kind: null });
    assert.equal(put.status, 200);
    assert.equal((await create(s, num(1))).status, 201);
    assert.equal((await api(s, 'PUT', '/_sim/accounts/acct_big/failure', { kind: 'bogus' })).status, 400);
    assert.equal(
      (await api(s, 'PUT', '/_sim/accounts/acct_big/failure', { kind: 'number_in_use' })).status,
      200,
    );
    assert.equal((await create(s, num(1))).status, 409);
    s.reset();
    assert.equal((await create(s, num(1))).status, 401, 'reset restores the configured failure');
  });
});

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
  body: any;
}
async function receiver(status: () => number = () => 200): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const code = status();
      if (code < 300) got.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.statusCode = code;
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/agent-events`, got };
}

void describe('no webhooks; the AgentRunner push on demand', () => {
  void test('no webhooks: the old webhookUrl option sends nothing, ever', async () => {
    const rx = await receiver();
    const s = await sim({ webhookUrl: rx.url, webhookSecret: 'x' } as SimulatorOptions);
    for (let i = 0; i < 3; i++) await callOutcome(s, num(10));
    await sleep(100);
    assert.equal(rx.got.length, 0);
    assert.equal((await api(s, 'PUT', '/_sim/webhook', { url: rx.url })).status, 404);
  });

  void test('push: call_end signed under the push headers, verifiable, schema-valid, data echoed', async () => {
    const rx = await receiver();
    const s = await sim({ agentPush: { url: rx.url, secret: 'push_secret' } });
    const data = { campaign_task_id: 'task-p', campaign_attempt: 2 };
    const ok = (await callOutcome(s, num(10), undefined)).call;
    const r = await create(s, num(75), data);
    const failed = await waitEnded(s, r.body.data.id);
    const quiet = (await callOutcome(s, num(95))).call; // ..95: no push, ever
    const unanswered = (await callOutcome(s, num(60))).call;
    const slow = await sim({ speed: 1, agentPush: { url: rx.url, secret: 'push_secret' } });
    const never = (await create(slow, num(10))).body.data.id;
    await api(slow, 'POST', unpodPaths.callHangup(never)); // hung up before it was dialed: no runner had it
    const got = await waitFor(() => (rx.got.length >= 3 ? rx.got : undefined), 'three pushes');
    await sleep(100);
    assert.equal(rx.got.length, 3);
    const byId = new Map(got.map((g) => [g.body.call_id, g]));
    assert.equal(byId.get(ok.id)!.body.final_state, 'ended');
    assert.equal(byId.get(unanswered.id)!.body.final_state, 'ended', 'the entrypoint returned');
    assert.ok(!byId.has(never));
    const f = byId.get(failed.id)!;
    assert.deepEqual(f.body, { event: 'call_end', call_id: failed.id, final_state: 'failed', data });
    assert.ok(!byId.has(quiet.id));
    for (const g of got) {
      agentPushSchema.parse(g.body);
      const args = {
        secret: 'push_secret',
        timestampHeader: g.headers[PUSH_TIMESTAMP_HEADER],
        signatureHeader: g.headers[PUSH_SIGNATURE_HEADER],
        rawBody: g.raw,
      };
      assert.deepEqual(verifyWebhookSignature(args), { ok: true });
      assert.equal(verifyWebhookSignature({ ...args, secret: 'other' }).ok, false);
      assert.equal(verifyWebhookSignature({ ...args, rawBody: g.raw.replace('call_', 'cal_') }).ok, false);
    }
    const c = s.ledger().counts;
    assert.equal(c.pushes_sent, 3);
    assert.equal(c.pushes_dropped, 1);
  });

  void test('push is best effort: a failing receiver gets one retry; lossRate drops some; setAgentPush(undefined) stops it', async () => {
    let calls = 0;
    const rx = await receiver(() => (++calls === 1 ? 500 : 200));
    const s = await sim();
    s.setAgentPush({ url: rx.url, secret: 's' });
    await callOutcome(s, num(10));
    await waitFor(() => rx.got.length === 1, 'the retried push');
    assert.equal(calls, 2, 'one try and one retry');

    s.setAgentPush({ url: 'http://127.0.0.1:9/nothing-listens', secret: 's' });
    await callOutcome(s, num(10));
    await waitFor(() => s.ledger().counts.pushes_failed === 1, 'the push to give up');

    s.setAgentPush({ url: rx.url, secret: 's', lossRate: 0.5 });
    const before = rx.got.length;
    const N = 20;
    for (let i = 0; i < N; i++) await callOutcome(s, num(10));
    await waitFor(() => {
      const c = s.ledger().counts;
      return c.pushes_sent + c.pushes_dropped === N + 1 ? c : undefined;
    }, 'pushes to settle');
    const c = s.ledger().counts;
    assert.ok(c.pushes_dropped >= 3 && c.pushes_dropped <= 17, `dropped ${c.pushes_dropped}/${N}`);
    assert.equal(rx.got.length - before, N - c.pushes_dropped);

    s.setAgentPush(undefined);
    const seen = rx.got.length;
    await callOutcome(s, num(10));
    await sleep(100);
    assert.equal(rx.got.length, seen);
  });
});

void test('ledger: duplicates per (data.campaign_task_id, data.campaign_attempt); reset forgets', async () => {
  const s = await sim({ accounts: [{ ...BIG, concurrency: 0 }] }); // every call stays pending
  const data = { campaign_task_id: 'task-x', campaign_attempt: 1 };
  const a = await create(s, num(1), data);
  const b = await create(s, num(1), data);
  await create(s, num(1), { ...data, campaign_attempt: 2 });
  await create(s, num(1), { campaign_attempt: 1 }); // no task marker: never a duplicate
  const l = s.ledger();
  assert.deepEqual(l.duplicates, [
    { task_workflow_id: 'task-x', attempt: 1, call_ids: [a.body.data.id, b.body.data.id] },
  ]);
  const d = l.dials.find((x) => x.call_id === a.body.data.id)!;
  assert.equal(d.task_workflow_id, 'task-x');
  assert.equal(d.pipe_id, 'pipe_1');
  assert.equal(d.status, 'pending');
  s.reset();
  assert.equal(s.ledger().dials.length, 0);
  assert.deepEqual(await listCalls(s), []);
});

void test('admin endpoints: health, limits, faults, pipes, push, reset', async () => {
  const s = await sim();
  assert.deepEqual((await api(s, 'GET', '/_sim/health')).body, { ok: true });
  assert.equal((await api(s, 'PUT', '/_sim/accounts/acct_big/limits', { callsPerMinute: 1 })).status, 200);
  assert.equal((await api(s, 'PUT', '/_sim/accounts/acct_nope/limits', { callsPerMinute: 1 })).status, 404);
  assert.equal((await create(s, num(1))).status, 201);
  assert.equal((await create(s, num(1))).status, 429);
  assert.equal((await api(s, 'PUT', '/_sim/accounts/acct_big/limits', { callsPerMinute: 1000 })).status, 200);
  assert.equal((await api(s, 'PUT', '/_sim/faults', { errorRate: 2 })).status, 400, 'rates are validated');
  assert.equal((await api(s, 'PUT', '/_sim/faults', { lostAnswerRate: 1 })).status, 200);
  await assert.rejects(create(s, num(1)));
  assert.equal((await api(s, 'PUT', '/_sim/faults', {})).status, 200);
  assert.equal(
    (await api(s, 'PUT', '/_sim/pipes/pipe_9', { number: null, maxCallDurationS: 5 })).status,
    200,
  );
  assert.equal((await api(s, 'GET', unpodPaths.pipe('pipe_9'))).body.data.max_call_duration_s, 5);
  const rx = await receiver();
  assert.equal(
    (await api(s, 'PUT', '/_sim/agent-push', { url: rx.url })).status,
    400,
    'a url needs a secret',
  );
  assert.equal((await api(s, 'PUT', '/_sim/agent-push', { url: rx.url, secret: 's' })).status, 200);
  assert.equal((await api(s, 'POST', '/_sim/reset')).status, 200);
  const l = s.ledger();
  assert.equal(l.counts.dials + l.counts.violations, 0, 'reset forgets dials and violations');
  await callOutcome(s, num(1));
  await waitFor(() => rx.got.length === 1, 'the push set through /_sim');
});

void test('recordRequests: every API request as received (method, path, query, headers, body), not /_sim', async () => {
  const s = await sim({ recordRequests: true });
  const id = (await create(s, num(1), { campaign_task_id: 't' })).body.data.id;
  await api(s, 'GET', `${CALLS}?call_status=in_flight&pipe_id=pipe_1`);
  await api(s, 'POST', unpodPaths.callHangup(id));
  await api(s, 'GET', '/_sim/ledger');
  const got = s.requests();
  assert.deepEqual(
    got.map((r) => `${r.method} ${r.path}`),
    [`POST ${CALLS}`, `GET ${CALLS}`, `POST ${unpodPaths.callHangup(id)}`],
  );
  const sent = got[0]!.body as { to_number: string };
  assert.deepEqual(sent, createBody(sent.to_number, { campaign_task_id: 't' }));
  assert.equal(got[0]!.headers.authorization, `Bearer ${KEY}`);
  assert.deepEqual(got[1]!.query, { call_status: 'in_flight', pipe_id: 'pipe_1' });
  assert.equal(got[2]!.body, null, 'hangup carries no body');
  assert.deepEqual((await sim()).requests(), [], 'off by default');
});

void test('requestShape: ids, keys and values fall away; scheme word, header and field names stay', () => {
  const shape = requestShape({
    method: 'POST',
    path: `${unpodPaths.callHangup('call_abc')}`,
    query: { b: '1', a: '2' },
    headers: {
      host: 'x',
      authorization: 'Token k',
      'org-handle': 'acme',
      'x-request-id': 'r',
      accept: '*/*',
    },
    body: { to_number: '+1', data: {} },
  });
  assert.deepEqual(shape, {
    method: 'POST',
    path: '/api/v2/platform/speech/v1/calls/{id}/hangup',
    query: ['a', 'b'],
    auth: 'Token',
    headers: ['authorization', 'org-handle', 'x-request-id'],
    body: ['data', 'to_number'],
  });
  assert.equal(distinctShapes([shape, { ...shape }, { ...shape, auth: 'JWT' }]).length, 2);
});
