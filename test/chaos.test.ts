/**
 * Chaos (`npm run test:chaos`; `npm test` leaves it out): a 2,000-contact campaign against a PERSISTENT dev server
 * (SQLite in a temp dir, fixed port) while
 * - the worker process (`unpod-campaigns worker`, a child process) is killed with SIGKILL several times and
 *   started again,
 * - the dev server is restarted once on the same port and database (this process reconnects with a new
 *   Connection),
 * - the simulator is the faithful default — no webhooks, no idempotency — and places 5% of creates but loses the
 *   answer (the connection is cut after the call exists), answers 5% of calls requests with 503, and holds 2%
 *   of creates past the client's timeout before placing them.
 * Ends are found by the worker's watcher alone; a create whose answer was lost is found again by listing.
 * The plan limits are set on both sides (engine and simulator): 500 calls per 10 s window (3,000/min) and 50
 * concurrent calls. Every contact must reach a terminal state; the simulator's ledger must show no contact
 * dialed twice for one attempt, none missing, and no limit violation. At the end the worker gets SIGTERM and must
 * drain and exit 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { getProgress } from '../src/campaign/run-queries';
import { startRun, type RunSettings } from '../src/campaign/start-run';
import type { ContactBatch } from '../src/contacts/contact';
import { freePorts } from '../src/net/free-ports';
import { startSimulator, type RunningSimulator } from '../src/simulator';
import { startDevServer } from '../src/temporal/dev-server';
import { workflowBundle } from '../src/worker/worker';
import { startChaosServer, type ChaosServer } from './helpers/chaos-server';
import type { CampaignProgress } from '../workflows/definitions';
import { contact, FAST_POLICY } from './helpers/stack';

const CONTACTS = 2_000;
const BATCH = 250;
const ACCOUNT = 'acct_chaos';
const API_KEY = 'sim_chaos_key';
const WINDOW_MS = 10_000;
const PER_WINDOW = 500; // 3,000 per minute
const CONCURRENCY = 50;
/** The whole test must finish in this (under ~10 minutes on a quiet 2-core machine); CHAOS_BUDGET_MS overrides. */
const BUDGET_MS = Number(process.env.CHAOS_BUDGET_MS ?? 9 * 60_000);
/** SIGKILL the worker when the ledger reaches these many dials; restart the dev server at the middle one. */
const KILL_AT = [150, 500, 1_300, 1_700];
const SERVER_RESTART_AT = 900;

/**
 * WAL with synchronous=NORMAL: a write survives the server process being killed (it is in the OS once written);
 * only a machine crash could lose the last ones. The default (rollback journal, FULL) fsyncs every transaction
 * and held this campaign to about one contact a second.
 */
const SQLITE_PRAGMAS = { journal_mode: 'WAL', synchronous: 'NORMAL' };

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (line: string) => console.log(`[chaos ${elapsed()}] ${line}`);

/** Numbers answered at once (last two digits 00–49): +1 415 BBBBB NN, 50 per block. */
function phone(i: number): string {
  return `+1415${String(Math.floor(i / 50)).padStart(5, '0')}${String(i % 50).padStart(2, '0')}`;
}

async function* batches(): AsyncGenerator<ContactBatch> {
  for (let b = 0; b * BATCH < CONTACTS; b++) {
    const contacts = Array.from({ length: Math.min(BATCH, CONTACTS - b * BATCH) }, (_, j) =>
      contact(phone(b * BATCH + j), b * BATCH + j + 2),
    );
    yield { batchNo: b + 1, contacts, skipped: [] };
  }
}

/** Keeps one `unpod-campaigns worker` child running: starts it again whenever it exits, until stopped. */
class WorkerSupervisor {
  child: ChildProcess | undefined;
  starts = 0;
  kills = 0;
  unexpectedExits = 0;
  #stopping = false;
  #restart: NodeJS.Timeout | undefined;
  readonly #log: fs.WriteStream;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.#log = fs.createWriteStream(logFile, { flags: 'a' });
  }

  start(): void {
    this.starts++;
    const n = this.starts;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
      cwd: path.join(__dirname, '..'),
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => this.#log.write(`[worker ${n}] ${d.toString()}`));
    child.stderr!.on('data', (d: Buffer) => this.#log.write(`[worker ${n} err] ${d.toString()}`));
    child.once('exit', (code, signal) => {
      this.#log.write(`[worker ${n}] exited code=${code} signal=${signal}\n`);
      if (this.child === child) this.child = undefined;
      if (this.#stopping) return;
      if (signal !== 'SIGKILL') {
        this.unexpectedExits++;
        say(`worker ${n} exited by itself (code ${code}, signal ${signal}); starting another`);
      }
      this.#restart = setTimeout(() => this.start(), 1_000);
    });
  }

  /** SIGKILL, as a crash: the supervisor starts the next one a second later. */
  kill(): void {
    if (!this.child) return;
    this.kills++;
    this.child.kill('SIGKILL');
  }

  /** SIGTERM and wait: the graceful drain. Resolves with the exit code. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    this.#stopping = true;
    clearTimeout(this.#restart);
    const child = this.child;
    if (!child || child.exitCode !== null) return { code: child?.exitCode ?? null, signal: null, ms: 0 };
    const started = Date.now();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.kill('SIGTERM');
    const r = await exited;
    return { ...r, ms: Date.now() - started };
  }

  close(): void {
    this.#stopping = true;
    clearTimeout(this.#restart);
    this.child?.kill('SIGKILL');
    this.#log.end();
  }
}

describe('chaos', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unpod-chaos-'));
  const dbFilename = path.join(dir, 'temporal.sqlite');
  let env: TestWorkflowEnvironment | undefined;
  let server: ChaosServer | undefined;
  let simulator: RunningSimulator | undefined;
  let workers: WorkerSupervisor | undefined;

  after(async () => {
    workers?.close();
    await simulator?.close();
    await server?.teardown();
    say(`total ${elapsed()}; worker log and database in ${dir}`);
  });

  it('2,000 contacts through worker kills, a server restart and API faults: none lost, none twice, no violations', async () => {
    const [port] = await freePorts(1);
    server = await startChaosServer(() =>
      startDevServer({ port, dbFilename, sqlitePragmas: SQLITE_PRAGMAS }),
    );
    env = server.env;
    const address = server.address;
    say(`server at ${address} (a restart restarts ${server.what})`);

    simulator = await startSimulator({
      speed: 1000,
      seed: 42,
      rateWindowMs: WINDOW_MS,
      accounts: [
        {
          apiKey: API_KEY,
          accountId: ACCOUNT,
          callsPerMinute: PER_WINDOW,
          concurrency: CONCURRENCY,
          tasksPerDay: 1_000_000,
        },
      ],
      faults: {
        errorRate: 0.05,
        lostAnswerRate: 0.05,
        slowCreateRate: 0.02,
        slowCreateMs: 2_500,
        paths: ['/api/v2/platform/speech/v1/calls'],
      },
    });

    const taskQueue = `chaos-${process.pid}`;
    workers = new WorkerSupervisor(
      {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        UNPOD_BASE_URL: simulator.url,
        UNPOD_API_KEY: API_KEY,
        // Below the simulator's 2.5 s slow create: those time out here and land there afterwards.
        UNPOD_TIMEOUT_MS: '2000',
        // A lost create's call is surely listed 3 s after the answer went missing (the slow ones land at 2.5 s).
        UNPOD_LANDING_DELAY_MS: '3000',
        WORKER_METRICS_PORT: '0',
        WORKER_STATS_INTERVAL_MS: '10000',
        WORKER_SHUTDOWN_GRACE_MS: '10000',
      },
      path.join(dir, 'worker.log'),
    );
    workers.start();

    const settings: RunSettings = {
      accountId: ACCOUNT,
      limits: {
        callsPerMinute: PER_WINDOW,
        windowMs: WINDOW_MS,
        concurrency: CONCURRENCY,
        tasksPerDay: null,
      },
      spaceToken: 'space_chaos',
      call: { pipeId: 'pipe_chaos', agentId: 'agent_chaos' },
      policy: FAST_POLICY,
      window: 300,
    };
    const { runId } = await startRun(env.client, taskQueue, settings, batches());
    say(`run ${runId} started: ${CONTACTS} contacts`);

    const kills = [...KILL_AT];
    let restarted = false;
    let last: CampaignProgress | undefined;
    let lastLog = 0;
    for (;;) {
      if (Date.now() - t0 > BUDGET_MS) {
        const l = simulator.ledger();
        throw new Error(
          `not done in ${BUDGET_MS} ms: ${JSON.stringify(last?.counts)}; so far ${l.counts.dials} dials, ` +
            `${l.duplicates.length} duplicates, ${l.violations.length} violations; see ${dir}/worker.log`,
        );
      }
      const dials = simulator.ledger().counts.dials;
      if (kills.length && dials >= kills[0]!) {
        kills.shift();
        say(`SIGKILL worker at ${dials} dials`);
        workers.kill();
      }
      if (!restarted && dials >= SERVER_RESTART_AT) {
        restarted = true;
        say(`restarting ${server.what} at ${dials} dials`);
        env = await server.restart();
        say(`${server.what} back, client reconnected`);
      }
      try {
        last = await getProgress(env.client, runId);
      } catch (err) {
        say(`progress unavailable: ${String(err).slice(0, 120)}`);
      }
      if (last && Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        const l = simulator.ledger();
        say(
          `dials ${dials} (duplicates ${l.duplicates.length}, violations ${l.violations.length}); ` +
            `${last.state}: ${JSON.stringify(last.counts)}`,
        );
      }
      if (last?.state === 'completed' && kills.length === 0 && restarted) break;
      if (last?.state === 'completed') {
        // Finished before every planned fault happened: that would not test them.
        throw new Error(`the run finished at ${dials} dials, before every planned kill/restart`);
      }
      await delay(500);
    }

    const p = last;
    say(`run completed: ${JSON.stringify(p.counts)}, attempts ${p.attempts}`);
    const drain = await workers.terminate();
    say(`SIGTERM: worker exited code ${drain.code} in ${drain.ms} ms`);

    const ledger = simulator.ledger();
    const dials = ledger.dials.filter((d) => d.task_workflow_id?.includes(runId));
    const perNumber = new Map<string, number>();
    for (const d of dials) perNumber.set(d.to_number, (perNumber.get(d.to_number) ?? 0) + 1);
    const missing = Array.from({ length: CONTACTS }, (_, i) => phone(i)).filter((n) => !perNumber.has(n));
    const dialedMoreThanOnce = [...perNumber.values()].filter((n) => n > 1).length;
    say(
      `ledger: ${dials.length} dials for ${perNumber.size} numbers (${dialedMoreThanOnce} dialed more than once, ` +
        `over separate attempts), duplicates ${ledger.duplicates.length}, violations ${ledger.violations.length}; ` +
        `counts ${JSON.stringify(ledger.counts)}`,
    );
    say(
      `worker: ${workers.starts} starts, ${workers.kills} SIGKILLs, ${workers.unexpectedExits} exits by itself`,
    );

    // Every contact reached a terminal state.
    const c = p.counts;
    assert.equal(p.total, CONTACTS);
    assert.equal(c.pending + c.ringing + c.active, 0, JSON.stringify(c));
    assert.equal(c.completed + c.failed + c.skipped + c.expired + c.canceled, CONTACTS, JSON.stringify(c));
    // No contact dialed twice for the same attempt, none missing, no limit exceeded.
    assert.deepEqual(ledger.duplicates, []);
    assert.deepEqual(missing, []);
    assert.deepEqual(ledger.violations, []);
    // The faults really happened.
    assert.ok(workers.kills >= KILL_AT.length, `${workers.kills} kills`);
    assert.ok(ledger.counts.faults_injected > 0);
    assert.ok(ledger.counts.answers_lost > 0, 'creates were placed and their answers lost');
    // SIGTERM drains and exits cleanly.
    assert.equal(drain.code, 0, `worker exit after SIGTERM: code ${drain.code} signal ${drain.signal}`);
    // Every campaign and limiter run of the test replays on today's code: a worker that took a run over from a
    // killed one issued what a replay issues (a divergence would stop the run at its next replay).
    const replays: { workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }[] =
      [];
    for await (const w of env.client.workflow.list({
      query: `WorkflowType='campaignWorkflow' OR WorkflowType='accountLimiterWorkflow'`,
    })) {
      const history = await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      replays.push({ workflowId: w.workflowId, history });
    }
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, replays)) {
      assert.equal(r.error, undefined, `${r.workflowId} does not replay: ${String(r.error)}`);
      replayed++;
    }
    say(`replayed ${replayed} campaign and limiter runs`);
    assert.ok(replayed >= 2, `${replayed} runs replayed`);
  });
});
