/**
 * Shared pieces of the benchmarks: the stack `npm start` starts (src/cli/stack.ts: the Temporal dev server, or
 * the bench cluster; the Unpod simulator, here answering at once; the HTTP server), with its worker in a child
 * process instead so that the worker's memory and CPU are measured alone, a generator of contact
 * batches, running one campaign to completion, reading history sizes back, and printing a table.
 * Nothing here depends on node:test; bench/limits.ts and others import `startBenchStack` and `printTable`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { startStack } from '../src/cli/stack';
import { loadConfig } from '../src/config/config';
import type { ContactBatch } from '../src/contacts/contact';
import { startRun, type RunSettings } from '../src/campaign/start-run';
import { freePorts } from '../src/net/free-ports';
import type { RunningSimulator, SimulatorOptions } from '../src/simulator';
import {
  DEFAULT_HISTORY_SHARDS,
  startCluster,
  TEMPORAL_SERVER_VERSION,
  type RunningCluster,
} from '../src/temporal/cluster';
import { UnpodClient } from '../src/unpod';
import type { WorkerTuning } from '../src/worker/worker';
import { progressQuery, type CampaignProgress } from '../workflows/definitions';
import { campaignWorkflowId, limiterWorkflowId } from '../workflows/ids';
import { DEFAULT_POLICY } from '../workflows/policy';
import type { FromWorker, ToWorker, WorkerProcessConfig } from './worker-process';

export const BENCH_API_KEY = 'sim_bench_key';
/** Limits that never bind (the simulator's account is given the same). */
export const LIFTED_LIMITS = { callsPerMinute: 1_000_000, concurrency: 100_000, tasksPerDay: null };

export interface BenchStackOptions {
  /** Persist to this SQLite file (a fresh one is best); in memory when unset. */
  dbFilename?: string;
  /** Delete `dbFilename` (and its -wal, -shm) on close: it was a temporary file. */
  removeDbOnClose?: boolean;
  /** SQLite pragmas of a persisted server: `journal_mode`, `synchronous`. */
  sqlitePragmas?: Record<string, string>;
  /** Dynamic config over the dev server's own (src/temporal/dev-server.ts). */
  dynamicConfig?: Record<string, string>;
  /** Simulated time per real time; default 1,000,000 (a call rings, is answered and ends at once). */
  simulatorSpeed?: number;
  simulator?: Partial<SimulatorOptions>;
  /** Worker tuning (createWorker's `tuning`); omitted keys take the SDK's defaults. */
  tuning?: WorkerTuning;
  /** false: no worker (a baseline needs none); default true. */
  worker?: boolean;
  /** How often the worker samples its RSS, ms. */
  rssSampleMs?: number;
  /** `--cluster`: the multi-service server with PostgreSQL (src/temporal/cluster.ts) instead of the dev server. */
  cluster?: boolean;
}

export interface BenchWorker {
  pid: number;
  /** Highest RSS the worker reported so far, bytes. */
  peakRss(): number;
  /** The highest RSS of each minute since the worker started, bytes (the memory over a long run). */
  rssByMinute(): number[];
  /** Where the worker's stdout and stderr go. */
  logFile: string;
  /** Shuts the worker down; resolves with its peak RSS. */
  stop(): Promise<number>;
}

export interface BenchStack {
  /** The Temporal server's address and namespace (a worker of the bench's own connects there). */
  address: string;
  namespace: string;
  client: Client;
  taskQueue: string;
  simulator: RunningSimulator;
  /** A client of the simulator (the baseline's, and anyone's who wants to call it directly). */
  unpod: UnpodClient;
  worker: BenchWorker | null;
  /** CPU seconds the Temporal server used so far: the dev server, or the cluster's services and PostgreSQL. */
  serverCpuSeconds(): number | null;
  close(): Promise<void>;
}

/** The cluster `--cluster` benches run on: started once per bench process, stopped by stopBenchCluster(). */
let benchCluster: Promise<RunningCluster> | undefined;
export function sharedBenchCluster(): Promise<RunningCluster> {
  benchCluster ??= startCluster({ dataDir: path.join('.data', `bench-cluster-${process.pid}`) });
  return benchCluster;
}

/** Stops the bench cluster, if one was started, and removes its data. */
export async function stopBenchCluster(): Promise<void> {
  if (!benchCluster) return;
  const c = await benchCluster;
  benchCluster = undefined;
  await c.stop();
  c.removeData();
}

/** CPU seconds (user + system) a process has used, from /proc; null off Linux or once it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

function startWorkerProcess(cfg: WorkerProcessConfig): Promise<BenchWorker> {
  const logFile = path.join(os.tmpdir(), `bench-worker-${cfg.taskQueue}.log`);
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = fork(path.join(__dirname, 'worker-process.ts'), [JSON.stringify(cfg)], {
    stdio: ['ignore', out, out, 'ipc'],
  });
  fs.closeSync(out);
  let peak = 0;
  const startedAt = Date.now();
  const minutes: number[] = [];
  let stopped: ((rss: number) => void) | undefined;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  return new Promise((resolve, reject) => {
    child.on('message', (m: FromWorker) => {
      if (m.type === 'rss') {
        peak = Math.max(peak, m.rss);
        const minute = Math.floor((Date.now() - startedAt) / 60_000);
        minutes[minute] = Math.max(minutes[minute] ?? 0, m.rss);
      } else if (m.type === 'stopped') {
        peak = Math.max(peak, m.peakRss);
        stopped?.(peak);
      } else if (m.type === 'error') reject(new Error(`bench worker failed (log ${logFile}): ${m.message}`));
      else if (m.type === 'ready') {
        resolve({
          pid: child.pid!,
          peakRss: () => peak,
          rssByMinute: () => Array.from(minutes, (x) => x ?? 0),
          logFile,
          async stop() {
            if (exited) return peak;
            const done = new Promise<number>((r) => (stopped = r));
            child.send({ type: 'stop' } satisfies ToWorker);
            await Promise.race([done, exit]);
            await exit;
            return peak;
          },
        });
      }
    });
    void exit.then(() => reject(new Error(`bench worker exited before it was ready; see ${logFile}`)));
  });
}

export async function startBenchStack(opts: BenchStackOptions = {}): Promise<BenchStack> {
  const cluster = opts.cluster ? await sharedBenchCluster() : undefined;
  const taskQueue = `bench-${Date.now().toString(36)}`;
  const [temporalPort, simulatorPort] = await freePorts(2);
  // The CLI's configuration from a bench's own environment, not the caller's: none of a user's settings apply.
  const config = loadConfig({
    TEMPORAL_ADDRESS: cluster?.address,
    TEMPORAL_NAMESPACE: cluster?.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_DEV_SERVER_PORT: String(temporalPort),
    TEMPORAL_DB_FILE: opts.dbFilename ?? '',
    SIMULATOR_PORT: String(simulatorPort),
    SIMULATOR_API_KEY: BENCH_API_KEY,
    HTTP_PORT: '0',
  });
  const stack = await startStack(config, () => undefined, {
    worker: false,
    devServer: { headless: true, sqlitePragmas: opts.sqlitePragmas, dynamicConfig: opts.dynamicConfig },
    simulator: {
      speed: opts.simulatorSpeed ?? 1_000_000,
      seed: 11,
      accounts: [
        {
          apiKey: BENCH_API_KEY,
          accountId: 'acct_bench',
          callsPerMinute: 1_000_000_000,
          tasksPerDay: 1_000_000_000,
          concurrency: 1_000_000,
        },
      ],
      ...opts.simulator,
    },
  });
  const serverCpuSeconds = () => {
    const pids = cluster ? cluster.pids() : stack.devServerPid ? [stack.devServerPid] : [];
    const readings = pids.map(cpuSeconds).filter((c): c is number => c !== null);
    return readings.length ? readings.reduce((a, b) => a + b, 0) : null;
  };
  // Whatever started is stopped again if a later part fails to start: no server is left behind.
  const closers: (() => Promise<unknown>)[] = [
    async () => {
      await stack.stop();
      if (opts.removeDbOnClose && opts.dbFilename) {
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${opts.dbFilename}${suffix}`, { force: true });
      }
    },
  ];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const simulator = stack.simulator!;
    const unpod = new UnpodClient({ baseUrl: simulator.url, apiKey: BENCH_API_KEY, connections: 64 });
    closers.push(() => unpod.close());
    const worker =
      opts.worker === false
        ? null
        : await startWorkerProcess({
            address: stack.temporalAddress,
            namespace: config.temporal.namespace,
            taskQueue,
            unpodUrl: simulator.url,
            unpodApiKey: BENCH_API_KEY,
            tuning: { shutdownGraceTimeMs: 5_000, ...opts.tuning },
            rssSampleMs: opts.rssSampleMs ?? 250,
          });
    if (worker) closers.push(() => worker.stop());
    return {
      address: stack.temporalAddress,
      namespace: config.temporal.namespace,
      client: stack.client,
      taskQueue,
      simulator,
      unpod,
      worker,
      serverCpuSeconds,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** A number the simulator answers at once on the first attempt (last two digits 00–49), unique per index. */
export function answeredPhone(i: number): string {
  const n = Math.floor(i / 50) * 100 + (i % 50);
  return `+1415${String(n).padStart(7, '0')}`;
}

/** N contacts as batches of `size`, generated as they are read: no list is ever held whole. */
export async function* contactBatches(n: number, size = 250): AsyncGenerator<ContactBatch> {
  let batchNo = 0;
  for (let i = 0; i < n; i += size) {
    batchNo++;
    const contacts = [];
    for (let j = i; j < Math.min(n, i + size); j++) {
      contacts.push({ phone: answeredPhone(j), line: j + 2, name: `Contact ${j + 1}`, metadata: {} });
    }
    yield { batchNo, contacts, skipped: [] };
  }
}

export interface CampaignResult {
  runId: string;
  accountId: string;
  wallMs: number;
  progress: CampaignProgress;
  /** false: `timeoutMs` passed first (the run goes on; `progress` says how far it got). */
  completed: boolean;
}

/** Contacts that reached a final state. */
export function finishedOf(p: CampaignProgress): number {
  return p.counts.completed + p.counts.failed + p.counts.skipped + p.counts.expired + p.counts.canceled;
}

/** Starts a campaign of `n` answered contacts with lifted limits and waits until it completes (or `timeoutMs`). */
export async function runCampaign(
  stack: BenchStack,
  n: number,
  opts: {
    window: number;
    /** The policy's pollIntervalMs: how long a task waits for the webhook before it asks for the call. */
    pollIntervalMs?: number;
    timeoutMs?: number;
    settings?: Partial<RunSettings>;
    label?: string;
  },
): Promise<CampaignResult> {
  const accountId = `acct_${stack.taskQueue}_${Date.now().toString(36)}`;
  const settings: RunSettings = {
    accountId,
    limits: LIFTED_LIMITS,
    spaceToken: 'space_bench',
    call: { pipeId: 'pipe_bench' },
    policy: DEFAULT_POLICY,
    window: opts.window,
    ...opts.settings,
  };
  if (opts.pollIntervalMs !== undefined)
    settings.policy = { ...settings.policy, pollIntervalMs: opts.pollIntervalMs };
  const t0 = Date.now();
  const started = await startRun(stack.client, stack.taskQueue, settings, contactBatches(n));
  const handle = stack.client.workflow.getHandle(started.workflowId);
  const deadline = t0 + (opts.timeoutMs ?? 60 * 60_000);
  let lastLog = Date.now();
  for (;;) {
    let p: CampaignProgress;
    try {
      p = await handle.query(progressQuery);
    } catch (err) {
      // A loaded worker can miss a query's deadline; the run goes on, so ask again.
      process.stderr.write(
        `  progress query failed (${err instanceof Error ? err.message : String(err)}); retrying\n`,
      );
      await new Promise((res) => setTimeout(res, 1_000));
      continue;
    }
    const finished = finishedOf(p);
    if (p.state === 'completed' || p.state === 'canceled') {
      return { runId: started.runId, accountId, wallMs: Date.now() - t0, progress: p, completed: true };
    }
    if (Date.now() - lastLog >= 15_000) {
      lastLog = Date.now();
      const s = (Date.now() - t0) / 1000;
      process.stderr.write(
        `  ${opts.label ?? ''} ${s.toFixed(0)} s: ${finished}/${n} finished (${(finished / s).toFixed(1)}/s), ` +
          `${p.counts.pending + p.counts.ringing + p.counts.active} open, continued-as-new ${p.continuedAsNew}\n`,
      );
    }
    if (Date.now() > deadline) {
      return { runId: started.runId, accountId, wallMs: Date.now() - t0, progress: p, completed: false };
    }
    await new Promise((r) => setTimeout(r, n <= 5_000 ? 200 : 1_000));
  }
}

export interface HistorySize {
  workflowId: string;
  runId: string;
  events: number;
  bytes: number;
}

/** Every run of a workflow id (continue-as-new makes several), with its history length and size. */
export async function runsOf(client: Client, workflowId: string): Promise<HistorySize[]> {
  const runIds: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runIds.push(wf.runId);
  const out: HistorySize[] = [];
  for (const runId of runIds) {
    const d = await client.workflow.getHandle(workflowId, runId).describe();
    out.push({ workflowId, runId, events: d.historyLength, bytes: d.historySize ?? 0 });
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export interface RunHistories {
  campaignRuns: HistorySize[];
  limiterRuns: HistorySize[];
  /** Tasks and batches of the run as visibility lists them (kept only with `keep`; else see `othersMax`). */
  others: HistorySize[];
  /** The largest task or batch history listed. */
  othersMax: HistorySize | undefined;
  /** How many task and batch workflows visibility lists for the run, and their events in all. */
  listed: number;
  othersEvents: number;
}

/**
 * The history of every run of the campaign and of the account's limiter (described one by one), and of the run's
 * task and batch workflows (from visibility, which records a history's length and size when it closes).
 */
export async function runHistories(
  client: Client,
  r: Pick<CampaignResult, 'runId' | 'accountId'>,
  opts: { keep?: boolean } = {},
): Promise<RunHistories> {
  const campaignRuns = await runsOf(client, campaignWorkflowId(r.runId));
  const limiterRuns = await runsOf(client, limiterWorkflowId(r.accountId));
  const others: HistorySize[] = [];
  let othersMax: HistorySize | undefined;
  let listed = 0;
  let othersEvents = 0;
  const campaignId = campaignWorkflowId(r.runId);
  for await (const wf of client.workflow.list({ query: `CampaignRunId = '${r.runId}'`, pageSize: 1000 })) {
    if (wf.workflowId === campaignId) continue;
    const h = {
      workflowId: wf.workflowId,
      runId: wf.runId,
      events: wf.historyLength,
      bytes: wf.historySize ?? 0,
    };
    listed++;
    othersEvents += h.events;
    if (!othersMax || h.events > othersMax.events) othersMax = h;
    if (opts.keep) others.push(h);
  }
  return { campaignRuns, limiterRuns, others, othersMax, listed, othersEvents };
}

/** Workflow tasks completed in a run's history, and a count of its events by type. */
export async function historyCounts(
  client: Client,
  h: HistorySize,
): Promise<{ wfts: number; byType: Map<string, number> }> {
  const history = await client.workflow.getHandle(h.workflowId, h.runId).fetchHistory();
  const byType = new Map<string, number>();
  let wfts = 0;
  for (const e of history.events ?? []) {
    if (e.workflowTaskCompletedEventAttributes != null) wfts++;
    const attr = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e] != null);
    const name = attr?.replace(/EventAttributes$/, '') ?? 'unknown';
    byType.set(name, (byType.get(name) ?? 0) + 1);
  }
  return { wfts, byType };
}

/** The workflow that took the most signals, and how many a second over the run's wall time (guidance: ~5/s). */
export function busiestSignals(
  all: HistorySize[],
  counts: { byType: Map<string, number> }[],
  wallMs: number,
): string {
  const byId = new Map<string, number>();
  all.forEach((x, i) =>
    byId.set(
      x.workflowId,
      (byId.get(x.workflowId) ?? 0) + (counts[i]!.byType.get('workflowExecutionSignaled') ?? 0),
    ),
  );
  const [id, n] = [...byId].reduce((a, b) => (b[1] > a[1] ? b : a), ['-', 0]);
  return `${(n / (wallMs / 1000)).toFixed(2)}/s (${id.split('-')[0]}, ${n} signals)`;
}

export function largest(h: HistorySize[]): HistorySize | undefined {
  return h.reduce<HistorySize | undefined>((a, b) => (!a || b.events > a.events ? b : a), undefined);
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** Flags `--name value` from the bench's argv. */
export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

export function numberFlag(args: string[], name: string, fallback: number): number {
  const v = flag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got '${v}'`);
  return n;
}

/** All values of a repeatable flag `--name a --name b`. */
export function flags(args: string[], name: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === `--${name}` && args[i + 1] !== undefined) out.push(args[i + 1]!);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  });
  return out;
}

/** The tuning the benches use unless flags say otherwise (chosen by measurement: see the README). */
export const BENCH_DEFAULTS = {
  db: 'memory',
  journalMode: 'WAL',
  synchronous: 'OFF',
  tuning: {
    maxCachedWorkflows: 1000,
    // Each live call holds a slot while its end is awaited (awaitCallEnd): above the largest window benched.
    maxConcurrentActivityTaskExecutions: 2000,
    maxConcurrentWorkflowTaskExecutions: 40,
  },
} as const;

/**
 * Stack options from flags: `--db memory|file|<path>` (file: a fresh file under the temp dir), `--journal MODE`,
 * `--synchronous MODE`, `--cache N`, `--activities N`, `--wft N`, `--dc key=value` (repeatable), `--speed N`.
 */
export function benchStackOptions(args: string[]): BenchStackOptions {
  const db = flag(args, 'db') ?? BENCH_DEFAULTS.db;
  const dbFilename =
    db === 'memory'
      ? undefined
      : db === 'file'
        ? path.join(os.tmpdir(), `bench-${Date.now().toString(36)}.sqlite`)
        : db;
  const dynamicConfig: Record<string, string> = {};
  for (const kv of flags(args, 'dc')) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`--dc takes key=value, got '${kv}'`);
    dynamicConfig[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const t = BENCH_DEFAULTS.tuning;
  return {
    dbFilename,
    removeDbOnClose: db === 'file',
    sqlitePragmas: dbFilename
      ? {
          journal_mode: flag(args, 'journal') ?? BENCH_DEFAULTS.journalMode,
          synchronous: flag(args, 'synchronous') ?? BENCH_DEFAULTS.synchronous,
        }
      : undefined,
    dynamicConfig,
    cluster: args.includes('--cluster'),
    simulatorSpeed: numberFlag(args, 'speed', 1_000_000),
    tuning: {
      maxCachedWorkflows: numberFlag(args, 'cache', t.maxCachedWorkflows),
      maxConcurrentActivityTaskExecutions: numberFlag(
        args,
        'activities',
        t.maxConcurrentActivityTaskExecutions,
      ),
      maxConcurrentWorkflowTaskExecutions: numberFlag(args, 'wft', t.maxConcurrentWorkflowTaskExecutions),
    },
  };
}

/** One line naming every setting a bench ran with. */
export function settingsText(o: BenchStackOptions, window: number): string {
  const t = o.tuning ?? {};
  const parts = [
    `window ${window}`,
    `worker cache ${t.maxCachedWorkflows}, activity slots ${t.maxConcurrentActivityTaskExecutions}, workflow task slots ${t.maxConcurrentWorkflowTaskExecutions}`,
    o.cluster
      ? `multi-service Temporal ${TEMPORAL_SERVER_VERSION} (frontend, history, matching, worker processes), ` +
        `${DEFAULT_HISTORY_SHARDS} history shards, PostgreSQL (its defaults: fsync on), server default dynamic config`
      : o.dbFilename
        ? `SQLite file, ${Object.entries(o.sqlitePragmas ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`
        : 'SQLite in memory',
    `simulator speed ${o.simulatorSpeed}`,
    `limits ${JSON.stringify(LIFTED_LIMITS)}`,
  ];
  const dc = Object.entries(o.dynamicConfig ?? {});
  if (dc.length) parts.push(`dynamic config ${dc.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return parts.join('; ');
}

export type Row = Record<string, string | number>;

/** Prints rows as a Markdown table (columns: the union of the rows' keys, in first-seen order). */
export function printTable(rows: Row[], out: (line: string) => void = (l) => console.log(l)): void {
  if (rows.length === 0) return;
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: string | number | undefined) =>
    v === undefined ? '' : typeof v === 'number' ? v.toLocaleString('en-US') : v;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  out(line(cols));
  out(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) out(line(cols.map((c) => cell(r[c]))));
}
