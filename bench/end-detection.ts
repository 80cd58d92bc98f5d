/**
 * `npm run bench -- end-detection`: how fast, and at what cost in Unpod requests, the end of a call is known.
 * 200 calls live at once on the simulator at real speed (talk times spread over 10–70 s), watched by the
 * worker's watcher (src/unpod/call-watcher.ts: one list of live calls per interval, one read per ended call);
 * beside it, per-call polling held to the same request budget as the watcher spent, for comparison.
 *
 * Detection delay = when the end was known here − the call's own `ended_at` (the simulator's clock, same machine).
 *
 *   npm run bench -- end-detection [--calls 200] [--interval-ms 1000] [--talk-s 10-70]
 */
import { startSimulator } from '../src/simulator';
import { UnpodClient, type UnpodCall } from '../src/unpod';
import { CallWatcher } from '../src/unpod/call-watcher';
import { isTerminalState } from '../src/unpod/end-reasons';
import { flag, numberFlag, printTable } from './harness';

const KEY = 'sim_bench_key';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Counts what the client asks Unpod for, by kind. */
function counting(client: UnpodClient): { client: UnpodClient; counts: { lists: number; reads: number } } {
  const counts = { lists: 0, reads: 0 };
  const calls = {
    ...client.calls,
    list: (...a: Parameters<typeof client.calls.list>) => (counts.lists++, client.calls.list(...a)),
    listInFlight: (...a: Parameters<typeof client.calls.listInFlight>) => (
      counts.lists++,
      client.calls.list({ status: 'in_flight', pipeId: a[0] }, a[1])
    ),
    get: (...a: Parameters<typeof client.calls.get>) => (counts.reads++, client.calls.get(...a)),
  };
  const wrapped = Object.assign(
    Object.create(Object.getPrototypeOf(client) as object) as UnpodClient,
    client,
    {
      calls,
    },
  );
  return { client: wrapped, counts };
}

interface Result {
  label: string;
  delays: number[];
  seconds: number;
  lists: number;
  reads: number;
}

async function placeCalls(unpod: UnpodClient, n: number, tag: string): Promise<UnpodCall[]> {
  const placed: UnpodCall[] = [];
  for (let i = 0; i < n; i++) {
    placed.push(
      await unpod.calls.create({
        to_number: `+1415${tag}${String(i).padStart(4, '0')}`,
        pipe_id: 'pipe_bench',
        data: { bench: tag },
      }),
    );
  }
  return placed;
}

async function viaWatcher(unpod: UnpodClient, n: number, intervalMs: number): Promise<Result> {
  const { client, counts } = counting(unpod);
  const watcher = new CallWatcher(client, { minIntervalMs: intervalMs });
  const placed = await placeCalls(unpod, n, '601');
  const t0 = Date.now();
  const delays = await Promise.all(
    placed.map(async (c) => {
      const end = await watcher.watch(c.callId, { intervalMs });
      return Date.now() - Date.parse(end.endedAt!);
    }),
  );
  watcher.close();
  return {
    label: `watcher, list every ${intervalMs} ms`,
    delays,
    seconds: (Date.now() - t0) / 1000,
    ...counts,
  };
}

/** Per-call polling, round robin, at the request rate the watcher needed: what the same budget buys that way. */
async function viaPerCallPolling(unpod: UnpodClient, n: number, perSecond: number): Promise<Result> {
  const { client, counts } = counting(unpod);
  const placed = await placeCalls(unpod, n, '602');
  const t0 = Date.now();
  const open = new Map(placed.map((c) => [c.callId, c]));
  const delays: number[] = [];
  const gapMs = 1000 / perSecond;
  while (open.size > 0) {
    for (const id of [...open.keys()]) {
      const started = Date.now();
      const c = await client.calls.get(id);
      if (isTerminalState(c.state)) {
        delays.push(Date.now() - Date.parse(c.endedAt!));
        open.delete(id);
      }
      const wait = gapMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  return {
    label: `per-call polling at ${perSecond.toFixed(2)} req/s`,
    delays,
    seconds: (Date.now() - t0) / 1000,
    ...counts,
  };
}

export async function run(args: string[]): Promise<void> {
  const n = numberFlag(args, 'calls', 200);
  const intervalMs = numberFlag(args, 'interval-ms', 1_000);
  const [talkMinS, talkMaxS] = (flag(args, 'talk-s') ?? '10-70').split('-').map(Number) as [number, number];
  if (!(talkMinS > 0 && talkMaxS > talkMinS)) throw new Error('--talk-s wants MIN-MAX seconds, e.g. 10-70');
  const sim = await startSimulator({
    speed: 1,
    seed: 11,
    accounts: [
      {
        apiKey: KEY,
        accountId: 'acct_bench',
        callsPerMinute: 1_000_000,
        tasksPerDay: 1_000_000,
        concurrency: 10_000,
      },
    ],
  });
  // Talk times spread evenly over the range (real time: speed 1), all calls live at first.
  const spanMs = (talkMaxS - talkMinS) * 1000;
  for (let i = 0; i < n; i++) {
    const talkMs = talkMinS * 1000 + ((i * 7919) % spanMs);
    for (const tag of ['601', '602'])
      sim.script(`+1415${tag}${String(i).padStart(4, '0')}`, [
        { endReason: 'agent_end_call', ringMs: 500, talkMs },
      ]);
  }
  const unpod = new UnpodClient({ baseUrl: sim.url, apiKey: KEY, connections: 16 });
  try {
    console.log(`${n} calls live at once, talk ${talkMinS}–${talkMaxS} s (simulator at real speed)`);
    const w = await viaWatcher(unpod, n, intervalMs);
    const budget = (w.lists + w.reads) / w.seconds;
    const p = await viaPerCallPolling(unpod, n, budget);
    const rows = [w, p].map((r) => {
      const d = [...r.delays].sort((a, b) => a - b);
      return {
        'end detection': r.label,
        calls: String(r.delays.length),
        'p50 s': (pct(d, 50) / 1000).toFixed(2),
        'p99 s': (pct(d, 99) / 1000).toFixed(2),
        'max s': (pct(d, 100) / 1000).toFixed(2),
        'Unpod req/s': ((r.lists + r.reads) / r.seconds).toFixed(2),
        lists: String(r.lists),
        reads: String(r.reads),
      };
    });
    printTable(rows);
    const d = [...w.delays].sort((a, b) => a - b);
    console.log(
      `targets: p50 ≤ 2 s (${(pct(d, 50) / 1000).toFixed(2)} s, ratio ${(pct(d, 50) / 2000).toFixed(2)}), ` +
        `p99 ≤ 10 s (${(pct(d, 99) / 1000).toFixed(2)} s, ratio ${(pct(d, 99) / 10_000).toFixed(2)}), ` +
        `≤ 2 Unpod req/s (${budget.toFixed(2)}, ratio ${(budget / 2).toFixed(2)}); ` +
        `the reads are one per ended call (${w.reads} for ${n}), the lists one per interval`,
    );
  } finally {
    await unpod.close();
    await sim.close();
  }
}
