/**
 * The outbound-URL guard (src/net/outbound-url.ts), and its use by schedule sources (activities/sources.ts).
 * DNS is stubbed (`internal.example` → 10.0.0.1 and the like): a refusal is asserted BEFORE any connection, by
 * counting the guard's connection attempts and a stub lookup's calls; the only connections made go to servers of
 * this test on 127.0.0.1, through the allowlist. The connection hook also vetoes any non-loopback address, so
 * even a broken guard could not connect elsewhere.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { openSource } from '../activities/sources';
import {
  checkOutboundUrl,
  drain,
  fetchOutbound,
  forbiddenKind,
  OutboundUrlError,
  type LookupAll,
  type OutboundOptions,
} from '../src/net/outbound-url';

interface LocalServer {
  url: string;
  port: number;
  hits: number;
  close(): Promise<void>;
}

async function localServer(handler: http.RequestListener): Promise<LocalServer> {
  const s: LocalServer = { url: '', port: 0, hits: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    s.hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.port = (server.address() as AddressInfo).port;
  s.url = `http://127.0.0.1:${s.port}`;
  s.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

/** A stub resolver over a fixed table, counting its calls. */
function stubDns(table: Record<string, string[]>): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const fn = (async (hostname: string) => {
    calls.push(hostname);
    const addrs = table[hostname];
    if (!addrs) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as LookupAll & { calls: string[] };
  fn.calls = calls;
  return fn;
}

/** Counts connection attempts; refuses any address that is not loopback (the tests' safety net). */
function connectionCounter(): { attempts: string[]; beforeConnect: OutboundOptions['beforeConnect'] } {
  const attempts: string[] = [];
  return {
    attempts,
    beforeConnect: (_host, address) => {
      attempts.push(address);
      if (address !== '127.0.0.1' && address !== '::1') throw new Error(`test veto: ${address}`);
    },
  };
}

async function refusal(p: Promise<unknown>): Promise<OutboundUrlError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OutboundUrlError, `an OutboundUrlError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

const DNS = stubDns({
  'internal.example': ['10.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'cgnat.example': ['100.64.0.7'],
  'ula.example': ['fd12:3456::1'],
  'mixed.example': ['93.184.216.34', '192.168.1.1'],
  'mapped.example': ['::ffff:10.0.0.1'],
  'localhost.example': ['127.0.0.1'],
});

describe('outbound-URL guard: refusals before any connection', () => {
  const refused: [string, RegExp][] = [
    ['http://internal.example/list.csv', /private-network/],
    ['http://metadata.example/latest/meta-data/', /link-local/],
    ['http://cgnat.example/', /carrier-grade NAT/],
    ['http://ula.example/', /unique-local/],
    ['http://mixed.example/', /private-network/],
    ['http://mapped.example/', /private-network address \(embedded in an IPv6 address\)/],
    ['http://localhost.example/', /loopback/],
    ['http://127.0.0.1:8090/_sim/ledger', /loopback/],
    ['http://2130706433/', /loopback/],
    ['http://0177.0.0.1/', /loopback/],
    ['http://0x7f.0.0.1/', /loopback/],
    ['http://127.1/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://[::ffff:a9fe:a9fe]/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://10.1.2.3/', /private-network/],
    ['http://172.16.0.1/', /private-network/],
    ['http://192.168.0.1/', /private-network/],
  ];
  for (const [url, why] of refused) {
    it(`refuses ${url}`, async () => {
      const c = connectionCounter();
      const err = await refusal(fetchOutbound(url, {}, { lookup: DNS, beforeConnect: c.beforeConnect }));
      assert.equal(err.code, 'url_refused');
      assert.match(err.message, why);
      assert.match(err.message, /OUTBOUND_ALLOW/, 'says how to allow it');
      assert.deepEqual(c.attempts, [], 'no connection was attempted');
    });
  }

  it('refuses user:password@ in the URL, and other schemes', async () => {
    const c = connectionCounter();
    const creds = await refusal(
      fetchOutbound('http://user:secret@example.com/', {}, { lookup: DNS, beforeConnect: c.beforeConnect }),
    );
    assert.equal(creds.code, 'url_refused');
    assert.ok(!creds.message.includes('secret'), 'the password is not echoed');
    const ftp = await refusal(fetchOutbound('file:///etc/passwd', {}, { beforeConnect: c.beforeConnect }));
    assert.equal(ftp.code, 'url_invalid');
    assert.deepEqual(c.attempts, []);
  });

  it('a name that does not resolve is dns_failed, retryable', async () => {
    const err = await refusal(checkOutboundUrl('http://nowhere.example/', { lookup: DNS }));
    assert.equal(err.code, 'dns_failed');
    assert.equal(err.retryable, true);
  });

  it('classifies addresses: public ones pass', () => {
    assert.equal(forbiddenKind('93.184.216.34'), undefined);
    assert.equal(forbiddenKind('2606:4700::1111'), undefined);
    assert.equal(forbiddenKind('::ffff:8.8.8.8'), undefined);
    assert.match(forbiddenKind('64:ff9b::a00:1') ?? '', /private/);
    assert.match(forbiddenKind('2002:a00:1::') ?? '', /private/);
  });

  it('the allowlist names hosts and ranges', async () => {
    await checkOutboundUrl('http://internal.example/', { lookup: DNS, allow: ['10.0.0.0/8'] });
    await checkOutboundUrl('http://internal.example/', { lookup: DNS, allow: ['internal.example'] });
    await checkOutboundUrl('http://internal.example/', { lookup: DNS, allow: ['*.example'] });
    const err = await refusal(
      checkOutboundUrl('http://internal.example/', { lookup: DNS, allow: ['loopback'] }),
    );
    assert.equal(err.code, 'url_refused');
    await assert.rejects(checkOutboundUrl('http://x/', { allow: ['10.0.0.0/99'] }), /OUTBOUND_ALLOW/);
  });
});

describe('outbound-URL guard: the allowed path, on 127.0.0.1 through the allowlist', () => {
  let list: LocalServer;
  let other: LocalServer;
  let drip: LocalServer;
  before(async () => {
    other = await localServer((_req, res) => res.end('phone\n+14155550100\n'));
    list = await localServer((req, res) => {
      if (req.url === '/elsewhere') {
        res.writeHead(302, { location: `${other.url}/list.csv` });
        res.end();
      } else if (req.url === '/moved') {
        res.writeHead(301, { location: '/list.csv' });
        res.end();
      } else if (req.url === '/big') {
        res.end('x'.repeat(4096));
      } else if (req.url === '/big-chunked') {
        res.write('x'.repeat(1024));
        res.write('x'.repeat(1024));
        res.end('x'.repeat(1024));
      } else if (req.url === '/missing') {
        res.writeHead(404);
        res.end('SECRET-INTERNAL-CONTENT');
      } else {
        res.end('phone\n+14155550100\n');
      }
    });
    // Headers at once, then one byte every 100 ms, forever.
    drip = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('phone\n');
      const t = setInterval(() => res.write('1'), 100);
      res.on('close', () => clearInterval(t));
    });
  });
  after(async () => {
    await list.close();
    await other.close();
    await drip.close();
  });

  it('fetches from loopback when the allowlist names it; one connection, to the checked address', async () => {
    const c = connectionCounter();
    const res = await fetchOutbound(`${list.url}/list.csv`, {}, { allow: ['loopback'], ...c });
    assert.equal(res.statusCode, 200);
    let text = '';
    for await (const chunk of res.body) text += String(chunk);
    assert.equal(text, 'phone\n+14155550100\n');
    assert.deepEqual(c.attempts, ['127.0.0.1']);
  });

  it('pins the checked address: a name is resolved once and the connection goes where it was checked', async () => {
    // A resolver that answers loopback first and a private address afterwards (DNS rebinding).
    let calls = 0;
    const rebinding: LookupAll = async () => {
      calls++;
      return [{ address: calls === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
    };
    const c = connectionCounter();
    const before = list.hits;
    const res = await fetchOutbound(
      `http://rebind.example:${list.port}/list.csv`,
      {},
      { lookup: rebinding, allow: ['loopback'], ...c },
    );
    await drain(res.body);
    assert.equal(calls, 1, 'resolved once, by the guard');
    assert.deepEqual(c.attempts, ['127.0.0.1']);
    assert.equal(list.hits, before + 1, 'the request reached the checked server');
  });

  it('follows a same-origin redirect, refuses one to another origin without connecting to it', async () => {
    const moved = await fetchOutbound(`${list.url}/moved`, {}, { allow: ['loopback'] });
    assert.equal(moved.statusCode, 200);
    assert.equal(moved.url.pathname, '/list.csv');
    await drain(moved.body);

    const err = await refusal(fetchOutbound(`${list.url}/elsewhere`, {}, { allow: ['loopback'] }));
    assert.equal(err.code, 'redirect_refused');
    assert.equal(other.hits, 0, 'the other origin was never asked');
  });

  it('caps the body: by content-length before reading, and chunk by chunk', async () => {
    const declared = await refusal(
      fetchOutbound(`${list.url}/big`, {}, { allow: ['loopback'], maxBytes: 1000 }),
    );
    assert.equal(declared.code, 'too_large');
    const res = await fetchOutbound(`${list.url}/big-chunked`, {}, { allow: ['loopback'], maxBytes: 1500 });
    const streamed = await refusal(drain(res.body));
    assert.equal(streamed.code, 'too_large');
  });

  it('a total deadline cuts a slow-drip body', { timeout: 10_000 }, async () => {
    const t0 = Date.now();
    const res = await fetchOutbound(drip.url, {}, { allow: ['loopback'], timeoutMs: 600 });
    const err = await refusal(drain(res.body));
    assert.equal(err.code, 'timeout');
    assert.ok(Date.now() - t0 < 5_000, 'cut near the deadline, not held open');
  });

  it('schedule sources: a loopback URL is refused (not retried) without a request; allowed, it is read', async () => {
    const before = list.hits;
    await assert.rejects(openSource(`${list.url}/list.csv`), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /loopback/);
      return true;
    });
    assert.equal(list.hits, before, 'nothing was fetched');
    const body = await openSource(`${list.url}/list.csv`, undefined, { allow: ['loopback'] });
    let text = '';
    for await (const chunk of body) text += String(chunk);
    assert.match(text, /^phone/);
  });

  it('schedule sources: an error status says so without quoting the body', async () => {
    await assert.rejects(
      openSource(`${list.url}/missing`, undefined, { allow: ['loopback'] }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.match(err.message, /HTTP 404/);
        assert.ok(!err.message.includes('SECRET-INTERNAL-CONTENT'));
        return true;
      },
    );
  });

  it(
    'schedule sources: a slow-drip source does not hold the run open past the deadline',
    { timeout: 10_000 },
    async () => {
      const body = await openSource(drip.url, undefined, { allow: ['loopback'], timeoutMs: 600 });
      await assert.rejects(
        drain(body),
        (err: unknown) => err instanceof OutboundUrlError && err.code === 'timeout',
      );
    },
  );
});
