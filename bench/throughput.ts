/**
 * `npm run bench -- throughput [--contacts N] [--window W] [--baseline-concurrency C] [--cluster]`
 *
 * Contacts per second end to end through Temporal (a campaign of N answered contacts, limits lifted), and in
 * the same run the loop a user might write instead: create the call, poll it until it ends, C at a time, no
 * durability, against the same simulator; and the bare Temporal floor, the same call as one workflow with one
 * activity per contact (what no engine of one workflow per contact can beat on this server). Prints the three,
 * their ratios, and what Temporal costs per contact: history
 * events and workflow tasks, summed over every workflow of the run (campaign runs, limiter runs, batches, tasks).
 * `--cluster`: on the multi-service server with PostgreSQL (src/temporal/cluster.ts) instead of the dev server;
 * server CPU is then the four services' and PostgreSQL's.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { UnpodClient } from '../src/unpod';
import { floorWorkflow } from './floor-workflow';
import {
  answeredPhone,
  benchStackOptions,
  busiestSignals,
  historyCounts,
  cpuSeconds,
  mapLimit,
  numberFlag,
  printTable,
  runCampaign,
  runHistories,
  startBenchStack,
  settingsText,
  type BenchStack,
  type Row,
} from './harness';

/** The floor's client starts (and awaits) this many workflows at once, as the anchor measured it. */
const FLOOR_STARTS_AT_ONCE = 100;

/** One contact as a user's loop does it: create the call, poll it until it ends. Resolves with the polls made. */
async function callAndAwait(unpod: UnpodClient, i: number, key: string): Promise<number> {
  let polls = 0;
  let call = await unpod.calls.create(
    { pipe_id: 'pipe_bench', to_number: answeredPhone(i), data: {} },
    { idempotencyKey: key },
  );
  let delayMs = 5;
  while (call.state !== 'completed' && call.state !== 'failed') {
    await new Promise((r) => setTimeout(r, delayMs));
    delayMs = Math.min(delayMs * 2, 500);
    call = await unpod.calls.get(call.callId);
    polls++;
  }
  return polls;
}

/** The baseline: a plain bounded-concurrency loop, create then poll until terminal. */
async function baseline(
  unpod: UnpodClient,
  n: number,
  concurrency: number,
): Promise<{ wallMs: number; polls: number }> {
  let polls = 0;
  const t0 = Date.now();
  const indexes = Array.from({ length: n }, (_, i) => i);
  await mapLimit(indexes, concurrency, async (i) => {
    polls += await callAndAwait(unpod, i, `baseline-${t0}-${i}`);
  });
  return { wallMs: Date.now() - t0, polls };
}

/**
 * The bare floor (shared/BENCH-ANCHORS.md): the same call per item, as one workflow with one activity each,
 * started by the client 100 at a time and awaited, on the same server, by a worker in this process.
 */
async function floor(stack: BenchStack, n: number, concurrency: number): Promise<{ wallMs: number }> {
  const taskQueue = `${stack.taskQueue}-floor`;
  const t0 = Date.now();
  const connection = await NativeConnection.connect({ address: stack.address });
  const worker = await Worker.create({
    connection,
    namespace: stack.namespace,
    taskQueue,
    workflowsPath: require.resolve('./floor-workflow'),
    activities: {
      callAndAwait: async (i: number) => {
        await callAndAwait(stack.unpod, i, `floor-${t0}-${i}`);
      },
    },
    maxConcurrentActivityTaskExecutions: concurrency,
  });
  const started = Date.now();
  try {
    await worker.runUntil(
      mapLimit(
        Array.from({ length: n }, (_, i) => i),
        FLOOR_STARTS_AT_ONCE,
        (i) =>
          stack.client.workflow.execute(floorWorkflow, {
            workflowId: `floor-${t0}-${i}`,
            taskQueue,
            args: [i],
          }),
      ),
    );
    return { wallMs: Date.now() - started };
  } finally {
    await connection.close();
  }
}

/** What kind of workflow an id names (workflows/ids.ts). */
function kindOf(workflowId: string): 'campaign' | 'limiter' | 'batch' | 'task' {
  if (workflowId.startsWith('limiter-')) return 'limiter';
  if (workflowId.startsWith('task-')) return 'task';
  return workflowId.includes('-batch-') ? 'batch' : 'campaign';
}

export async function run(args: string[]): Promise<void> {
  const n = numberFlag(args, 'contacts', 2_000);
  const window = numberFlag(args, 'window', 500);
  const concurrency = numberFlag(args, 'baseline-concurrency', window);
  const pollIntervalMs = numberFlag(args, 'poll-ms', 1_000);
  const opts = benchStackOptions(args);
  const stack = await startBenchStack(opts);
  try {
    const cpu0 = {
      server: stack.serverCpuSeconds(),
      worker: cpuSeconds(stack.worker!.pid),
      self: process.cpuUsage(),
    };
    const r = await runCampaign(stack, n, { window, pollIntervalMs, label: 'throughput' });
    const cpu = {
      server: cpu0.server !== null ? (stack.serverCpuSeconds() ?? 0) - cpu0.server : NaN,
      worker: (cpuSeconds(stack.worker!.pid) ?? 0) - (cpu0.worker ?? 0),
      self: (() => {
        const u = process.cpuUsage(cpu0.self);
        return (u.user + u.system) / 1e6;
      })(),
    };
    if (!r.completed)
      throw new Error(`campaign ${r.runId} did not complete: ${JSON.stringify(r.progress.counts)}`);
    const temporalRate = n / (r.wallMs / 1000);

    // Visibility records a task's history length when it closes; wait until every task and batch is listed.
    const expected = n + Math.ceil(n / 250);
    let h = await runHistories(stack.client, r, { keep: true });
    for (let i = 0; i < 60 && h.listed < expected; i++) {
      await new Promise((res) => setTimeout(res, 500));
      h = await runHistories(stack.client, r, { keep: true });
    }
    const all = [...h.campaignRuns, ...h.limiterRuns, ...h.others];
    const events = all.reduce((a, b) => a + b.events, 0);
    const counts = await mapLimit(all, 32, (x) => historyCounts(stack.client, x));
    const wfts = counts.reduce((a, b) => a + b.wfts, 0);
    // Per kind of workflow: events and workflow tasks per contact, and the commonest event types.
    const kinds = new Map<string, { events: number; wfts: number; byType: Map<string, number> }>();
    all.forEach((x, i) => {
      const k = kinds.get(kindOf(x.workflowId)) ?? { events: 0, wfts: 0, byType: new Map() };
      k.events += x.events;
      k.wfts += counts[i]!.wfts;
      for (const [t, c] of counts[i]!.byType) k.byType.set(t, (k.byType.get(t) ?? 0) + c);
      kinds.set(kindOf(x.workflowId), k);
    });
    const busiest = busiestSignals(all, counts, r.wallMs);
    const peakRss = await stack.worker!.stop();

    const b = await baseline(stack.unpod, n, concurrency);
    const baselineRate = n / (b.wallMs / 1000);
    const f = await floor(stack, n, concurrency);
    const floorRate = n / (f.wallMs / 1000);

    const wallS = r.wallMs / 1000;
    const rows: Row[] = [
      {
        path: `Temporal campaign (window ${window})`,
        contacts: n,
        'wall time': `${wallS.toFixed(1)} s`,
        'contacts/s': temporalRate.toFixed(1),
        'CPU s (server / worker / sim+http+client)': `${cpu.server.toFixed(0)} / ${cpu.worker.toFixed(0)} / ${cpu.self.toFixed(0)}`,
      },
      {
        path: `baseline loop (${concurrency} at once, no durability)`,
        contacts: n,
        'wall time': `${(b.wallMs / 1000).toFixed(1)} s`,
        'contacts/s': baselineRate.toFixed(1),
        'CPU s (server / worker / sim+http+client)': `- / - / ${b.polls.toLocaleString('en-US')} polls`,
      },
      {
        path: `bare Temporal floor (a workflow + an activity per contact, ${FLOOR_STARTS_AT_ONCE} at once)`,
        contacts: n,
        'wall time': `${(f.wallMs / 1000).toFixed(1)} s`,
        'contacts/s': floorRate.toFixed(1),
        'CPU s (server / worker / sim+http+client)': '-',
      },
    ];
    printTable(rows);
    console.log('');
    printTable([
      {
        'Temporal / baseline': `${(temporalRate / baselineRate).toFixed(3)}× (${(baselineRate / temporalRate).toFixed(1)}× slower)`,
        'Temporal / floor': `${(temporalRate / floorRate).toFixed(2)}×`,
        'floor / baseline': `${(floorRate / baselineRate).toFixed(3)}×`,
        'events per contact': (events / n).toFixed(1),
        'workflow tasks per contact': (wfts / n).toFixed(2),
        workflows: `${all.length} (${h.campaignRuns.length} campaign runs, ${h.limiterRuns.length} limiter runs, ${h.listed} tasks+batches)`,
        'worker peak RSS': `${(peakRss / 1024 / 1024).toFixed(0)} MB`,
        'busiest workflow: signals/s in': busiest,
      },
    ]);
    console.log('');
    printTable(
      [...kinds].map(([kind, k]) => ({
        workflow: kind,
        'events per contact': (k.events / n).toFixed(2),
        'workflow tasks per contact': (k.wfts / n).toFixed(2),
        'events by type, per contact': [...k.byType]
          .sort((a, b) => b[1] - a[1])
          .filter(([, c]) => c / n >= 0.05)
          .map(([t, c]) => `${t} ${(c / n).toFixed(1)}`)
          .join(', '),
      })),
    );
    console.log(`\nsettings: ${settingsText(opts, window)}; poll interval ${pollIntervalMs} ms`);
    if (h.listed < expected)
      console.log(`(visibility listed ${h.listed} of ${expected} task and batch workflows)`);
  } finally {
    await stack.close();
  }
}
