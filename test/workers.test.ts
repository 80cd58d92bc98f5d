/**
 * Workers as Unpod's AgentRunners: several on one task queue share the load with no shared state, each counts its
 * own stats (in flight, capacity, completed/failed, /metrics and /stats), and one told to stop drains — it takes
 * no new work, lets its in-flight activities finish, and exits, while another worker finishes the campaign.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { NativeConnection } from '@temporalio/worker';
import { UnpodClient } from '../src/unpod';
import { runWorker, type RunningWorker } from '../src/worker/run-worker';
import { WorkerStats, type RunnerStats } from '../src/worker/stats';
import { createWorker, workflowBundle } from '../src/worker/worker';
import { contact, startTestStack, type TestStack, waitForEnd } from './helpers/stack';

async function until(what: string, fn: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** Numbers the simulator answers at once (last two digits 00–49). */
const answered = (block: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    contact(`+1415557${String(block).padStart(2, '0')}${String(i % 50).padStart(2, '0')}`, i + 2),
  );

interface TestWorker {
  name: string;
  stats: WorkerStats;
  running: RunningWorker;
  /** Drains the worker and closes its connection. */
  stop(): Promise<void>;
}

async function startWorker(
  stack: TestStack,
  name: string,
  o: { unpod?: UnpodClient; slots?: number; graceMs?: number } = {},
): Promise<TestWorker> {
  const stats = new WorkerStats();
  const graceMs = o.graceMs ?? 2_000;
  // One connection per worker, as separate processes have: the SDK allows one worker per task queue per client.
  const connection = await NativeConnection.connect({ address: stack.env.address });
  const worker = await createWorker({
    connection,
    client: stack.env.client,
    namespace: 'default',
    taskQueue: stack.taskQueue,
    unpod: o.unpod ?? stack.unpod,
    workflowBundle: await workflowBundle(),
    stats,
    identity: name,
    tuning: { maxConcurrentActivityTaskExecutions: o.slots, shutdownGraceTimeMs: graceMs },
  });
  const running = await runWorker({
    worker,
    stats,
    graceMs,
    statsIntervalMs: 0,
    metrics: { host: '127.0.0.1', port: 0 },
    labels: { worker: name },
    handleSignals: false,
    log: () => undefined,
  });
  return {
    name,
    stats,
    running,
    stop: async () => {
      await running.drain('test over');
      await connection.close();
    },
  };
}

/** The run completes with all `n` contacts, each dialed once, with no duplicate dial in the ledger. */
async function completesDialingEachOnce(stack: TestStack, runId: string, n: number): Promise<void> {
  const p = await waitForEnd(stack, runId, 90_000);
  assert.equal(p.counts.completed, n);
  const dials = stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
  assert.equal(dials.length, n, 'each contact dialed once');
  assert.deepEqual(stack.simulator.ledger().duplicates, []);
}

const createCalls = (s: RunnerStats) => s.activities.createCall?.completed ?? 0;

describe('workers', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
    await stack.stopWorker(); // these tests start their own
  });
  after(async () => {
    await stack?.close();
  });

  it('several workers on one task queue share the load, and their stats add up to the dials', async () => {
    const workers: TestWorker[] = [];
    try {
      for (const n of ['w1', 'w2', 'w3']) workers.push(await startWorker(stack, n, { slots: 4 }));
      const contacts = answered(1, 40);
      const runId = await stack.run(contacts, { window: 40 });
      const p = await waitForEnd(stack, runId, 90_000);
      assert.equal(p.counts.completed, 40);
      assert.equal(p.counts.pending + p.counts.ringing + p.counts.active, 0);

      const dials = stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
      assert.equal(dials.length, 40);
      assert.deepEqual(stack.simulator.ledger().duplicates, []);

      const snaps = workers.map((w) => w.stats.snapshot());
      const shares = snaps.map(createCalls);
      console.log(`createCall per worker: ${workers.map((w, i) => `${w.name}=${shares[i]}`).join(' ')}`);
      for (const [i, n] of shares.entries())
        assert.ok(n >= 4, `${workers[i]!.name} ran ${n} of 40 createCall activities (want ≥ 10%)`);
      assert.equal(
        shares.reduce((a, b) => a + b, 0),
        dials.length,
        'createCall activities = dials',
      );
      for (const [i, s] of snaps.entries()) {
        console.log(`${workers[i]!.name}: ${JSON.stringify(s)}`);
        assert.equal(s.in_flight, 0);
        assert.equal(s.capacity, 4);
        const types = Object.values(s.activities);
        assert.equal(
          s.completed_last_hour,
          types.reduce((a, c) => a + c.completed, 0),
        );
        assert.equal(
          s.failed_last_hour,
          types.reduce((a, c) => a + c.failed, 0),
        );
      }

      // The same numbers over HTTP: /stats as JSON, /metrics as Prometheus text.
      const w = workers[0]!;
      const json = (await (await fetch(`${w.running.metricsUrl}/stats`)).json()) as RunnerStats;
      assert.equal(createCalls(json), shares[0]);
      assert.equal(json.capacity, 4);
      const text = await (await fetch(`${w.running.metricsUrl}/metrics`)).text();
      assert.match(text, /^# TYPE unpod_worker_in_flight gauge$/m);
      assert.match(text, /^unpod_worker_capacity\{worker="w1"\} 4$/m);
      assert.ok(
        text.includes(
          `unpod_worker_activities_total{worker="w1",activity="createCall",outcome="completed"} ${shares[0]}`,
        ),
        text,
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  it('a draining worker takes no new work, finishes what is in flight within the grace, and nothing is lost', async () => {
    // Worker A's Unpod client holds every create until the test lets them go: activities in flight, for sure.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const real = stack.unpod;
    const slow = Object.create(real) as UnpodClient;
    Object.defineProperty(slow, 'calls', {
      value: {
        ...real.calls,
        create: async (...args: Parameters<UnpodClient['calls']['create']>) => {
          await gate;
          return real.calls.create(...args);
        },
      },
    });
    const graceMs = 10_000;
    let a: TestWorker | undefined;
    let b: TestWorker | undefined;
    try {
      a = await startWorker(stack, 'A', { unpod: slow, graceMs });
      const sA = a.stats;
      const contacts = answered(2, 5);
      const runId = await stack.run(contacts);
      await until(
        '5 createCall in flight on A',
        () => sA.inFlight().filter((x) => x.type === 'createCall').length === 5,
      );

      const t0 = Date.now();
      const drained = a.running.drain('SIGTERM (test)');
      await delay(1_000);
      assert.equal(sA.inFlight().length, 5, 'still draining: the in-flight calls are not cut off');
      release();
      await drained;
      const drainMs = Date.now() - t0;
      const sa = sA.snapshot();
      assert.ok(drainMs < graceMs, `drained in ${drainMs} ms, within the ${graceMs} ms grace`);
      assert.equal(createCalls(sa), 5, 'the five in-flight creates completed');
      assert.equal(sa.in_flight, 0);
      assert.equal(sa.failed_last_hour, 0);
      assert.equal(sA.startedWhileDraining, 0, 'no activity started after the drain began');

      // Nothing lost: a second worker finishes the campaign without dialing anyone again.
      b = await startWorker(stack, 'B');
      await completesDialingEachOnce(stack, runId, 5);
      assert.equal(createCalls(b.stats.snapshot()), 0, 'B had nothing to re-dial');
      console.log(`drain: 5 creates in flight, drained in ${drainMs} ms; B finished the run`);
    } finally {
      release();
      await a?.stop();
      await b?.stop();
    }
  });
  it('a draining worker cuts off a request that outlives the grace; the next worker sends it again, dialed once', async () => {
    // Unpod holds every create for a minute (the simulator's timeout fault: the held request has no effect),
    // and A's client would wait that long: only the activity's cancellation can end A's drain in time.
    const faultsBefore = stack.simulator.ledger().counts.faults_injected;
    stack.simulator.setFaults({
      timeoutRate: 1,
      timeoutMs: 60_000,
      paths: ['/api/v2/platform/speech/v1/calls'],
    });
    const patient = new UnpodClient({
      baseUrl: stack.simulator.url,
      apiKey: 'sim_test_key',
      timeoutMs: 60_000,
    });
    const graceMs = 1_500;
    let a: TestWorker | undefined;
    let b: TestWorker | undefined;
    try {
      a = await startWorker(stack, 'A', { unpod: patient, graceMs });
      const sA = a.stats;
      const runId = await stack.run(answered(3, 2));
      // Held by the simulator, not just started on A: lifting the fault earlier would let them through.
      await until(
        '2 createCall in flight on A and held by Unpod',
        () =>
          sA.inFlight().filter((x) => x.type === 'createCall').length === 2 &&
          stack.simulator.ledger().counts.faults_injected - faultsBefore >= 2,
      );
      stack.simulator.setFaults(undefined); // new requests go through; the two held ones stay held

      const t0 = Date.now();
      await a.running.drain('SIGTERM (test)');
      const drainMs = Date.now() - t0;
      assert.ok(
        drainMs < 10_000,
        `drained in ${drainMs} ms: cut off after the ${graceMs} ms grace, not 60 s`,
      );
      assert.equal(createCalls(sA.snapshot()), 0, 'neither create completed on A');

      b = await startWorker(stack, 'B');
      await completesDialingEachOnce(stack, runId, 2);
      console.log(`drain past grace: cut off 2 held creates in ${drainMs} ms (grace ${graceMs} ms)`);
    } finally {
      stack.simulator.setFaults(undefined);
      await a?.stop();
      await b?.stop();
      await patient.close();
    }
  });
});
