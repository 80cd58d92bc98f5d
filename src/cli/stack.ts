/**
 * The embedded stack (`npm start`): the Temporal dev server (persisted under .data/), the Unpod simulator, a
 * worker and the HTTP server, in the foreground; Ctrl-C or SIGTERM stops all of it. With TEMPORAL_ADDRESS set it
 * starts no server; with UNPOD_BASE_URL and UNPOD_API_KEY set it starts no simulator.
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { DEFAULTS, embeddedStackConfig, LOCAL_DEV_API_KEY, type Config } from '../config/config';
import { apiOptionsFromConfig } from '../http/api-v2';
import { startHttpServer } from '../http/serve';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../simulator';
import { spawnDevServer, startDevServer, type DevServerOptions } from '../temporal/dev-server';
import { connectClient, connectNative, temporalAddress } from '../temporal/connect';
import { CallWatcher } from '../unpod/call-watcher';
import { runWorker, type RunningWorker } from '../worker/run-worker';
import { WorkerStats } from '../worker/stats';
import { createWorker, unpodClientFromConfig } from '../worker/worker';
import { clearStackState, writeStackState } from './stack-state';

export interface RunningStack {
  temporalAddress: string;
  uiUrl?: string;
  simulatorUrl?: string;
  httpUrl: string;
  /** Worker stats (/metrics, /stats), when served. */
  metricsUrl?: string;
  simulator?: RunningSimulator;
  /** The stack's own Temporal client (closed by `stop`). */
  client: Client;
  /** The dev server's pid, when this stack spawned one (the benches read its CPU). */
  devServerPid?: number;
  /** Stops worker → HTTP server → simulator → Temporal server, each logging "<part> stopped". */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Serve the worker's /metrics and /stats on WORKER_METRICS_PORT (npm start; not the demo). */
  workerMetrics?: boolean;
  /** false: no worker in this process (the benches run theirs in a child process, to measure it alone). */
  worker?: boolean;
  /** Over the simulator the configuration describes (the benches: calls that end at once, no limits). */
  simulator?: Partial<SimulatorOptions>;
  /** Over the dev server the configuration describes; `headless`: no Web UI. */
  devServer?: Pick<DevServerOptions, 'dynamicConfig' | 'sqlitePragmas'> & { headless?: boolean };
}

type Stop = { name: string; run: () => Promise<void> };

export async function startStack(
  given: Config,
  log: (line: string) => void = console.log,
  options: StackOptions = {},
): Promise<RunningStack> {
  // On loopback with the simulator: the dev key, open /ready and /metrics, loopback through the URL guard.
  const config = embeddedStackConfig(given);
  // Named steps, stopped in this order whatever the order they started in: the worker drains while the HTTP
  // server still answers the API and the Temporal server still answers; the Temporal server goes last.
  const steps: Record<'worker' | 'connections' | 'http' | 'simulator' | 'temporal', Stop[]> = {
    worker: [],
    http: [],
    connections: [],
    simulator: [],
    temporal: [],
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const group of Object.values(steps))
        for (const s of group.reverse()) {
          try {
            await s.run();
            if (s.name) log(`${s.name} stopped`);
          } catch (err) {
            log(`stop ${s.name || 'connection'}: ${String(err)}`);
          }
        }
    })());
  try {
    const e = config.env;
    let devServerLabel: string | undefined;
    let devServerPid: number | undefined;
    if (!config.temporal.address) {
      const { headless, ...devServer } = options.devServer ?? {};
      const serverOpts: DevServerOptions = {
        ip: e.TEMPORAL_DEV_SERVER_IP,
        port: e.TEMPORAL_DEV_SERVER_PORT,
        uiPort: headless ? undefined : e.TEMPORAL_UI_PORT,
        // Empty: in memory.
        dbFilename: e.TEMPORAL_DB_FILE || undefined,
        namespace: config.temporal.namespace,
        log,
        ...devServer,
      };
      // Our own process group (a terminal's Ctrl-C does not reach it); the SDK's download where no CLI is found.
      const spawned = await spawnDevServer(serverOpts);
      if (spawned) {
        devServerPid = spawned.pid;
        steps.temporal.push({ name: 'Temporal server', run: () => spawned.stop() });
      } else {
        const env: TestWorkflowEnvironment = await startDevServer(serverOpts);
        steps.temporal.push({ name: 'Temporal server', run: () => env.teardown() });
      }
      if (!headless) devServerLabel = `http://${e.TEMPORAL_DEV_SERVER_IP}:${e.TEMPORAL_UI_PORT}`;
    }
    const address = temporalAddress(config);

    let simulator: RunningSimulator | undefined;
    if (config.unpod.useSimulator) {
      simulator = await startSimulator({
        host: e.SIMULATOR_HOST,
        port: e.SIMULATOR_PORT,
        speed: e.SIMULATOR_SPEED,
        accounts: [
          {
            apiKey: e.SIMULATOR_API_KEY,
            accountId: DEFAULTS.account,
            callsPerMinute: 60,
            tasksPerDay: 5000,
            concurrency: 10,
          },
        ],
        ...options.simulator,
      });
      steps.simulator.push({ name: 'simulator', run: () => simulator!.close() });
    }

    const client = await connectClient(config, address);
    steps.connections.push({ name: '', run: () => client.connection.close() });
    const running =
      options.worker === false
        ? undefined
        : await startWorkerHere(config, client, address, options, log, steps.worker, steps.connections);

    const http = await startHttpServer({
      temporal: client,
      taskQueue: config.temporal.taskQueue,
      agentPushSecret: config.agentPushSecret,
      host: config.http.host,
      port: config.http.port,
      api: apiOptionsFromConfig(config),
      cors: config.api.cors,
      ops: config.ops,
      console: {
        temporalUiUrl: devServerLabel,
        namespace: config.temporal.namespace,
      },
    });
    steps.http.push({ name: 'HTTP server', run: () => http.close() });

    return {
      temporalAddress: address,
      uiUrl: devServerLabel,
      simulatorUrl: simulator?.url,
      httpUrl: http.url,
      metricsUrl: running?.metricsUrl,
      simulator,
      client,
      devServerPid,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The worker in this process, on the stack's client; its stops go to `stops`, its connections' to `connections`. */
async function startWorkerHere(
  config: Config,
  client: Client,
  address: string,
  options: StackOptions,
  log: (line: string) => void,
  stops: Stop[],
  connections: Stop[],
): Promise<RunningWorker> {
  const e = config.env;
  const unpod = unpodClientFromConfig(config);
  const watcher = new CallWatcher(unpod, { log: (msg) => log(`watcher: ${msg}`) });
  connections.push({ name: '', run: () => unpod.close() });
  const native = await connectNative(config, address);
  connections.push({ name: '', run: () => native.close() });

  const stats = new WorkerStats();
  const graceMs = e.WORKER_SHUTDOWN_GRACE_MS;
  const worker: Worker = await createWorker({
    connection: native,
    client,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    unpod,
    watcher,
    landingDelayMs: config.unpod.landingDelayMs,
    callbackSigningSecret: config.api.callbackSigningSecret,
    outbound: config.outbound,
    stats,
    tuning: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentActivityTaskExecutions: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      shutdownGraceTimeMs: graceMs,
    },
  });
  const running = await runWorker({
    worker,
    stats,
    watcher,
    graceMs,
    statsIntervalMs: options.workerMetrics ? e.WORKER_STATS_INTERVAL_MS : 0,
    metrics: options.workerMetrics ? { host: e.WORKER_METRICS_HOST, port: e.WORKER_METRICS_PORT } : undefined,
    labels: { task_queue: config.temporal.taskQueue },
    handleSignals: false,
    log: (line) => log(`worker: ${line}`),
  });
  stops.push({ name: 'worker', run: () => running.drain('stopping') });
  return running;
}

export function describeStack(s: RunningStack, config: Config): string {
  return [
    `Temporal        ${s.temporalAddress}${s.uiUrl ? `  (Web UI ${s.uiUrl}, data ${config.env.TEMPORAL_DB_FILE})` : '  (external)'}`,
    `Unpod           ${s.simulatorUrl ? `${s.simulatorUrl}  (simulator, speed ×${config.env.SIMULATOR_SPEED})` : config.unpod.baseUrl}`,
    `worker          task queue ${config.temporal.taskQueue}, namespace ${config.temporal.namespace}${s.metricsUrl ? `  (stats: ${s.metricsUrl}/metrics, ${s.metricsUrl}/stats)` : ''}`,
    `HTTP            ${s.httpUrl}  (/api/v2/platform/spaces/{space}/runs/, /docs, /metrics, /health, /ready${config.agentPushSecret ? ', POST /v1/agent-events' : ''})`,
    `console         ${s.httpUrl}/console/  (sign in with an API key of your space)`,
    ...(embeddedStackConfig(config).api.keys.includes(LOCAL_DEV_API_KEY)
      ? [
          `API key         Authorization: Token ${LOCAL_DEV_API_KEY.key}  (space ${LOCAL_DEV_API_KEY.space}; set API_KEYS for your own)`,
        ]
      : []),
  ].join('\n');
}

/**
 * Runs until SIGINT/SIGTERM, then stops everything in order and resolves. A second signal while stopping (a
 * terminal's Ctrl-C reaches this process and npm, which forwards it again) is ignored unless it comes more than
 * 2 s later: then the Temporal server is killed and the process exits at once.
 */
export async function runStackInForeground(config: Config): Promise<void> {
  const stack = await startStack(config, console.log, { workerMetrics: true });
  const stateFile = writeStackState({
    pid: process.pid,
    temporalAddress: stack.temporalAddress,
    namespace: config.temporal.namespace,
    httpUrl: stack.httpUrl,
    simulatorUrl: stack.simulatorUrl,
    metricsUrl: stack.metricsUrl,
    startedAt: new Date().toISOString(),
  });
  console.log(
    `unpod-campaigns is up:\n${describeStack(stack, config)}\n(addresses in ${stateFile}, for the CLI in other terminals)\nCtrl-C stops everything.`,
  );
  let firstAt = 0;
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (!firstAt) {
        firstAt = Date.now();
        console.log(
          `\n${sig}: stopping the worker, the HTTP server, the simulator, then the Temporal server…`,
        );
        resolve();
      } else if (Date.now() - firstAt > 2_000) {
        console.log(`${sig} again: exiting without waiting`);
        clearStackState();
        process.exit(sig === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  try {
    await stack.stop();
  } finally {
    clearStackState();
  }
  console.log('stopped');
}
