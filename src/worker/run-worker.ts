/**
 * Runs a worker the way Unpod's AgentRunner runs: stats on an interval and on /metrics + /stats, and a graceful
 * drain on SIGTERM/SIGINT — stop taking work, let the activities in flight finish within the grace
 * (WORKER_SHUTDOWN_GRACE_MS), then exit. The SDK does the drain itself (Worker.shutdown() stops polling;
 * shutdownGraceTime is how long in-flight activities get before they are cancelled); this adds the logging of
 * what is being drained, and a second signal to stop waiting.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import type { CallWatcher } from '../unpod/call-watcher';
import { formatStats, statsToPrometheus, type InFlightActivity, type WorkerStats } from './stats';

export interface RunWorkerOptions {
  worker: Worker;
  stats: WorkerStats;
  /** As the worker's shutdownGraceTime; only logged here. */
  graceMs: number;
  /** Stats log interval; 0: never. */
  statsIntervalMs: number;
  /** Where /metrics and /stats are served; unset: not served. port 0: a free port. */
  metrics?: { host: string; port: number };
  /** Labels on every Prometheus sample. */
  labels?: Record<string, string>;
  /** The worker's end-detection watcher: drained (its watches handed over) as the drain starts. */
  watcher?: CallWatcher;
  /** SIGTERM and SIGINT start the drain (a second one exits at once); false in tests. Default true. */
  handleSignals?: boolean;
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** http://host:port of /metrics and /stats, when served. */
  metricsUrl: string | undefined;
  /** Starts the drain (idempotent) and resolves when the worker has stopped. */
  drain(reason: string): Promise<void>;
  /** Resolves when the worker has stopped (drained, or failed: then it rejects). */
  done: Promise<void>;
}

function summarize(list: InFlightActivity[]): string {
  if (list.length === 0) return 'none';
  const byType = new Map<string, number>();
  for (const a of list) byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
  return [...byType].map(([t, n]) => `${t}×${n}`).join(', ');
}

export async function runWorker(o: RunWorkerOptions): Promise<RunningWorker> {
  const log = o.log ?? ((line: string) => console.log(`${new Date().toISOString()} worker: ${line}`));
  const { worker, stats } = o;

  let server: http.Server | undefined;
  let metricsUrl: string | undefined;
  if (o.metrics) {
    const labels = o.labels ?? {};
    server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
      } else if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(statsToPrometheus(stats.snapshot(), labels));
      } else if (path === '/stats') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(stats.snapshot()));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: 'GET /metrics or /stats' }));
      }
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(o.metrics!.port, o.metrics!.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const addr = s.address() as AddressInfo;
    metricsUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    log(`stats on ${metricsUrl}/metrics and ${metricsUrl}/stats`);
  }

  const statsTimer =
    o.statsIntervalMs > 0
      ? setInterval(() => log(formatStats(stats.snapshot())), o.statsIntervalMs)
      : undefined;
  statsTimer?.unref();

  let drainTimer: NodeJS.Timeout | undefined;
  const done = worker.run().finally(async () => {
    clearInterval(statsTimer);
    clearInterval(drainTimer);
    if (o.handleSignals !== false) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  let draining: Promise<void> | undefined;
  function drain(reason: string): Promise<void> {
    if (draining) return draining;
    stats.drain();
    const startedAt = Date.now();
    const before = stats.snapshot();
    const inFlight = stats.inFlight();
    log(
      `${reason}: draining — no new work is taken; ${inFlight.length} activities in flight ` +
        `(${summarize(inFlight)}) get up to ${o.graceMs} ms to finish`,
    );
    if (worker.getState() === 'RUNNING') worker.shutdown();
    // Waits for a call's end are handed to other workers at once rather than held for the grace.
    o.watcher?.drain();
    let lastCount = inFlight.length;
    drainTimer = setInterval(() => {
      const now = stats.inFlight();
      if (now.length !== lastCount) log(`draining: ${now.length} in flight (${summarize(now)})`);
      lastCount = now.length;
    }, 1_000);
    drainTimer.unref();
    draining = done.then(
      () => {
        const after = stats.snapshot();
        const finished = after.completed_last_hour - before.completed_last_hour;
        const failed = after.failed_last_hour - before.failed_last_hour;
        log(
          `drained in ${Date.now() - startedAt} ms: ${finished} completed and ${failed} failed while draining, ` +
            `${after.in_flight} left, ${stats.startedWhileDraining} started after the drain began`,
        );
      },
      (err: unknown) => {
        log(`worker stopped with an error while draining: ${String(err)}`);
        throw err;
      },
    );
    return draining;
  }

  let signals = 0;
  function onSignal(sig: NodeJS.Signals): void {
    signals++;
    if (signals > 1) {
      log(`${sig} again: exiting without waiting for ${stats.inFlight().length} activities`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    void drain(sig).catch(() => undefined);
  }
  if (o.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  return { metricsUrl, drain, done };
}
