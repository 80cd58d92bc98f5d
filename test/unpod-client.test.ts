/**
 * The Unpod client against a real HTTP server on port 0 (undici's test/retry-handler.js habit): no mocks of
 * undici. Each test sets `handler` to script the server's answer and reads `seen` for what the client sent.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import {
  IDEMPOTENCY_HEADER,
  UnpodAbortError,
  UnpodClient,
  UnpodHttpError,
  UnpodNetworkError,
  UnpodRateLimitError,
  UnpodResponseError,
  UnpodTimeoutError,
  isUnpodError,
  parseRetryAfter,
  unpodPaths,
} from '../src/unpod';
import { startSimulator } from '../src/simulator';

const API_KEY = 'sk_live_SECRET_do_not_leak_123';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[] = [];

function callJson(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    call_id: 'call_1',
    pipe_id: 'pipe_1',
    direction: 'outbound',
    to_number: '+14155552671',
    status: 'pending',
    end_reason: null,
    created_at: '2026-01-01T00:00:00Z',
    ...over,
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function rejectsWith<T extends Error>(
  p: Promise<unknown>,
  ctor: abstract new (...a: never[]) => T,
): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ctor, `expected ${ctor.name}, got ${String(err)}`);
    assertNoKey(err);
    return err;
  }
  assert.fail(`expected ${ctor.name}, but it resolved`);
}

function assertNoKey(err: unknown): void {
  assert.ok(isUnpodError(err), `not an UnpodError: ${String(err)}`);
  for (const s of [String(err), err.message, JSON.stringify(err), err.stack ?? '']) {
    assert.ok(!s.includes(API_KEY), `API key leaked in: ${s}`);
  }
}

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => send(res, 500, { detail: 'no handler' });
});

void describe('UnpodClient against a local server', () => {
  let client: UnpodClient;
  before(() => {
    client = new UnpodClient({ baseUrl, apiKey: API_KEY, timeoutMs: 2_000 });
  });
  after(async () => {
    await client.close();
  });

  void test('calls.create sends Bearer auth, JSON body and the idempotency key', async () => {
    handler = (_req, res, body) => send(res, 201, callJson({ metadata: JSON.parse(body).metadata }));
    const call = await client.calls.create(
      { pipe_id: 'pipe_1', to_number: '+14155552671', metadata: { name: 'Jane' } },
      { idempotencyKey: 'campaign-r1/c1/1' },
    );
    assert.equal(call.call_id, 'call_1');
    assert.equal(call.status, 'pending');
    assert.deepEqual(call.metadata, { name: 'Jane' });
    const s = seen[0]!;
    assert.equal(s.method, 'POST');
    assert.equal(s.url, '/api/v1/calls/');
    assert.equal(s.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(s.headers[IDEMPOTENCY_HEADER], 'campaign-r1/c1/1');
    assert.match(String(s.headers['content-type']), /application\/json/);
    assert.deepEqual(JSON.parse(s.body), {
      pipe_id: 'pipe_1',
      to_number: '+14155552671',
      metadata: { name: 'Jane' },
    });
  });

  void test('calls.get, calls.list (query string) and calls.hangup', async () => {
    handler = (req, res) => {
      if (req.url === '/api/v1/calls/call%2F1/')
        return send(res, 200, callJson({ call_id: 'call/1', status: 'active' }));
      if (req.url?.startsWith('/api/v1/calls/?'))
        return send(res, 200, { count: 1, next: null, results: [callJson()] });
      if (req.url === '/api/v1/calls/call_1/hangup/')
        return send(
          res,
          200,
          callJson({ status: 'completed', end_reason: 'AGENT_HUNG_UP_SILENCE_DETECTED' }),
        );
      send(res, 404, { detail: 'Not found.' });
    };
    const got = await client.calls.get('call/1');
    assert.equal(got.status, 'active');
    assert.deepEqual(got.metadata, {}, 'schema default applied');

    const list = await client.calls.list({ status: 'pending', limit: 10, offset: 20 });
    assert.equal(list.count, 1);
    assert.equal(list.results[0]!.call_id, 'call_1');
    const url = new URL(seen[1]!.url, baseUrl);
    assert.equal(url.searchParams.get('status'), 'pending');
    assert.equal(url.searchParams.get('limit'), '10');
    assert.equal(url.searchParams.get('offset'), '20');

    const hung = await client.calls.hangup('call_1');
    assert.equal(hung.end_reason, 'AGENT_HUNG_UP_SILENCE_DETECTED');
    assert.equal(seen[2]!.method, 'POST');
    for (const s of seen) assert.equal(s.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(seen[0]!.headers[IDEMPOTENCY_HEADER], undefined, 'no idempotency header on get');
  });

  void test('v1 documented resources: spaces, agents, tasks, runs, call-logs', async () => {
    handler = (req, res) => {
      const u = new URL(req.url ?? '/', baseUrl);
      switch (u.pathname) {
        case '/api/v1/spaces/':
          return send(res, 200, { results: [{ id: 1, name: 'My Workspace', token: 'sp_abc', domain: 'x' }] });
        case '/api/v1/agents/':
          return send(res, 200, { results: [{ handle: 'support-agent', extra: 1 }] });
        case '/api/v1/tasks/':
          return send(res, 201, { task_id: 'T1' });
        case '/api/v1/runs/':
          return send(res, 200, {
            results: [{ run_id: 'R1', task_id: u.searchParams.get('task_id'), status: 'queued' }],
          });
        case '/api/v1/call-logs/':
          return send(res, 200, {
            results: [{ duration: 12, transcript: 'hi', outcome: 'ok', sentiment: 'positive' }],
          });
      }
      send(res, 404, { detail: 'Not found.' });
    };
    assert.equal((await client.spaces.list()).results[0]!.token, 'sp_abc');
    assert.equal((await client.agents.list('sp_abc')).results[0]!.handle, 'support-agent');
    assert.equal(seen[1]!.url, '/api/v1/agents/?space_token=sp_abc');
    const task = await client.tasks.create(
      { agent_handle: 'support-agent', phone_number: '+14155552671', space_token: 'sp_abc' },
      { idempotencyKey: 'k1' },
    );
    assert.equal(task.task_id, 'T1');
    assert.equal(seen[2]!.headers[IDEMPOTENCY_HEADER], 'k1');
    assert.equal((await client.runs.list({ task_id: 'T1' })).results[0]!.task_id, 'T1');
    assert.equal((await client.callLogs.list({ space_token: 'sp_abc' })).results[0]!.duration, 12);
  });

  void test('v2 runs and run tasks: Token auth, envelope parsed, query passed', async () => {
    const run = {
      space_id: '346',
      user: '38',
      thread_id: null,
      run_id: 'R40',
      collection_ref: null,
      run_mode: 'dev',
      status: 'completed',
      batch_count: 1,
      created: '2025-11-30T17:51:52',
      modified: '2025-11-30T17:51:52',
    };
    const task = {
      space_id: '346',
      thread_id: null,
      user: '261',
      run_id: 'R40',
      task_id: 'T1',
      execution_type: 'call',
      task: { objective: 'hey' },
      input: { contact_number: '9876688992' },
      output: { summary: 'ok' },
      created: '2025-11-28T10:07:32',
      modified: '2025-11-28T12:04:08',
      user_info: { id: '261' },
    };
    handler = (req, res) => {
      const u = new URL(req.url ?? '/', baseUrl);
      if (u.pathname === unpodPaths.v2Runs('sp_abc'))
        return send(res, 200, {
          count: 1716,
          status_code: 200,
          message: 'Runs Fetched Successfully',
          data: [run],
        });
      if (u.pathname === unpodPaths.v2RunTasks('sp_abc', 'R40'))
        return send(res, 200, {
          count: 1,
          status_code: 200,
          message: 'Tasks Fetched Successfully',
          data: [task],
        });
      send(res, 404, { message: 'Not found', errors: 'no such space' });
    };
    const runs = await client.v2.runs('sp_abc', { page: 2, page_size: 50, status: 'completed' });
    assert.equal(runs.count, 1716);
    assert.equal(runs.data[0]!.run_id, 'R40');
    assert.equal(seen[0]!.headers.authorization, `Token ${API_KEY}`);
    assert.match(String(seen[0]!.headers['content-type']), /application\/json/);
    assert.equal(seen[0]!.url, '/api/v2/platform/spaces/sp_abc/runs/?page=2&page_size=50&status=completed');

    const tasks = await client.v2.runTasks('sp_abc', 'R40');
    assert.equal(tasks.data[0]!.task_id, 'T1');
    assert.equal(seen[1]!.headers.authorization, `Token ${API_KEY}`);

    const err = await rejectsWith(client.v2.runs('nope'), UnpodHttpError);
    assert.equal(err.statusCode, 404);
    assert.equal(err.detail, 'Not found: no such space');
  });

  void test('v2 206 business-logic error is a non-retryable UnpodHttpError', async () => {
    handler = (_req, res) =>
      send(res, 206, { message: 'Error fetching runs', errors: 'Detailed error description' });
    const err = await rejectsWith(client.v2.runs('sp_abc'), UnpodHttpError);
    assert.equal(err.statusCode, 206);
    assert.equal(err.retryable, false);
    assert.equal(err.code, 'UNPOD_HTTP_ERROR');
    assert.equal(err.detail, 'Error fetching runs: Detailed error description');
  });

  void test('4xx validation error: UnpodHttpError, not retryable, with status and detail', async () => {
    handler = (_req, res) => send(res, 400, { detail: 'to_number must be E.164' });
    const err = await rejectsWith(
      client.calls.create({ pipe_id: 'p', to_number: '+14155552671' }),
      UnpodHttpError,
    );
    assert.equal(err.statusCode, 400);
    assert.equal(err.retryable, false);
    assert.equal(err.code, 'UNPOD_HTTP_ERROR');
    assert.equal(err.detail, 'to_number must be E.164');
    assert.equal(err.method, 'POST');
    assert.equal(err.path, '/api/v1/calls/');
    assert.match(err.message, /400.*to_number must be E\.164/);
    assert.equal(err.retryAfterMs, null);
  });

  void test('401/403/404 are not retryable; a long body is truncated', async () => {
    for (const status of [401, 403, 404]) {
      handler = (_req, res) => send(res, status, 'x'.repeat(5_000), { 'content-type': 'text/plain' });
      const err = await rejectsWith(client.calls.get('c'), UnpodHttpError);
      assert.equal(err.statusCode, status);
      assert.equal(err.retryable, false);
      assert.ok(err.detail!.length <= 501, `detail too long: ${err.detail!.length}`);
    }
  });

  void test('409 is retryable only on idempotent requests (a key still in flight)', async () => {
    handler = (_req, res) => send(res, 409, { detail: 'request with this key in progress' });
    const withKey = await rejectsWith(
      client.calls.create({ pipe_id: 'p', to_number: '+14155552671' }, { idempotencyKey: 'k' }),
      UnpodHttpError,
    );
    assert.equal(withKey.retryable, true);
    const plain = await rejectsWith(client.calls.hangup('c'), UnpodHttpError);
    assert.equal(plain.retryable, false);
  });

  void test('429 with Retry-After: 7 → UnpodRateLimitError, retryable, 7000ms', async () => {
    handler = (_req, res) => send(res, 429, { detail: 'calls per minute exceeded' }, { 'retry-after': '7' });
    const err = await rejectsWith(
      client.calls.create({ pipe_id: 'p', to_number: '+14155552671' }),
      UnpodRateLimitError,
    );
    assert.ok(err instanceof UnpodHttpError);
    assert.equal(err.statusCode, 429);
    assert.equal(err.code, 'UNPOD_RATE_LIMITED');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 7_000);
    assert.equal(JSON.parse(JSON.stringify(err)).retryAfterMs, 7_000);
  });

  void test('429 with Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    handler = (_req, res) => send(res, 429, { detail: 'slow down' }, { 'retry-after': at });
    const err = await rejectsWith(client.calls.get('c'), UnpodRateLimitError);
    assert.ok(
      err.retryAfterMs !== null && err.retryAfterMs > 25_000 && err.retryAfterMs <= 30_000,
      String(err.retryAfterMs),
    );
  });

  void test('429 without Retry-After → retryAfterMs null', async () => {
    handler = (_req, res) => send(res, 429, { detail: 'slow down' });
    const err = await rejectsWith(client.calls.get('c'), UnpodRateLimitError);
    assert.equal(err.retryAfterMs, null);
  });

  void test('500 and 503 are retryable; 503 carries Retry-After', async () => {
    handler = (_req, res) => send(res, 500, { detail: 'boom' });
    const e500 = await rejectsWith(client.calls.get('c'), UnpodHttpError);
    assert.equal(e500.retryable, true);
    assert.equal(e500.statusCode, 500);

    handler = (_req, res) =>
      send(res, 503, 'Service Unavailable', { 'retry-after': '3', 'content-type': 'text/plain' });
    const e503 = await rejectsWith(client.calls.get('c'), UnpodHttpError);
    assert.ok(!(e503 instanceof UnpodRateLimitError));
    assert.equal(e503.retryable, true);
    assert.equal(e503.retryAfterMs, 3_000);
    assert.equal(e503.detail, 'Service Unavailable');
  });

  void test('200 with the wrong shape → UnpodResponseError naming the field', async () => {
    handler = (_req, res) => send(res, 200, callJson({ status: 'exploded' }));
    const err = await rejectsWith(client.calls.get('c'), UnpodResponseError);
    assert.equal(err.retryable, false);
    assert.equal(err.code, 'UNPOD_RESPONSE_INVALID');
    assert.equal(err.field, 'status');
    assert.match(err.message, /"status"/);

    handler = (_req, res) => send(res, 200, { count: 1, results: [callJson({ call_id: 42 })] });
    const nested = await rejectsWith(client.calls.list(), UnpodResponseError);
    assert.equal(nested.field, 'results.0.call_id');
  });

  void test('200 with invalid JSON or an empty body → UnpodResponseError', async () => {
    handler = (_req, res) => send(res, 200, '{"call_id": "c1", oops');
    const bad = await rejectsWith(client.calls.get('c'), UnpodResponseError);
    assert.equal(bad.retryable, false);
    assert.equal(bad.field, '');
    assert.match(bad.message, /not JSON/);

    handler = (_req, res) => send(res, 200, '');
    const empty = await rejectsWith(client.calls.get('c'), UnpodResponseError);
    assert.equal(empty.field, '');
  });

  void test('caller AbortSignal aborts the request → UnpodAbortError (not retryable)', async () => {
    handler = () => {
      /* never answer */
    };
    const ac = new AbortController();
    const p = client.calls.get('c', { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('activity cancelled')), 50);
    const err = await rejectsWith(p, UnpodAbortError);
    assert.equal(err.retryable, false);
    assert.equal(err.code, 'UNPOD_ABORTED');

    const pre = new AbortController();
    pre.abort();
    await rejectsWith(client.calls.get('c', { signal: pre.signal }), UnpodAbortError);
  });

  void test('the API key is never in String(err), message, JSON or stack, even when the server echoes it', async () => {
    handler = (req, res) => send(res, 401, { detail: `bad token ${String(req.headers.authorization)}` });
    const err = await rejectsWith(client.calls.get('c'), UnpodHttpError);
    assert.match(err.detail!, /\[redacted\]/);
    const json = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
    assert.equal(json.headers, undefined);
    assert.equal(json.code, 'UNPOD_HTTP_ERROR');
    assert.equal(json.statusCode, 401);
  });
});

void describe('UnpodClient timeouts and network failures', () => {
  void test('a server that never answers → UnpodTimeoutError within ~timeoutMs', async () => {
    handler = () => {
      /* never answer */
    };
    const client = new UnpodClient({ baseUrl, apiKey: API_KEY, timeoutMs: 200 });
    try {
      const t0 = Date.now();
      const err = await rejectsWith(client.calls.get('c'), UnpodTimeoutError);
      const took = Date.now() - t0;
      assert.ok(took >= 150 && took < 1_500, `took ${took}ms`);
      assert.equal(err.retryable, true);
      assert.equal(err.code, 'UNPOD_TIMEOUT');
      assert.equal(err.timeoutMs, 200);
    } finally {
      server.closeAllConnections();
      await client.close();
    }
  });

  void test('a body that stalls mid-way → UnpodTimeoutError', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"call_id":');
    };
    const client = new UnpodClient({ baseUrl, apiKey: API_KEY, timeoutMs: 200 });
    try {
      await rejectsWith(client.calls.get('c'), UnpodTimeoutError);
    } finally {
      server.closeAllConnections();
      await client.close();
    }
  });

  void test('connection refused → UnpodNetworkError, retryable', async () => {
    // Take a free port and release it, so nothing listens there.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const client = new UnpodClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: API_KEY,
      timeoutMs: 2_000,
    });
    try {
      const err = await rejectsWith(client.calls.get('c'), UnpodNetworkError);
      assert.equal(err.retryable, true);
      assert.equal(err.code, 'UNPOD_NETWORK');
      assert.equal(err.errno, 'ECONNREFUSED');
    } finally {
      await client.close();
    }
  });

  void test('a connection reset mid-response → UnpodNetworkError', async () => {
    handler = (req) => req.socket.destroy();
    const client = new UnpodClient({ baseUrl, apiKey: API_KEY, timeoutMs: 2_000 });
    try {
      const err = await rejectsWith(client.calls.get('c'), UnpodNetworkError);
      assert.equal(err.retryable, true);
    } finally {
      await client.close();
    }
  });

  void test('a base URL path prefix is kept', async () => {
    handler = (_req, res) => send(res, 200, callJson());
    const client = new UnpodClient({ baseUrl: `${baseUrl}/unpod/`, apiKey: API_KEY });
    try {
      await client.calls.get('c1');
      assert.equal(seen[0]!.url, '/unpod/api/v1/calls/c1/');
    } finally {
      await client.close();
    }
  });
});

void describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  void test('delta-seconds', () => {
    assert.equal(parseRetryAfter('7', now), 7_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
  });
  void test('HTTP-date, future and past', () => {
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
  });
  void test('absent or garbage → null', () => {
    assert.equal(parseRetryAfter(undefined, now), null);
    assert.equal(parseRetryAfter('', now), null);
    assert.equal(parseRetryAfter('-1', now), null);
    assert.equal(parseRetryAfter('1.5', now), null);
    assert.equal(parseRetryAfter('soon', now), null);
  });
});

void describe('round trip against the simulator', () => {
  void test('create → get (same idempotency key returns the same call)', async () => {
    const sim = await startSimulator({ speed: 1000 });
    const client = new UnpodClient({ baseUrl: sim.url, apiKey: 'sim_test_key', timeoutMs: 5_000 });
    try {
      const created = await client.calls.create(
        { pipe_id: 'pipe_1', to_number: '+14155552671', metadata: { campaign_run_id: 'r1' } },
        { idempotencyKey: 'rt-1' },
      );
      assert.equal(created.to_number, '+14155552671');
      const again = await client.calls.create(
        { pipe_id: 'pipe_1', to_number: '+14155552671', metadata: { campaign_run_id: 'r1' } },
        { idempotencyKey: 'rt-1' },
      );
      assert.equal(again.call_id, created.call_id, 'same idempotency key, same call');
      const got = await client.calls.get(created.call_id);
      assert.equal(got.call_id, created.call_id);
      assert.equal(got.pipe_id, 'pipe_1');
    } finally {
      await client.close();
      await sim.close();
    }
  });
});
