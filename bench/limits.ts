/**
 * `npm run bench -- limits`: the account limiter against the simulator, which enforces the same limits on its own
 * and counts every violation. Per scenario: contacts, limits, the theoretical minimum makespan, the measured one,
 * their ratio, permit-to-dial latency p50/p99 and the simulator's violations. Real 60-second windows.
 *
 * Two lower bounds are printed. `min (issue)` is max(N / calls-per-minute, N × call / concurrency), as the issue
 * states it. `bound` is the exact least makespan: the k-th dial cannot come before floor((k-1)/cpm) windows, and
 * concurrency caps calls in parallel: max(floor((N-1)/cpm) × W + call, ceil(N / concurrency) × call). The ratio is
 * measured / bound. `least with these calls` is what an engine with no hand-off at all would have made of the same
 * calls: each call's own time at Unpod (from its create to its end, as the simulator recorded it: queued,
 * dispatched, rung, talked), which no engine can shorten, dialed in the same order each at the first moment both
 * limits allow (see idealMakespan). `--cluster`: on the
 * multi-service server with PostgreSQL (src/temporal/cluster.ts). `--agent-push`: the simulated agents post each
 * call's end to the HTTP server (the optional accelerator).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { getProgress, listTasks } from '../src/campaign/run-queries';
import { table } from '../src/cli/output';
import { minimumMakespan } from '../workflows/limiter-core';
import { TEMPORAL_SERVER_VERSION } from '../src/temporal/cluster';
import { MAX_CAMPAIGN_WINDOW } from '../src/temporal/server-limits';
import { contact, FAST_POLICY, startTestStack } from '../test/helpers/stack';
import { busiestSignals, historyCounts, runHistories, sharedBenchCluster, type HistorySize } from './harness';

interface Scenario {
  name: string;
  campaigns: number;
  contactsPerCampaign: number;
  callsPerMinute: number;
  concurrency: number;
  callMs: number;
}

const WINDOW_MS = 60_000;
const RING_MS = 300;

const SCENARIOS: Scenario[] = [
  {
    name: 'rate-bound (Pro rate)',
    campaigns: 1,
    contactsPerCampaign: 120,
    callsPerMinute: 60,
    concurrency: 20,
    callMs: 2_000,
  },
  {
    name: 'concurrency-bound',
    campaigns: 1,
    contactsPerCampaign: 200,
    callsPerMinute: 1_000,
    concurrency: 10,
    callMs: 3_000,
  },
  {
    name: 'two campaigns, one account',
    campaigns: 2,
    contactsPerCampaign: 100,
    callsPerMinute: 120,
    concurrency: 10,
    callMs: 3_000,
  },
  {
    name: '1,000 calls/minute',
    campaigns: 1,
    contactsPerCampaign: 2_000,
    callsPerMinute: 1_000,
    concurrency: 100,
    callMs: 3_000,
  },
];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The least makespan of these calls under both limits at once: the k-th dial no sooner than one window after the
 * (k − cpm)-th, and no sooner than a slot frees, with no time lost between a call's end and the next dial. Dialing
 * each as early as both limits allow is optimal here (an earlier dial never delays a later one).
 */
export function idealMakespan(
  spansInDialOrder: number[],
  cpm: number,
  concurrency: number,
  windowMs: number,
) {
  const dials: number[] = [];
  const live: number[] = []; // end times of the calls in progress, ascending
  let makespan = 0;
  for (const [k, span] of spansInDialOrder.entries()) {
    let t = k > 0 ? dials[k - 1]! : 0;
    if (k >= cpm) t = Math.max(t, dials[k - cpm]! + windowMs);
    while (live.length > 0 && live[0]! <= t) live.shift();
    if (live.length >= concurrency) t = live.shift()!;
    dials.push(t);
    const end = t + span;
    const at = live.findIndex((e) => e > end);
    live.splice(at < 0 ? live.length : at, 0, end);
    makespan = Math.max(makespan, end);
  }
  return makespan;
}

/**
 * Unpod's own time per call, and what a freed slot costs before the next create. With concurrency c, the k-th
 * call after the first c takes the slot the k-th ending call gave up: the hand-off is its create minus that end;
 * end→grant is the part before its permit was granted (the rest is grant→dial). A hand-off over 10 s waited for
 * the rate, not for the engine, and is left out.
 */
function unpodTime(
  dials: { call_id: string; created_at: string; ended_at: string | null }[],
  concurrency: number,
  grantOf: Map<string, number>,
) {
  const spanOf = (d: (typeof dials)[number]) =>
    Date.parse(d.ended_at ?? d.created_at) - Date.parse(d.created_at);
  const byCreate = [...dials].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  const ends = dials.map((d) => Date.parse(d.ended_at ?? d.created_at)).sort((a, b) => a - b);
  const handoffs: number[] = [];
  const endToGrant: number[] = [];
  for (let k = 0; k + concurrency < byCreate.length; k++) {
    const next = byCreate[k + concurrency]!;
    const gap = Date.parse(next.created_at) - ends[k]!;
    if (gap < 0 || gap > 10_000) continue;
    handoffs.push(gap);
    const granted = grantOf.get(next.call_id);
    if (granted !== undefined && granted >= ends[k]!) endToGrant.push(granted - ends[k]!);
  }
  handoffs.sort((a, b) => a - b);
  endToGrant.sort((a, b) => a - b);
  const spans = byCreate.map(spanOf);
  return {
    spans,
    meanCallMs: spans.reduce((a, b) => a + b, 0) / Math.max(1, spans.length),
    handoffP50: percentile(handoffs, 50),
    endToGrantP50: percentile(endToGrant, 50),
  };
}

async function runScenario(sc: Scenario, index: number, agentPush: boolean) {
  const stack = await startTestStack(
    {
      speed: 1,
      rateWindowMs: WINDOW_MS,
      accounts: [
        {
          apiKey: 'sim_test_key',
          accountId: 'acct',
          callsPerMinute: sc.callsPerMinute,
          concurrency: sc.concurrency,
          tasksPerDay: 1e9,
        },
      ],
    },
    { agentPush },
  );
  try {
    const limits = {
      callsPerMinute: sc.callsPerMinute,
      concurrency: sc.concurrency,
      tasksPerDay: null,
      windowMs: WINDOW_MS,
    };
    const lists = Array.from({ length: sc.campaigns }, (_, c) =>
      Array.from({ length: sc.contactsPerCampaign }, (_, i) => {
        const phone = `+1415${String(index)}${String(c)}${String(i).padStart(5, '0')}`;
        stack.simulator.script(phone, [
          { endReason: 'USER_HUNG_UP_IN_CALL', ringMs: RING_MS, talkMs: sc.callMs - RING_MS },
        ]);
        return contact(phone, i + 2);
      }),
    );
    // The default watch interval (one list of live calls a second): how fast a freed slot is seen.
    const policy = { ...FAST_POLICY, pollIntervalMs: 1_000, maxCallMs: 10 * 60_000 };
    const t0 = Date.now();
    const window = Math.min(sc.contactsPerCampaign, MAX_CAMPAIGN_WINDOW); // under the pending-children limit
    const runIds = await Promise.all(lists.map((l) => stack.run(l, { limits, policy, window })));
    for (;;) {
      // A query can time out on a loaded machine (the worker busy): ask again rather than lose the table.
      const states = await Promise.all(
        runIds.map((r) => getProgress(stack.env.client, r).catch(() => undefined)),
      );
      if (states.every((p) => p?.state === 'completed')) break;
      await delay(200);
    }
    const makespanMs = Date.now() - t0;

    const ledger = stack.simulator.ledger();
    const dialAt = new Map(ledger.dials.map((d) => [d.call_id, Date.parse(d.created_at)]));
    const latencies: number[] = [];
    const grantOf = new Map<string, number>();
    for (const runId of runIds) {
      for (const t of await listTasks(stack.env.client, runId)) {
        for (const a of t.attempts) {
          const at = a.callId ? dialAt.get(a.callId) : undefined;
          if (at !== undefined && a.permitGrantedAt !== undefined) latencies.push(at - a.permitGrantedAt);
          if (a.callId && a.permitGrantedAt !== undefined) grantOf.set(a.callId, a.permitGrantedAt);
        }
      }
    }
    latencies.sort((a, b) => a - b);
    const unpod = unpodTime(ledger.dials, sc.concurrency, grantOf);
    // Signals into the busiest workflow (a campaign or the account's limiter), over the makespan.
    const runs: HistorySize[] = [];
    for (const [i, runId] of runIds.entries()) {
      const h = await runHistories(stack.env.client, { runId, accountId: `acct_${stack.taskQueue}` });
      runs.push(...h.campaignRuns, ...(i === 0 ? h.limiterRuns : []));
    }
    const counts = await Promise.all(runs.map((x) => historyCounts(stack.env.client, x)));
    const busiest = busiestSignals(runs, counts, makespanMs);

    const n = sc.campaigns * sc.contactsPerCampaign;
    const issueMin = minimumMakespan(n, { ...limits, reserved: 0 }, sc.callMs).ms;
    const bound = Math.max(
      Math.floor((n - 1) / sc.callsPerMinute) * WINDOW_MS + sc.callMs,
      Math.ceil(n / sc.concurrency) * sc.callMs,
    );
    // The least makespan once each call's own time at Unpod (queued, dispatched, rung, talked: from its create to
    // its end, as the simulator recorded it) is known: the engine cannot go below it, however fast it hands off.
    const least = idealMakespan(unpod.spans, sc.callsPerMinute, sc.concurrency, WINDOW_MS);
    return {
      scenario: sc.name,
      contacts: n,
      'calls/min': sc.callsPerMinute,
      concurrency: sc.concurrency,
      'call s': (sc.callMs / 1000).toFixed(1),
      'min (issue) s': (issueMin / 1000).toFixed(1),
      'bound s': (bound / 1000).toFixed(1),
      'measured s': (makespanMs / 1000).toFixed(1),
      ratio: (makespanMs / bound).toFixed(3),
      'Unpod call s': (unpod.meanCallMs / 1000).toFixed(2),
      'least with these calls s': (least / 1000).toFixed(1),
      'ratio to it': (makespanMs / least).toFixed(3),
      'hand-off p50 ms': unpod.handoffP50,
      'end→grant p50 ms': unpod.endToGrantP50,
      'permit→dial p50 ms': percentile(latencies, 50),
      'p99 ms': percentile(latencies, 99),
      dials: ledger.dials.length,
      violations: ledger.violations.length,
      'busiest workflow: signals/s in': busiest,
    };
  } finally {
    await stack.close();
  }
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--cluster')) {
    // startTestStack connects to the server named here instead of starting a dev server.
    const cluster = await sharedBenchCluster();
    process.env.TEMPORAL_TEST_ADDRESS = cluster.address;
    console.log(
      `server: multi-service Temporal ${TEMPORAL_SERVER_VERSION}, ${cluster.numHistoryShards} history shards, ` +
        `${cluster.postgres.version} (defaults), server default dynamic config`,
    );
  }
  const only = args.find((a) => a.startsWith('--scenario='))?.slice('--scenario='.length);
  // The optional accelerator: each simulated AgentRunner posts its call's end to the HTTP server at once, so the
  // end is known without waiting for the next list of live calls.
  const agentPush = args.includes('--agent-push');
  console.log(
    agentPush
      ? "end detection: the agents' push (POST /v1/agent-events), besides the 1 s watch"
      : 'end detection: the 1 s watch alone (no push: what Unpod documents)',
  );
  const rows = [];
  for (const [i, sc] of SCENARIOS.entries()) {
    if (only && !sc.name.includes(only)) continue;
    process.stderr.write(`limits: ${sc.name}…\n`);
    rows.push(await runScenario(sc, i + 1, agentPush));
  }
  console.log(table(rows));
}
