/**
 * The embedded stack (`npm start`): the Temporal dev server (persisted under .data/), the Unpod simulator, a
 * worker and the HTTP server, in the foreground; Ctrl-C or SIGTERM stops all of it. With TEMPORAL_ADDRESS set it
 * starts no server; with UNPOD_BASE_URL and UNPOD_API_KEY set it starts no simulator.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { LOCAL_DEV_API_KEY, type Config } from '../config/config';
import { apiOptionsFromConfig } from '../http/api-v2';
import { startHttpServer } from '../http/serve';
import { startSimulator, type RunningSimulator } from '../simulator';
import { startDevServer } from '../temporal/dev-server';
import { connectClient, connectNative, temporalAddress } from '../temporal/connect';
import { UnpodClient } from '../unpod';
import { createWorker } from '../worker/worker';

export interface RunningStack {
  temporalAddress: string;
  uiUrl?: string;
  simulatorUrl?: string;
  httpUrl: string;
  simulator?: RunningSimulator;
  stop(): Promise<void>;
}

export async function startStack(
  config: Config,
  log: (line: string) => void = console.log,
): Promise<RunningStack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log(`stop: ${String(err)}`));
  };
  try {
    let devServer: TestWorkflowEnvironment | undefined;
    const e = config.env;
    if (!config.temporal.address) {
      devServer = await startDevServer({
        ip: e.TEMPORAL_DEV_SERVER_IP,
        port: e.TEMPORAL_DEV_SERVER_PORT,
        uiPort: e.TEMPORAL_UI_PORT,
        dbFilename: e.TEMPORAL_DB_FILE,
        namespace: config.temporal.namespace,
        log,
      });
      stops.push(() => devServer!.teardown());
    }
    const address = temporalAddress(config);

    let simulator: RunningSimulator | undefined;
    if (config.unpod.useSimulator) {
      simulator = await startSimulator({
        host: e.SIMULATOR_HOST,
        port: e.SIMULATOR_PORT,
        speed: e.SIMULATOR_SPEED,
        webhookUrl: `${config.http.publicUrl}/webhooks/unpod`,
        webhookSecret: config.unpod.webhookSecret,
        accounts: [
          {
            apiKey: e.SIMULATOR_API_KEY,
            accountId: 'acct_default',
            callsPerMinute: 60,
            tasksPerDay: 5000,
            concurrency: 10,
          },
        ],
      });
      stops.push(() => simulator!.close());
    }

    const unpod = new UnpodClient({
      baseUrl: config.unpod.baseUrl,
      apiKey: config.unpod.apiKey,
      timeoutMs: config.unpod.timeoutMs,
    });
    stops.push(() => unpod.close());
    const client = await connectClient(config, address);
    stops.push(() => client.connection.close());
    const native = await connectNative(config, address);
    stops.push(() => native.close());

    const worker: Worker = await createWorker({
      connection: native,
      client,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      unpod,
      callbackSigningSecret: config.api.callbackSigningSecret,
      tuning: {
        maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
        maxConcurrentActivityTaskExecutions: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
        maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
        shutdownGraceTimeMs: e.WORKER_SHUTDOWN_GRACE_MS,
      },
    });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const http = await startHttpServer({
      temporal: client,
      taskQueue: config.temporal.taskQueue,
      webhookSecret: config.unpod.webhookSecret,
      host: config.http.host,
      port: config.http.port,
      api: apiOptionsFromConfig(config),
      cors: config.api.cors,
      console: {
        temporalUiUrl: devServer ? `http://${e.TEMPORAL_DEV_SERVER_IP}:${e.TEMPORAL_UI_PORT}` : undefined,
        namespace: config.temporal.namespace,
      },
    });
    stops.push(() => http.close());

    return {
      temporalAddress: address,
      uiUrl: devServer ? `http://${e.TEMPORAL_DEV_SERVER_IP}:${e.TEMPORAL_UI_PORT}` : undefined,
      simulatorUrl: simulator?.url,
      httpUrl: http.url,
      simulator,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function describeStack(s: RunningStack, config: Config): string {
  return [
    `Temporal        ${s.temporalAddress}${s.uiUrl ? `  (Web UI ${s.uiUrl}, data ${config.env.TEMPORAL_DB_FILE})` : '  (external)'}`,
    `Unpod           ${s.simulatorUrl ? `${s.simulatorUrl}  (simulator, speed ×${config.env.SIMULATOR_SPEED})` : config.unpod.baseUrl}`,
    `worker          task queue ${config.temporal.taskQueue}, namespace ${config.temporal.namespace}`,
    `HTTP            ${s.httpUrl}  (/api/v2/platform/spaces/{space}/runs/, /docs, /metrics, /health, /ready, POST /webhooks/unpod)`,
    `console         ${s.httpUrl}/console/  (sign in with an API key of your space)`,
    ...(config.api.keys.includes(LOCAL_DEV_API_KEY)
      ? [
          `API key         Authorization: Token ${LOCAL_DEV_API_KEY.key}  (space ${LOCAL_DEV_API_KEY.space}; set API_KEYS for your own)`,
        ]
      : []),
  ].join('\n');
}

/** Runs until SIGINT/SIGTERM, then stops everything and resolves. */
export async function runStackInForeground(config: Config): Promise<void> {
  const stack = await startStack(config);
  console.log(`unpod-campaigns is up:\n${describeStack(stack, config)}\nCtrl-C stops everything.`);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      console.log(`\n${sig}: stopping…`);
      resolve();
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  });
  await stack.stop();
  console.log('stopped');
}
