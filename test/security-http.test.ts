/**
 * Hostile requests against the real fastify app, the real worker and simulator (all on loopback): each test
 * reproduces one finding of "Hostile input" (issue 11) and shows it closed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { callbackSecretFor, createCallbackActivities } from '../activities/callbacks';
import { getProgress } from '../src/campaign/run-queries';
import { runsOfSpaceQuery } from '../src/campaign/run-views';
import { startHttpServer, type RunningHttpServer } from '../src/http/serve';
import { buildHttpServer } from '../src/http/server';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER } from '../src/unpod/paths';
import { verifyWebhookSignature } from '../src/unpod/webhook-signature';
import { contact, LOOPBACK_ALLOWED, startStackHttp, startTestStack, type TestStack } from './helpers/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const KEY = 'key_security_0123456789';
const OPS_KEY = 'ops_security_0123456789';
const SPACE = 'space_sec';
const BODY_LIMIT = 64 * 1024;
const base = (s = SPACE) => `/api/v2/platform/spaces/${s}`;

interface Counting {
  url: string;
  hits: number;
  close(): Promise<void>;
}
async function countingServer(status = 200): Promise<Counting> {
  const c: Counting = { url: '', hits: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    c.hits++;
    req.resume();
    req.on('end', () => {
      res.statusCode = status;
      res.end('phone\n+14155550100\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  c.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return c;
}

/** A multipart body, sent with Transfer-Encoding: chunked (no content-length), in 16 KiB pieces. */
async function chunkedUpload(url: string, csv: Buffer, key = KEY): Promise<{ status: number; json: Json }> {
  const boundary = '----sec' + Date.now();
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="list.csv"\r\ncontent-type: text/csv\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = Buffer.concat([head, csv, tail]);
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: {
          authorization: `Token ${key}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'transfer-encoding': 'chunked',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let json: Json = {};
          try {
            json = JSON.parse(text) as Json;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', (err) => {
      // The server may answer 413 and close before the whole body is written.
      if (
        (err as NodeJS.ErrnoException).code === 'EPIPE' ||
        (err as NodeJS.ErrnoException).code === 'ECONNRESET'
      )
        return;
      reject(err);
    });
    void (async () => {
      for (let i = 0; i < body.length; i += 16 * 1024) {
        if (req.destroyed) return;
        req.write(body.subarray(i, i + 16 * 1024));
        await delay(2);
      }
      req.end();
    })();
  });
}

const rows = (n: number, from = 0) =>
  Array.from(
    { length: n },
    (_, i) => `+1415555${String(4000 + from + i).padStart(4, '0')},Name ${i} ${'x'.repeat(20)}`,
  ).join('\n');

describe('hostile input', () => {
  let stack: TestStack;
  let api: RunningHttpServer;

  const call = async (method: string, path: string, o: { key?: string | null; body?: unknown } = {}) => {
    const headers: Record<string, string> = {};
    if (o.key !== null) headers.authorization = `Token ${o.key ?? KEY}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers,
      body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
    });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  /** Runs of the space as Temporal's visibility lists them (all states). */
  const runsInSpace = async () => {
    await delay(1500); // visibility is eventually consistent
    return (await stack.env.client.workflow.count(runsOfSpaceQuery(SPACE))).count;
  };

  before(async () => {
    stack = await startTestStack();
    api = await startStackHttp(stack, {
      ops: { key: OPS_KEY },
      api: {
        keys: [
          {
            key: KEY,
            space: SPACE,
            user: 'mallory',
            account: `acct_${stack.taskQueue}`,
            pipes: ['pipe_test', 'pipe_b'],
            fromNumbers: ['+14155550100'],
          },
        ],
        defaultAccount: `acct_${stack.taskQueue}`,
        defaultPipeId: 'pipe_test',
        defaultRegion: 'US',
        bodyLimitBytes: BODY_LIMIT,
        // The guard as deployed: no allowlist, so loopback (where everything of this test lives) is refused.
      },
    });
  });
  after(async () => {
    await api?.close();
    await stack?.close();
  });

  describe('/docs/assets', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      it(`GET /docs/assets/${name} is 404 and the server keeps serving`, async () => {
        const res = await call('GET', `/docs/assets/${name}`, { key: null });
        assert.equal(res.status, 404);
        assert.equal((await call('GET', '/health', { key: null })).status, 200);
      });
    }
    it('the real assets are still served', async () => {
      const res = await call('GET', '/docs/assets/swagger-ui.css', { key: null });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/css/);
    });
  });

  describe('CORS', () => {
    it('by default any origin is allowed without credentials, never reflected', async () => {
      const app = await buildHttpServer({
        temporal: stack.env.client,
        taskQueue: stack.taskQueue,
      });
      try {
        const pre = await app.inject({
          method: 'OPTIONS',
          url: `${base()}/runs/`,
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
        });
        assert.notEqual(pre.headers['access-control-allow-origin'], 'https://evil.example');
        assert.equal(pre.headers['access-control-allow-credentials'], undefined);
      } finally {
        await app.close();
      }
    });
    it('credentials with any origin is refused at start', async () => {
      await assert.rejects(
        buildHttpServer({
          temporal: stack.env.client,
          taskQueue: stack.taskQueue,
          cors: { origins: ['*'], methods: ['*'], headers: ['*'], credentials: true },
        }),
        /credentials need a list of allowed origins/,
      );
    });
  });

  describe('/metrics and /ready', () => {
    it('answer 401 without the ops key, and serve with it', async () => {
      for (const path of ['/metrics', '/ready']) {
        const anon = await call('GET', path, { key: null });
        assert.equal(anon.status, 401, path);
        const tenant = await call('GET', path, { key: KEY });
        assert.equal(tenant.status, 401, `${path}: a tenant's API key is not the ops key`);
        const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${OPS_KEY}` } });
        await res.text();
        assert.ok(res.status === 200 || res.status === 503, `${path}: ${res.status}`);
      }
    });
  });

  describe('the key is checked before the body', () => {
    it('no key and a malformed JSON body: 401, the body never parsed', async () => {
      const res = await call('POST', `${base()}/runs/`, { key: null, body: '{"contacts": [' });
      assert.equal(res.status, 401);
      assert.equal(res.json.x_campaign.code, 'not_authenticated');
    });
    it('a wrong key and a huge declared body: 401, not 413', async () => {
      const res = await fetch(`${api.url}${base()}/runs/`, {
        method: 'POST',
        headers: { authorization: 'Token nope_nope_nope', 'content-type': 'application/json' },
        body: JSON.stringify({ contacts: [{ phone: 'x'.repeat(BODY_LIMIT * 2) }] }),
      });
      assert.equal(res.status, 401);
      await res.text();
    });
  });

  describe("a key's binding: account, pipes, from-numbers", () => {
    const one = { contacts: [{ phone: '+14155554000' }] };
    for (const [field, value] of [
      ['account_id', 'acct_someone_else'],
      ['pipe_id', 'pipe_of_another_tenant'],
      ['from_number', '+14155550199'],
    ] as const) {
      it(`a run naming another ${field} is 403 naming the field, and nothing starts`, async () => {
        const res = await call('POST', `${base()}/runs/`, { body: { ...one, [field]: value } });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.json.x_campaign.field, field);
        assert.match(res.json.errors, new RegExp(field));
      });
    }
    it('from_number must be an E.164 number', async () => {
      const res = await call('POST', `${base()}/runs/`, { body: { ...one, from_number: 'not a number' } });
      assert.equal(res.status, 400);
      assert.match(res.json.errors, /from_number/);
    });
    it('no run was started by any of them', async () => {
      assert.equal(await runsInSpace(), 0);
    });
  });

  describe('source_url is guarded', () => {
    let target: Counting;
    before(async () => {
      target = await countingServer();
    });
    after(() => target.close());

    it('loopback in any spelling is refused before a request is made, by a run and by its preview', async () => {
      const port = new URL(target.url).port;
      for (const url of [
        `${target.url}/list.csv`,
        `http://2130706433:${port}/list.csv`,
        `http://0177.0.0.1:${port}/list.csv`,
        `http://[::ffff:127.0.0.1]:${port}/list.csv`,
        `http://user:pass@127.0.0.1:${port}/list.csv`,
        `http://127.0.0.1:8090/_sim/ledger`,
      ]) {
        for (const route of ['/runs/', '/runs/preview/']) {
          const res = await call('POST', `${base()}${route}`, { body: { source_url: url } });
          assert.equal(res.status, 400, `${route} ${url}: ${res.text}`);
          assert.equal(res.json.x_campaign.code, 'source_refused', `${route} ${url}`);
          assert.ok(!res.text.includes('pass@'), 'credentials are not echoed');
        }
      }
      assert.equal(target.hits, 0, 'the server was never asked');
    });
  });

  describe('uploads', () => {
    it('an over-limit chunked upload is 413 and starts no run (nothing is dialed from its head)', async () => {
      const dialsBefore = stack.simulator.ledger().dials.length;
      const csv = Buffer.from(`phone,name\n${rows(4000)}\n`);
      assert.ok(csv.length > BODY_LIMIT * 1.5);
      const res = await chunkedUpload(`${api.url}${base()}/runs/`, csv);
      assert.equal(res.status, 413, JSON.stringify(res.json));
      assert.equal(await runsInSpace(), 0);
      assert.equal(stack.simulator.ledger().dials.length, dialsBefore);
    });
    it('a Latin-1 byte far into the file is refused, before a run starts', async () => {
      const good = `phone,name\n${rows(1200)}\n`;
      assert.ok(good.length > 40 * 1024);
      const csv = Buffer.concat([
        Buffer.from(good),
        Buffer.from('+14155559999,Ren'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]);
      const res = await chunkedUpload(`${api.url}${base()}/runs/`, csv);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json.x_campaign.code, 'not_utf8');
      assert.equal(await runsInSpace(), 0);
    });
    it('a NUL byte far into the file is refused, before a run starts', async () => {
      const good = `phone,name\n${rows(1200)}\n`;
      const csv = Buffer.concat([
        Buffer.from(good),
        Buffer.from('+14155559998,A'),
        Buffer.from([0]),
        Buffer.from('B\n'),
      ]);
      const res = await chunkedUpload(`${api.url}${base()}/runs/`, csv);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json.x_campaign.code, 'not_csv');
      assert.match(res.json.errors, /NUL byte at offset \d+/);
      assert.equal(await runsInSpace(), 0);
    });
  });

  describe('a server bound beyond loopback', () => {
    it('refuses to start without API keys', async () => {
      await assert.rejects(
        startHttpServer({
          temporal: stack.env.client,
          taskQueue: stack.taskQueue,
          host: '0.0.0.0',
          port: 0,
        }),
        /refusing to listen on 0\.0\.0\.0 without API_KEYS/,
      );
    });
  });

  describe('callbacks', () => {
    const SECRET = 'cbsec_security_0123456789';
    let runId: string;
    before(async () => {
      runId = await stack.run([contact('+14155554100', 2)], { spaceToken: 'space_cb' });
    });

    it('a loopback callback_url is refused, not retried, and never requested', async () => {
      const rx = await countingServer();
      try {
        const { deliverCallback } = createCallbackActivities({
          temporal: stack.env.client,
          signingSecret: SECRET,
        });
        const progress = await getProgress(stack.env.client, runId);
        await assert.rejects(
          deliverCallback({ url: rx.url, type: 'run.finished', runId, progress }),
          (err: unknown) => {
            assert.ok(err instanceof ApplicationFailure);
            assert.equal(err.nonRetryable, true);
            assert.match(err.message, /loopback/);
            return true;
          },
        );
        assert.equal(rx.hits, 0);
      } finally {
        await rx.close();
      }
    });

    it("allowed, it is signed with the space's own secret, not the shared one", async () => {
      const got: { headers: http.IncomingHttpHeaders; raw: string }[] = [];
      const server = http.createServer((req, res) => {
        let raw = '';
        req.on('data', (d: Buffer) => (raw += d.toString()));
        req.on('end', () => {
          got.push({ headers: req.headers, raw });
          res.end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;
        const { deliverCallback } = createCallbackActivities({
          temporal: stack.env.client,
          signingSecret: SECRET,
          outbound: LOOPBACK_ALLOWED,
        });
        const progress = await getProgress(stack.env.client, runId);
        await deliverCallback({ url, type: 'run.finished', runId, progress });
        assert.equal(got.length, 1);
        const sig = (secret: string) =>
          verifyWebhookSignature({
            secret,
            timestampHeader: got[0]!.headers[PUSH_TIMESTAMP_HEADER],
            signatureHeader: got[0]!.headers[PUSH_SIGNATURE_HEADER],
            rawBody: got[0]!.raw,
          }).ok;
        assert.equal(sig(callbackSecretFor(SECRET, 'space_cb')), true);
        assert.equal(sig(SECRET), false, 'the shared secret does not verify it');
        assert.equal(sig(callbackSecretFor(SECRET, 'space_other')), false, "another space's secret does not");
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    it('a final 4xx is not retried; a 5xx is', async () => {
      for (const [status, retryable] of [
        [400, false],
        [503, true],
      ] as const) {
        const rx = await countingServer(status);
        try {
          const { deliverCallback } = createCallbackActivities({
            temporal: stack.env.client,
            signingSecret: SECRET,
            outbound: LOOPBACK_ALLOWED,
          });
          const progress = await getProgress(stack.env.client, runId);
          await assert.rejects(
            deliverCallback({ url: rx.url, type: 'run.finished', runId, progress }),
            (err: unknown) => {
              assert.ok(err instanceof ApplicationFailure);
              assert.equal(err.nonRetryable, !retryable, `HTTP ${status}`);
              return true;
            },
          );
        } finally {
          await rx.close();
        }
      }
    });
  });
});
