/**
 * The benchmark worker, run as a child process (`fork` from bench/harness.ts) so that its memory is measured
 * alone: it samples `process.memoryUsage().rss` on an interval and reports the samples to its parent over IPC.
 * It stops (worker.shutdown) when the parent sends `stop`, and reports its peak RSS before it exits.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { UnpodClient } from '../src/unpod';
import { createWorker, type WorkerTuning } from '../src/worker/worker';

export interface WorkerProcessConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  unpodUrl: string;
  unpodApiKey: string;
  tuning: WorkerTuning;
  rssSampleMs: number;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'rss'; rss: number }
  | { type: 'stopped'; peakRss: number }
  | { type: 'error'; message: string };
export type ToWorker = { type: 'stop' };

function send(msg: FromWorker): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessConfig;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let peakRss = process.memoryUsage().rss;
  const sample = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    send({ type: 'rss', rss });
  }, cfg.rssSampleMs);

  const nativeConnection = await NativeConnection.connect({ address: cfg.address });
  const connection = await Connection.connect({ address: cfg.address });
  const client = new Client({ connection, namespace: cfg.namespace });
  const unpod = new UnpodClient({ baseUrl: cfg.unpodUrl, apiKey: cfg.unpodApiKey, timeoutMs: 10_000 });
  const worker = await createWorker({
    connection: nativeConnection,
    client,
    namespace: cfg.namespace,
    taskQueue: cfg.taskQueue,
    unpod,
    tuning: cfg.tuning,
    identity: `bench-worker-${process.pid}`,
  });
  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop' && worker.getState() === 'RUNNING') worker.shutdown();
  });
  // The parent going away must not leave a worker polling.
  process.on('disconnect', () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  const running = worker.run();
  send({ type: 'ready' });
  await running;
  clearInterval(sample);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  send({ type: 'stopped', peakRss });
  await unpod.close();
  await connection.close();
  await nativeConnection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  },
);
