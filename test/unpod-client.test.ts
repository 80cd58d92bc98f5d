/**
 * The Unpod client against a real HTTP server on loopback that records every request and answers as Unpod does.
 * Each request shape is checked against the SDK file it comes from (unpod 0.5.0 on PyPI): the method, the path,
 * the headers and the body's field names. Answers cover both envelopes, both status vocabularies, aliases, list
 * transcripts, unknown fields and statuses, empty hangup answers, rate-limit headers and the error bodies seen.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  UnpodClient,
  UnpodRateLimitError,
  UnpodTimeoutError,
  accountBlock,
  createMayHavePlaced,
  isNumberInUse,
  type UnpodHttpError,
} from '../src/unpod';

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Raw text instead of JSON. */
  text?: string;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

const KEY = 'sk_live_secret_key_123';
let server: http.Server;
let base: string;
const seen: Recorded[] = [];
let answers: Answer[] = [];

function answer(...a: Answer[]): void {
  answers = a;
}

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      const a = answers.shift() ?? { body: { data: {} } };
      if (a.hang) return;
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(a.text ?? (a.body === undefined ? '' : JSON.stringify(a.body)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
  answers = [];
});

const CALL_ROW = {
  id: 'call_1',
  pipe_id: 'pipe_a',
  agent_id: null,
  direction: 'outbound',
  from_number: null,
  user_number: '+14155550100',
  status: 'pending',
  end_reason: null,
  data: { campaign_task_id: 'task-x', clinic: 'Northside' },
  transcript: null,
  transcript_turns: 0,
  created: '2026-12-01T09:00:00Z',
  some_new_field: { nested: true },
};

describe('request shapes match the SDK', () => {
  test('calls.create: POST /api/v2/platform/speech/v1/calls, Bearer, X-Request-Id, body fields of calls.py create()', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    answer({ status: 201, body: { status_code: 201, message: 'created', data: CALL_ROW } });
    const call = await client.calls.create({
      to_number: '+14155550100',
      pipe_id: 'pipe_a',
      agent_id: 'agent_b',
      from_number: '+14155550199',
      instructions: 'be brief',
      data: { clinic: 'Northside' },
    });
    const r = seen[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/api/v2/platform/speech/v1/calls');
    // management/_auth.py BearerAuth + management/_http.py _headers()
    assert.equal(r.headers.authorization, `Bearer ${KEY}`);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['idempotency-key'], undefined, 'the SDK sends no idempotency key; neither do we');
    // management/calls.py create(): to_number, agent_id, pipe_id, from_number, instructions, data
    assert.deepEqual(Object.keys(JSON.parse(r.body)).sort(), [
      'agent_id',
      'data',
      'from_number',
      'instructions',
      'pipe_id',
      'to_number',
    ]);
    assert.equal(call.callId, 'call_1');
    assert.equal(call.toNumber, '+14155550100', 'user_number is an alias of to_number (models/call.py)');
    assert.equal(call.data.clinic, 'Northside');
    assert.equal(call.transcript, null, 'a list row: transcript not loaded');
  });

  test('calls.get / calls.list(call_status, pipe_id) / calls.hangup with no body (calls.py)', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    answer(
      {
        body: {
          data: {
            ...CALL_ROW,
            status: 'connected',
            transcript: [{ role: 'agent', content: 'hi', timestamp: 1 }],
          },
        },
      },
      { body: { data: [CALL_ROW] } },
      { text: '' },
    );
    const got = await client.calls.get('call/1');
    const listed = await client.calls.listInFlight('pipe_a');
    const hung = await client.calls.hangup('call_1');
    assert.deepEqual(
      seen.map((r) => `${r.method} ${r.path} ${r.body === '' ? 'no body' : r.body}`),
      [
        'GET /api/v2/platform/speech/v1/calls/call%2F1 no body',
        'GET /api/v2/platform/speech/v1/calls?call_status=in_flight&pipe_id=pipe_a no body',
        'POST /api/v2/platform/speech/v1/calls/call_1/hangup no body',
      ],
    );
    assert.equal(got.state, 'completed');
    assert.equal(got.status, 'connected');
    assert.deepEqual(got.transcript, [{ role: 'agent', content: 'hi', timestamp: 1 }]);
    assert.equal(listed.length, 1);
    assert.equal(hung, null, 'an empty hangup answer is a success (calls.py hangup)');
  });

  test('a base URL with a path: /api/… paths go from the origin (_http.py _url)', async () => {
    const client = new UnpodClient({ baseUrl: `${base}/platform`, apiKey: KEY });
    answer({ body: { data: { ...CALL_ROW } } });
    await client.calls.get('call_1');
    assert.equal(seen[0]!.path, '/api/v2/platform/speech/v1/calls/call_1');
  });

  test('TokenAuth and JWTAuth send their scheme word and Org-Handle (_auth.py)', async () => {
    for (const [scheme, word] of [
      ['token', 'Token'],
      ['jwt', 'JWT'],
    ] as const) {
      const client = new UnpodClient({ baseUrl: base, apiKey: KEY, authScheme: scheme, orgHandle: 'acme' });
      answer({ body: { data: CALL_ROW } });
      await client.calls.get('call_1');
      const r = seen.pop()!;
      assert.equal(r.headers.authorization, `${word} ${KEY}`);
      assert.equal(r.headers['org-handle'], 'acme');
    }
  });

  test('pipes.get (pipes.py): GET /api/v2/platform/speech/v1/pipes/{id}', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    answer({
      body: {
        data: { pipe_id: 'pipe_a', name: 'Front desk', number: '+14155550199', max_call_duration_s: 900 },
      },
    });
    const pipe = await client.pipes.get('pipe_a');
    assert.equal(seen[0]!.path, '/api/v2/platform/speech/v1/pipes/pipe_a');
    assert.equal(pipe.max_call_duration_s, 900);
  });
});

describe('answers are read tolerantly', () => {
  test('both envelopes, call_id or id, a bare body with its own data field left intact (_http.py unwrap_data)', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    const { id: _id, ...noId } = CALL_ROW;
    answer(
      { body: { data: CALL_ROW } },
      { body: { status_code: 200, message: 'ok', data: { ...noId, call_id: 'call_2' } } },
      { body: { ...CALL_ROW, id: 'call_3' } },
    );
    assert.equal((await client.calls.get('a')).callId, 'call_1');
    assert.equal((await client.calls.get('b')).callId, 'call_2');
    const bare = await client.calls.get('c');
    assert.equal(bare.callId, 'call_3');
    assert.equal(
      bare.data.clinic,
      'Northside',
      'a call whose `data` is a dict is not mistaken for an envelope',
    );
  });

  test('old and new status vocabularies; an unknown status is "in progress", never a parse error', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    const cases: [string, string, boolean][] = [
      ['scheduled', 'pending', true],
      ['dispatching', 'pending', true],
      ['ringing', 'ringing', true],
      ['active', 'active', true],
      ['connected', 'completed', true],
      ['notConnected', 'failed', true],
      ['completed', 'completed', true],
      ['not_connected', 'failed', true],
      ['failed', 'failed', true],
      ['warming_up', 'pending', false],
    ];
    for (const [status, state, known] of cases) {
      answer({ body: { data: { ...CALL_ROW, status } } });
      const c = await client.calls.get('x');
      assert.equal(c.state, state, status);
      assert.equal(c.statusKnown, known, status);
    }
  });

  test('end reasons are normalised; a string transcript becomes one turn; nulls everywhere are fine', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    answer({
      body: {
        data: {
          id: 'c',
          status: 'completed',
          end_reason: 'customer-ended-call',
          transcript: 'agent: hello',
          pipe_id: null,
          data: null,
          duration_s: null,
          started_at: 1764580000,
        },
      },
    });
    const c = await client.calls.get('c');
    assert.equal(c.endReason, 'CUSTOMER_ENDED_CALL');
    assert.deepEqual(c.transcript, [{ role: null, content: 'agent: hello', timestamp: null }]);
    assert.deepEqual(c.data, {});
    assert.equal(c.startedAt, new Date(1764580000 * 1000).toISOString());
  });
});

describe('limits and errors', () => {
  test('429 gives Retry-After; without it X-RateLimit-Reset', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    answer(
      { status: 429, headers: { 'retry-after': '7' }, body: { detail: 'rate limited' } },
      {
        status: 429,
        headers: { 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 30) },
        body: { detail: 'rate limited' },
      },
    );
    const e1 = await client.calls.get('x').catch((e: unknown) => e);
    assert.ok(e1 instanceof UnpodRateLimitError);
    assert.equal(e1.retryAfterMs, 7000);
    const e2 = await client.calls.get('x').catch((e: unknown) => e);
    assert.ok(e2 instanceof UnpodRateLimitError);
    assert.ok(e2.retryAfterMs! > 25_000 && e2.retryAfterMs! <= 31_000, String(e2.retryAfterMs));
  });

  test('X-RateLimit-Remaining: 0 holds the next create until X-RateLimit-Reset, and no read', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    const resetS = Math.ceil(Date.now() / 1000) + 2;
    answer(
      {
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetS) },
        body: { data: CALL_ROW },
      },
      { body: { data: CALL_ROW } },
      { body: { data: [CALL_ROW] } },
      { status: 201, body: { data: CALL_ROW } },
    );
    await client.calls.create({ pipe_id: 'p', to_number: '+14155550100' });
    // Reads learn how calls ended: held for the calls-per-minute window, every slot would stay busy until it resets.
    await client.calls.get('b');
    await client.calls.list({ pipeId: 'p' });
    assert.ok(Date.now() < resetS * 1000 - 500, 'the reads went at once');
    await client.calls.create({ pipe_id: 'p', to_number: '+14155550101' });
    assert.equal(seen.length, 4);
    assert.ok(Date.now() >= resetS * 1000 - 5, 'the second create waited for the reset');
  });

  test('account-wide refusals, number_in_use, and the error body shapes seen', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY });
    answer(
      { status: 400, body: { detail: 'no_from_number' } },
      { status: 400, body: { detail: 'playbook_not_published' } },
      { status: 503, body: { error: { code: 'no_worker_available', message: 'no runner' } } },
      { status: 401, body: { status_code: 401, message: `bad key ${KEY}` } },
      { status: 409, body: { detail: 'number_in_use' } },
      { status: 422, body: { detail: 'to_number is not a number' } },
    );
    const errs: UnpodHttpError[] = [];
    for (let i = 0; i < 6; i++)
      errs.push(
        (await client.calls
          .create({ to_number: '+14155550100', pipe_id: 'p' })
          .catch((e: unknown) => e)) as UnpodHttpError,
      );
    assert.deepEqual(errs.map(accountBlock), [
      'no_from_number',
      'playbook_not_published',
      'no_worker_available',
      'unauthorized',
      null,
      null,
    ]);
    assert.ok(!errs[3]!.message.includes(KEY), 'the key echoed in a body is redacted');
    assert.ok(isNumberInUse(errs[4]));
    assert.deepEqual(errs.map(createMayHavePlaced), [false, false, true, false, false, false]);
  });

  test('no answer within the timeout: a timeout error, and the create may have placed the call', async () => {
    const client = new UnpodClient({ baseUrl: base, apiKey: KEY, timeoutMs: 300 });
    answer({ hang: true });
    const err = await client.calls
      .create({ to_number: '+14155550100', pipe_id: 'p' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof UnpodTimeoutError);
    assert.equal(createMayHavePlaced(err), true);
  });
});
