/**
 * `npm run bench -- console [--contacts N] [--reps R]` (default 3,000 contacts, 15 repetitions)
 *
 * What the console's run page asks, timed against a run of N finished contacts (every call answered at once,
 * limits lifted): the run, a page of its contacts (first page, a later page by token, filtered by status, by
 * number), the outcomes by end reason and one feed sample — each through the HTTP API, as the browser asks it.
 * The old offset-paged GET …/tasks/ (which lists every task to sort them) is timed beside them for comparison.
 * Prints median and p95 per request and whether each is within the 500 ms target.
 */
import { startHttpServer } from '../src/http/serve';
import {
  benchStackOptions,
  numberFlag,
  printTable,
  answeredPhone,
  finishedOf,
  LIFTED_LIMITS,
  settingsText,
  startBenchStack,
  type BenchStack,
  type Row,
} from './harness';
import { startRun } from '../src/campaign/start-run';
import type { ContactBatch } from '../src/contacts/contact';
import { progressQuery } from '../workflows/definitions';
import { DEFAULT_POLICY } from '../workflows/policy';

/**
 * N contacts, a share of them on the do-not-call list: those become skipped tasks (a task workflow each, in
 * visibility like any other, but no call), which fills a big run in less time on a small machine.
 */
async function* batches(n: number, skippedShare: number, size = 250): AsyncGenerator<ContactBatch> {
  let batchNo = 0;
  for (let i = 0; i < n; i += size) {
    batchNo++;
    const b: ContactBatch = { batchNo, contacts: [], skipped: [] };
    for (let j = i; j < Math.min(n, i + size); j++) {
      const c = { phone: answeredPhone(j), line: j + 2, name: `Contact ${j + 1}`, metadata: {} };
      if ((j % 100) / 100 < skippedShare)
        b.skipped.push({ ...c, skipReason: 'do_not_call', skipDetail: 'on the do-not-call list' });
      else b.contacts.push(c);
    }
    yield b;
  }
}

async function fillRun(stack: BenchStack, n: number, skippedShare: number, window: number) {
  const t0 = Date.now();
  const started = await startRun(
    stack.client,
    stack.taskQueue,
    {
      accountId: `acct_${stack.taskQueue}`,
      limits: LIFTED_LIMITS,
      spaceToken: SPACE,
      call: { pipeId: 'pipe_bench' },
      policy: { ...DEFAULT_POLICY, pollIntervalMs: 1_000 },
      window,
    },
    batches(n, skippedShare),
  );
  const handle = stack.client.workflow.getHandle(started.workflowId);
  let lastLog = Date.now();
  for (;;) {
    const p = await handle.query(progressQuery).catch(() => null);
    if (p && (p.state === 'completed' || p.state === 'canceled'))
      return { runId: started.runId, wallMs: Date.now() - t0 };
    if (p && Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      process.stderr.write(
        `  console fill ${((Date.now() - t0) / 1000).toFixed(0)} s: ${finishedOf(p)}/${n}\n`,
      );
    }
    await new Promise((res) => setTimeout(res, 1_000));
  }
}

const KEY = 'bench_console_key_0123456789';
const SPACE = 'space_bench';
const TARGET_MS = 500;

export async function run(args: string[]): Promise<void> {
  const n = numberFlag(args, 'contacts', 3_000);
  const reps = numberFlag(args, 'reps', 15);
  const window = numberFlag(args, 'window', 100);
  const skippedShare = numberFlag(args, 'skipped-share', 0);
  const opts = benchStackOptions(args);
  const stack = await startBenchStack(opts);
  const server = await startHttpServer({
    temporal: stack.client,
    taskQueue: stack.taskQueue,
    host: '127.0.0.1',
    port: 0,
    api: {
      keys: [{ key: KEY, space: SPACE, user: 'bench' }],
      defaultAccount: 'acct_bench',
      defaultPipeId: 'pipe_bench',
      defaultRegion: 'US',
    },
    console: { build: false },
  });
  try {
    const r = await fillRun(stack, n, skippedShare, window);
    const base = `${server.url}/api/v2/platform/spaces/${SPACE}/runs/${r.runId}`;
    const get = async (path: string) => {
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Token ${KEY}` } });
      const body = (await res.json()) as { next_page_token?: string | null; count?: number };
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - t0, body };
    };
    // A page token three pages in, as "Next" gives it.
    let token: string | null | undefined = null;
    for (let i = 0; i < 3; i++)
      token = (await get(`/contacts/?page_size=25${token ? `&page_token=${token}` : ''}`)).body
        .next_page_token;
    const lastDigits = '+1415000001';
    const requests: [string, string][] = [
      ['run', '/'],
      ['contacts, page 1 (25)', '/contacts/?page_size=25'],
      ['contacts, page 4 by token', `/contacts/?page_size=25${token ? `&page_token=${token}` : ''}`],
      ['contacts, status=completed', '/contacts/?page_size=25&status=completed'],
      ['contacts, number prefix', `/contacts/?page_size=25&q=${encodeURIComponent(lastDigits)}`],
      ['outcomes by end reason', '/outcomes/'],
      ['feed sample', '/feed/'],
      ['old tasks page 1 (for comparison)', '/tasks/?page=1&page_size=25'],
    ];
    const rows: Row[] = [];
    for (const [what, path] of requests) {
      await get(path); // warm
      const times: number[] = [];
      for (let i = 0; i < reps; i++) times.push((await get(path)).ms);
      times.sort((x, y) => x - y);
      const median = times[Math.floor(times.length / 2)]!;
      const p95 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)]!;
      rows.push({
        request: what,
        'median ms': median.toFixed(0),
        'p95 ms': p95.toFixed(0),
        [`≤ ${TARGET_MS} ms`]: what.startsWith('old')
          ? '(not a console route)'
          : p95 <= TARGET_MS
            ? 'yes'
            : 'NO',
      });
    }
    console.log(
      `run of ${n.toLocaleString('en-US')} finished contacts (${Math.round(skippedShare * 100)}% on the do-not-call list, the rest called), ` +
        `filled in ${(r.wallMs / 1000).toFixed(0)} s; ${reps} requests each`,
    );
    printTable(rows);
    console.log(`\nsettings: ${settingsText(opts, window)}`);
  } finally {
    await server.close();
    await stack.close();
  }
}
