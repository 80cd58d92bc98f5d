/**
 * A whole test stack on one real Temporal dev server: the Unpod simulator (port 0), the HTTP server receiving its
 * webhooks (port 0), the Unpod client and a real worker on a fresh task queue.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityInterceptorsFactory, Worker } from '@temporalio/worker';
import type { Contact, ContactBatch, SkippedContact } from '../../src/contacts/contact';
import { startHttpServer, type RunningHttpServer } from '../../src/http/serve';
import type { HttpServerDeps } from '../../src/http/server';
import { getProgress } from '../../src/campaign/run-queries';
import { startRun, type RunSettings } from '../../src/campaign/start-run';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator';
import { UnpodClient } from '../../src/unpod';
import { CallWatcher } from '../../src/unpod/call-watcher';
import { createWorker, workflowBundle } from '../../src/worker/worker';
import type { CampaignProgress } from '../../workflows/definitions';
import { DEFAULT_POLICY, type CampaignPolicy } from '../../workflows/policy';
import { testEnv, uniqueTaskQueue } from './temporal';

/** An HTTP server on the stack's Temporal and task queue, on a free loopback port; `deps` adds keys, ops, … */
export function startStackHttp(
  stack: Pick<TestStack, 'env' | 'taskQueue'>,
  deps: Omit<HttpServerDeps, 'temporal' | 'taskQueue'> = {},
): Promise<RunningHttpServer> {
  return startHttpServer({
    temporal: stack.env.client,
    taskQueue: stack.taskQueue,
    host: '127.0.0.1',
    port: 0,
    ...deps,
  });
}

/** Polls the run's progress until it is completed or canceled; throws with the last progress after `timeoutMs`. */
export async function waitForEnd(
  stack: Pick<TestStack, 'env'>,
  runId: string,
  timeoutMs = 60_000,
  onTick?: (p: CampaignProgress) => void,
): Promise<CampaignProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await getProgress(stack.env.client, runId);
    onTick?.(p);
    if (p.state === 'completed' || p.state === 'canceled') return p;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} did not end in ${timeoutMs} ms: ${JSON.stringify(p)}`);
    await delay(100);
  }
}

/** Signs the simulated agents' call_end push when a test turns it on (StackOptions.agentPush). */
export const AGENT_PUSH_SECRET = 'push_test_secret_0123456789abcdef';

/** The outbound guard's allowlist of the tests: loopback only (where every test server listens). */
export const LOOPBACK_ALLOWED = { allow: ['loopback'] } as const;

/** Limits that never bind, for tests that are not about limits. */
export const UNLIMITED = { callsPerMinute: 100_000, tasksPerDay: null, concurrency: 1_000 };

/** Short delays: the retry schedule in milliseconds. */
export const FAST_POLICY: CampaignPolicy = {
  ...DEFAULT_POLICY,
  maxAttempts: 3,
  noAnswer: { maxRetries: 2, delayMs: 300 },
  voicemail: { retry: true, maxRetries: 1, delayMs: 300 },
  failure: { maxRetries: 1, delayMs: 300 },
  pollIntervalMs: 1_000,
  maxCallMs: 20_000,
};

export interface TestStack {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  simulator: RunningSimulator;
  unpod: UnpodClient;
  httpUrl: string;
  worker: Worker;
  /** Starts the worker (again, after stopWorker) in the background. */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  run(
    contacts: Contact[],
    opts?: Partial<RunSettings> & { skipped?: SkippedContact[]; batchSize?: number },
  ): Promise<string>;
  close(): Promise<void>;
}

/** A simulator whose one account (the test key's) has days of `dayMs` and `tasksPerDay` tasks in each. */
export function dayLimitedSimulator(dayMs: number, tasksPerDay: number): SimulatorOptions {
  return {
    speed: 1000,
    dayMs,
    accounts: [
      { apiKey: 'sim_test_key', accountId: 'acct', callsPerMinute: 10_000, concurrency: 100, tasksPerDay },
    ],
  };
}

export function contact(phone: string, line: number, extra: Partial<Contact> = {}): Contact {
  return { phone, line, name: `Contact ${line}`, metadata: { clinic: 'Northside' }, ...extra };
}

async function* toBatches(
  contacts: Contact[],
  skipped: SkippedContact[],
  size: number,
): AsyncGenerator<ContactBatch> {
  let batchNo = 0;
  for (let i = 0; i < Math.max(contacts.length, 1); i += size) {
    batchNo++;
    yield { batchNo, contacts: contacts.slice(i, i + size), skipped: batchNo === 1 ? skipped : [] };
  }
}

export interface StackOptions {
  /** A server of the test's own (e.g. with other dynamic config); the stack tears it down on close. */
  env?: TestWorkflowEnvironment;
  /** Wraps the worker's Unpod client (e.g. to slow one call down and open a race on purpose). */
  wrapUnpod?: (client: UnpodClient) => UnpodClient;
  /** The simulated AgentRunners push each call's end to our HTTP server (the accelerator); default off. */
  agentPush?: boolean;
  /** After a create lost its answer, how long until its call must be listed. Default 2000 (the sim is fast). */
  landingDelayMs?: number;
  /** Activity interceptors for the stack's worker (a test plays a worker that dies mid-activity with one). */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

export async function startTestStack(sim: SimulatorOptions = {}, o: StackOptions = {}): Promise<TestStack> {
  const env = o.env ?? (await testEnv());
  const taskQueue = uniqueTaskQueue('campaign');
  const http = await startHttpServer({
    temporal: env.client,
    taskQueue,
    agentPushSecret: AGENT_PUSH_SECRET,
    host: '127.0.0.1',
    port: 0,
  });
  const simulator = await startSimulator({
    speed: 1000,
    seed: 7,
    // Limits high enough that the engine tests are not about limits (issue 4's tests are).
    accounts: [
      {
        apiKey: 'sim_test_key',
        accountId: 'acct_default',
        callsPerMinute: 100_000,
        tasksPerDay: 1_000_000,
        concurrency: 1_000,
      },
    ],
    ...(o.agentPush ? { agentPush: { url: `${http.url}/v1/agent-events`, secret: AGENT_PUSH_SECRET } } : {}),
    ...sim,
  });
  const unpod = new UnpodClient({ baseUrl: simulator.url, apiKey: 'sim_test_key', timeoutMs: 5_000 });
  const bundle = await workflowBundle();

  let worker!: Worker;
  let watcher: CallWatcher | undefined;
  let running: Promise<void> | undefined;
  const stack: TestStack = {
    env,
    taskQueue,
    simulator,
    unpod,
    httpUrl: http.url,
    get worker() {
      return worker;
    },
    async startWorker() {
      const client = o.wrapUnpod ? o.wrapUnpod(unpod) : unpod;
      watcher = new CallWatcher(client);
      worker = await createWorker({
        connection: env.nativeConnection,
        client: env.client,
        namespace: env.namespace ?? 'default',
        taskQueue,
        unpod: client,
        watcher,
        landingDelayMs: o.landingDelayMs ?? 2_000,
        workflowBundle: bundle,
        tuning: { shutdownGraceTimeMs: 2_000 },
        // Test receivers and sources live on loopback: allowed explicitly through the outbound guard.
        outbound: LOOPBACK_ALLOWED,
        activityInterceptors: o.activityInterceptors,
      });
      running = worker.run();
    },
    async stopWorker() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      watcher?.drain();
      await running;
      running = undefined;
    },
    async run(contacts, opts = {}) {
      const settings: RunSettings = {
        // One limiter per test stack: its worker's task queue is this stack's.
        accountId: `acct_${taskQueue}`,
        limits: UNLIMITED,
        spaceToken: 'space_test',
        call: { pipeId: 'pipe_test', agentId: 'agent_test' },
        policy: FAST_POLICY,
        window: 50,
        ...opts,
      };
      const started = await startRun(
        env.client,
        taskQueue,
        settings,
        toBatches(contacts, opts.skipped ?? [], opts.batchSize ?? 250),
      );
      return started.runId;
    },
    async close() {
      await stack.stopWorker();
      await http.close();
      await unpod.close();
      await simulator.close();
      await env.teardown();
    },
  };
  await stack.startWorker();
  return stack;
}
