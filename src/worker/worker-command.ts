/**
 * `unpod-campaigns worker`: one worker process from configuration — connections, the Unpod client, the worker with
 * its stats interceptor, stats on an interval and on /metrics + /stats, the graceful drain on SIGTERM/SIGINT.
 */
import os from 'node:os';
import type { Config } from '../config/config';
import { connectClient, connectNative } from '../temporal/connect';
import { runWorker } from './run-worker';
import { WorkerStats } from './stats';
import { CallWatcher } from '../unpod/call-watcher';
import { createWorker, unpodClientFromConfig } from './worker';

/** Past the grace, cancelled activities get this long to notice before run() gives up and the process exits. */
const FORCE_AFTER_GRACE_MS = 15_000;

export async function runWorkerCommand(c: Config): Promise<void> {
  const identity = `${process.pid}@${os.hostname()}`;
  const client = await connectClient(c);
  const native = await connectNative(c);
  const unpod = unpodClientFromConfig(c);
  const watcher = new CallWatcher(unpod, {
    log: (msg, f) => console.log(`worker: ${msg} ${JSON.stringify(f ?? {})}`),
  });
  const stats = new WorkerStats();
  const graceMs = c.env.WORKER_SHUTDOWN_GRACE_MS;
  try {
    const worker = await createWorker({
      connection: native,
      client,
      namespace: c.temporal.namespace,
      taskQueue: c.temporal.taskQueue,
      unpod,
      watcher,
      landingDelayMs: c.unpod.landingDelayMs,
      callbackSigningSecret: c.api.callbackSigningSecret,
      stats,
      identity,
      tuning: {
        maxCachedWorkflows: c.env.WORKER_MAX_CACHED_WORKFLOWS,
        maxConcurrentActivityTaskExecutions: c.env.WORKER_MAX_CONCURRENT_ACTIVITIES,
        maxConcurrentWorkflowTaskExecutions: c.env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
        shutdownGraceTimeMs: graceMs,
        shutdownForceTimeMs: graceMs + FORCE_AFTER_GRACE_MS,
      },
    });
    const running = await runWorker({
      worker,
      stats,
      watcher,
      graceMs,
      statsIntervalMs: c.env.WORKER_STATS_INTERVAL_MS,
      metrics: { host: c.env.WORKER_METRICS_HOST, port: c.env.WORKER_METRICS_PORT },
      labels: { task_queue: c.temporal.taskQueue, worker: identity },
    });
    console.log(
      `worker ${identity} polling ${c.temporal.taskQueue} on ${c.temporal.namespace} ` +
        `(capacity ${stats.capacity} activities; SIGTERM drains for up to ${graceMs} ms)`,
    );
    await running.done;
  } finally {
    await unpod.close();
    await client.connection.close();
    await native.close();
  }
}
