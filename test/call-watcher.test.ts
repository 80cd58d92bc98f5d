/**
 * The end-detection watcher against a real HTTP server on loopback playing Unpod's calls API: one list request
 * per interval for every watched call, one read per call that left the list, and never an end taken from a
 * list alone (a list cut short or failing only delays it).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { UnpodClient } from '../src/unpod';
import { CallWatcher } from '../src/unpod/call-watcher';

/** call id → status word; the list serves the non-terminal ones. */
const calls = new Map<string, string>();
const requests: string[] = [];
let listFails = 0;
/** How long the list takes to answer (ms), and when each list request arrived. */
let listDelayMs = 0;
const listTimes: number[] = [];
/** Leave these out of the list although they are live (a list cut short). */
const hidden = new Set<string>();
let server: http.Server;
let client: UnpodClient;

before(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url!, 'http://x');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v2/platform/speech/v1/calls') {
      listTimes.push(Date.now());
      if (listDelayMs > 0) {
        const wait = listDelayMs;
        setTimeout(() => {
          const rows = [...calls].filter(([, st]) => st === 'active').map(([id, status]) => ({ id, status }));
          send(200, { data: rows });
        }, wait);
        return;
      }
      if (listFails > 0) {
        listFails--;
        return send(503, { detail: 'busy' });
      }
      const rows = [...calls]
        .filter(([id, s]) => !['connected', 'notConnected', 'failed'].includes(s) && !hidden.has(id))
        .map(([id, status]) => ({ id, status, transcript: null }));
      return send(200, { status_code: 200, message: 'ok', data: rows });
    }
    const id = decodeURIComponent(url.pathname.split('/').pop()!);
    const status = calls.get(id);
    if (!status) return send(404, { detail: 'not found' });
    return send(200, {
      data: { id, status, end_reason: status === 'connected' ? 'agent_end_call' : null, transcript: [] },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new UnpodClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey: 'k',
    timeoutMs: 2_000,
  });
});
after(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  calls.clear();
  requests.length = 0;
  hidden.clear();
  listFails = 0;
  listDelayMs = 0;
  listTimes.length = 0;
});

describe('call watcher', () => {
  test('one list per interval for all watched calls; one read per call that ended', async () => {
    const watcher = new CallWatcher(client, { minIntervalMs: 100 });
    for (let i = 0; i < 20; i++) calls.set(`c${i}`, 'active');
    const done = [...calls.keys()].map((id) => watcher.watch(id, { intervalMs: 100 }));
    await delay(350);
    for (let i = 0; i < 20; i++) calls.set(`c${i}`, 'connected');
    const ended = await Promise.all(done);
    watcher.close();
    assert.ok(ended.every((c) => c.state === 'completed' && c.endReason === 'AGENT_END_CALL'));
    const lists = requests.filter((r) => r.includes('call_status=in_flight')).length;
    const reads = requests.length - lists;
    assert.equal(reads, 20, 'each ended call read exactly once');
    // ~650 ms of watching at a 100 ms interval: a handful of lists for all 20 calls, not 20 reads per tick.
    assert.ok(lists >= 2 && lists <= 12, `about one list per interval for all 20 calls, got ${lists}`);
  });

  test('lists start one interval apart, however long each takes to answer (its latency is not added to each end)', async () => {
    const watcher = new CallWatcher(client, { minIntervalMs: 500 });
    listDelayMs = 400;
    calls.set('slow', 'active');
    const p = watcher.watch('slow');
    await delay(3_200);
    calls.set('slow', 'connected');
    await p;
    watcher.close();
    const gaps = listTimes.slice(1).map((t, i) => t - listTimes[i]!);
    assert.ok(gaps.length >= 4, `lists: ${gaps.length + 1}`);
    assert.ok(
      gaps.every((g) => g >= 480),
      `never two lists within one interval: ${gaps.join(', ')}`,
    );
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    // End to start, each gap would be the interval plus the list's 400 ms.
    assert.ok(median < 700, `lists one interval apart, not interval + latency: ${gaps.join(', ')}`);
  });

  test('a call missing from a cut-short list is read, found live, and kept watching', async () => {
    const watcher = new CallWatcher(client, { minIntervalMs: 100 });
    calls.set('live', 'active');
    hidden.add('live');
    let resolved = false;
    const p = watcher.watch('live').then((c) => ((resolved = true), c));
    await delay(450);
    assert.equal(resolved, false, 'not ended on the list alone');
    assert.ok(requests.filter((r) => r.endsWith('/calls/live')).length >= 2, 'its own read said active');
    calls.set('live', 'notConnected');
    const c = await p;
    watcher.close();
    assert.equal(c.state, 'failed');
  });

  test('failing lists back off and never end a call; it ends once the list works again', async () => {
    const watcher = new CallWatcher(client, { minIntervalMs: 100, maxBackoffMs: 400 });
    calls.set('c', 'ringing');
    listFails = 4;
    const p = watcher.watch('c');
    await delay(300);
    calls.set('c', 'connected');
    const c = await p;
    watcher.close();
    assert.equal(c.state, 'completed');
    assert.equal(watcher.stats.listFailures, 4);
  });

  test('a call Unpod does not know rejects its watch; an aborted watch is dropped', async () => {
    const watcher = new CallWatcher(client, { minIntervalMs: 100 });
    await assert.rejects(watcher.watch('gone'), /404/);
    calls.set('x', 'active');
    const ac = new AbortController();
    const p = watcher.watch('x', { signal: ac.signal });
    ac.abort(new Error('task moved on'));
    await assert.rejects(p, /task moved on/);
    await delay(250);
    watcher.close();
    assert.equal(watcher.stats.watched, 0);
  });
});
