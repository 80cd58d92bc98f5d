/**
 * `npm run bench -- console-pages [--sizes 5000,20000] [--reps 20] [--pace-ms 400] [--called-share 0.02]`
 *
 * Is the console's run page, and a page of its contacts, within 500 ms however big the run (issue 15, item 6)?
 * For each size N (ascending, on one dev server: the later runs share visibility with the earlier ones, as on a
 * real server), a run of N contacts is built cheaply — most of them on the do-not-call list, so each is a real
 * task workflow in visibility that ends at once without a call; `--called-share` of them are called and answered
 * at once (end reasons, transcripts) — and, once it has ended and visibility has every task, each request the
 * run page makes is timed `--reps` times through HTTP, as the browser asks it:
 *
 * - the run, the feed sample, the outcomes (and the four at once, as the page opens), and the outcomes' uncached
 *   path (the visibility counts, timed without the HTTP cache of an ended run);
 * - a page of contacts: page 1, page 4 by token, filtered by status, by end reason, by number, by name.
 *
 * Also timed: the run while it was still running (sampled during the fill). Prints p50 / p95 per request and N,
 * and the p95 as a share of the 500 ms bound; a second size shows whether latency grows with N.
 */
import type { Client } from '@temporalio/client';
import { startRun } from '../src/campaign/start-run';
import { getProgress, tasksQuery } from '../src/campaign/run-queries';
import { endReasonCounts } from '../src/http/api-contacts';
import { startHttpServer } from '../src/http/serve';
import type { ContactBatch } from '../src/contacts/contact';
import { DEFAULT_POLICY } from '../workflows/policy';
import {
  answeredPhone,
  benchStackOptions,
  finishedOf,
  flag,
  LIFTED_LIMITS,
  numberFlag,
  printTable,
  settingsText,
  startBenchStack,
  type BenchStack,
  type Row,
} from './harness';

const KEY = 'bench_console_pages_key_0123456789';
const SPACE = 'space_bench_pages';
const BOUND_MS = 500;

/** Contact j is named "Person j" and called when j % 1000 < calledShare × 1000, else on the do-not-call list. */
async function* batches(n: number, calledShare: number, size = 500): AsyncGenerator<ContactBatch> {
  let batchNo = 0;
  for (let i = 0; i < n; i += size) {
    batchNo++;
    const b: ContactBatch = { batchNo, contacts: [], skipped: [] };
    for (let j = i; j < Math.min(n, i + size); j++) {
      const c = { phone: answeredPhone(j), line: j + 2, name: `Person ${j + 1}`, metadata: {} };
      if (j % 1000 < calledShare * 1000) b.contacts.push(c);
      else b.skipped.push({ ...c, skipReason: 'do_not_call', skipDetail: 'on the do-not-call list' });
    }
    yield b;
  }
}

function quantiles(times: number[]): { p50: number; p95: number } {
  const s = [...times].sort((x, y) => x - y);
  return {
    p50: s[Math.floor((s.length - 1) / 2)]!,
    p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!,
  };
}

/** Visibility requests (list and count) made through `client`, counted: the namespace's budget is per second. */
function countVisibilityCalls(client: Client): () => number {
  let calls = 0;
  const svc = client.workflowService as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const m of ['listWorkflowExecutions', 'countWorkflowExecutions']) {
    const orig = svc[m]!.bind(svc);
    svc[m] = (...a: unknown[]) => {
      calls++;
      return orig(...a);
    };
  }
  return () => calls;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

interface Measured {
  n: number;
  fillS: number;
  called: number;
  outcomesFrom: string;
  results: Map<string, Timing>;
}

interface Timing {
  p50: number;
  p95: number;
  reps: number;
  /** Visibility requests per request, on average. */
  visibility: number;
}

async function waitVisible(client: Client, runId: string, n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await client.workflow.count(tasksQuery(runId))).count >= n) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`visibility did not show the run's ${n} tasks within 5 minutes`);
}

async function measureSize(
  stack: BenchStack,
  url: string,
  n: number,
  o: { reps: number; calledShare: number; window: number; paceMs: number; visibilityCalls: () => number },
): Promise<Measured> {
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
      window: o.window,
    },
    batches(n, o.calledShare),
  );
  const runId = started.runId;
  const base = `${url}/api/v2/platform/spaces/${SPACE}/runs/${runId}`;
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Token ${KEY}` } });
    const body = (await res.json()) as { next_page_token?: string | null; count?: number; data?: unknown };
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body;
  };

  // The fill; the run page's own request sampled meanwhile (a running run also works out its ETA).
  const whileRunning: number[] = [];
  const progressWhileRunning: number[] = [];
  let lastLog = Date.now();
  for (;;) {
    const tq = performance.now();
    // As every reader since 0.3.1: the progress memo, by describe (no query reaches the run).
    const p = await getProgress(stack.client, runId).catch(() => null);
    if (p && p.state === 'running') progressWhileRunning.push(performance.now() - tq);
    if (p && (p.state === 'completed' || p.state === 'canceled')) break;
    if (p && p.state === 'running') whileRunning.push(await timeIt(() => get('/')));
    if (p && Date.now() - lastLog > 20_000) {
      lastLog = Date.now();
      process.stderr.write(
        `  console-pages fill ${((Date.now() - t0) / 1000).toFixed(0)} s: ${finishedOf(p)}/${n}\n`,
      );
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const fillS = (Date.now() - t0) / 1000;
  await waitVisible(stack.client, runId, n);
  const progress = await getProgress(stack.client, runId);

  let token: string | null | undefined = null;
  for (let i = 0; i < 3; i++)
    token = (await get(`/contacts/?page_size=25${token ? `&page_token=${token}` : ''}`)).next_page_token;
  const middle = Math.floor(n / 2);
  const requests: [string, () => Promise<unknown>][] = [
    ['run', () => get('/')],
    ['feed sample', () => get('/feed/')],
    ['outcomes (HTTP)', () => get('/outcomes/')],
    [
      'outcomes, uncached (visibility counts)',
      () =>
        // As for a run whose progress has no endReasons (0.2): the counts from visibility.
        endReasonCounts(
          { ...progress, endReasons: undefined },
          async (q) => (await stack.client.workflow.count(q)).count,
        ).then((r) => {
          if (r.from !== 'visibility') throw new Error('expected the visibility path');
        }),
    ],
    [
      'run page: run + feed + outcomes + contacts at once',
      () => Promise.all([get('/'), get('/feed/'), get('/outcomes/'), get('/contacts/?page_size=25')]),
    ],
    ['contacts page 1 (25)', () => get('/contacts/?page_size=25')],
    ['contacts page 4 by token', () => get(`/contacts/?page_size=25&page_token=${token}`)],
    ['contacts, status=skipped', () => get('/contacts/?page_size=25&status=skipped')],
    ['contacts, end_reason', () => get('/contacts/?page_size=25&end_reason=USER_HUNG_UP_IN_CALL')],
    [
      'contacts, number prefix',
      () => get(`/contacts/?page_size=25&q=${encodeURIComponent(answeredPhone(middle).slice(0, 10))}`),
    ],
    [
      'contacts, name prefix',
      () => get(`/contacts/?page_size=25&q=${encodeURIComponent(`person ${middle}`)}`),
    ],
  ];
  const results = new Map<string, Timing>();
  if (whileRunning.length) {
    results.set('run, while running (sampled in the fill)', {
      ...quantiles(whileRunning),
      reps: whileRunning.length,
      visibility: Number.NaN,
    });
    // Part of the above: the campaign's progress alone (its memo, by describe; a query before 0.3.1).
    results.set('  its progress read alone (memo), while running', {
      ...quantiles(progressWhileRunning),
      reps: progressWhileRunning.length,
      visibility: Number.NaN,
    });
  }
  for (const [what, fn] of requests) {
    await fn(); // warm
    const times: number[] = [];
    const calls0 = o.visibilityCalls();
    for (let i = 0; i < o.reps; i++) {
      // Paced: one request per paceMs, as a page polls; back to back they would measure the namespace's
      // visibility rate limit (10 requests/s by default), not the request.
      await new Promise((r) => setTimeout(r, o.paceMs));
      times.push(await timeIt(fn));
    }
    results.set(what, {
      ...quantiles(times),
      reps: o.reps,
      visibility: (o.visibilityCalls() - calls0) / o.reps,
    });
  }
  const outcomesFrom = (await endReasonCounts(progress, () => Promise.resolve(0))).from;
  const called = progress.counts.completed + progress.counts.failed;
  return { n, fillS, called, outcomesFrom, results };
}

export async function run(args: string[]): Promise<void> {
  const sizes = (flag(args, 'sizes') ?? '5000,20000')
    .split(',')
    .map((s) => Number(s.replace(/_/g, '')))
    .sort((a, b) => a - b);
  if (!sizes.length || sizes.some((s) => !Number.isInteger(s) || s <= 0))
    throw new Error(`--sizes takes whole numbers separated by commas, got '${flag(args, 'sizes')}'`);
  const reps = numberFlag(args, 'reps', 20);
  const calledShare = numberFlag(args, 'called-share', 0.02);
  const window = numberFlag(args, 'window', 200);
  const paceMs = numberFlag(args, 'pace-ms', 400);
  const opts = benchStackOptions(args);
  const stack = await startBenchStack(opts);
  const visibilityCalls = countVisibilityCalls(stack.client);
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
  const measured: Measured[] = [];
  try {
    for (const n of sizes)
      measured.push(
        await measureSize(stack, server.url, n, { reps, calledShare, window, paceMs, visibilityCalls }),
      );
  } finally {
    await server.close();
    await stack.close();
  }

  const rows: Row[] = [];
  const largest = measured.at(-1)!;
  for (const what of largest.results.keys()) {
    const row: Row = { request: what };
    for (const m of measured) {
      const r = m.results.get(what);
      row[`N=${m.n.toLocaleString('en-US')} p50 / p95 ms`] = r
        ? `${r.p50.toFixed(0)} / ${r.p95.toFixed(0)}`
        : '';
    }
    const r = largest.results.get(what)!;
    row['visibility calls'] = Number.isNaN(r.visibility) ? '' : r.visibility.toFixed(1);
    row[`p95 / ${BOUND_MS} ms`] = (r.p95 / BOUND_MS).toFixed(2);
    if (measured.length > 1) {
      const first = measured[0]!.results.get(what);
      row[`p50 ×, N ×${(largest.n / measured[0]!.n).toFixed(0)}`] = first
        ? (r.p50 / Math.max(1, first.p50)).toFixed(1)
        : '';
    }
    row['within'] = r.p95 <= BOUND_MS ? 'yes' : 'NO';
    rows.push(row);
  }
  for (const m of measured)
    console.log(
      `N=${m.n.toLocaleString('en-US')}: filled in ${m.fillS.toFixed(0)} s (${m.called} called, the rest on the ` +
        `do-not-call list: each a task workflow in visibility); outcomes from ${m.outcomesFrom}`,
    );
  console.log(
    `${reps} requests each after one warm-up, one per ${paceMs} ms; "while running": one sample per 2 s of ` +
      'the fill; visibility calls: list and count requests per request (the namespace allows 10 a second)',
  );
  printTable(rows);
  console.log(`\nsettings: ${settingsText(opts, window)}`);
}
