/**
 * Worker stats, named as Unpod's RunnerStats (agent-runner-sdk.txt): in_flight, capacity, completed_last_hour,
 * failed_last_hour, mean_call_duration_s. Counted by an activity interceptor, so they describe THIS worker:
 *
 * - in_flight: activities executing in this process now;
 * - capacity: its activity slots (maxConcurrentActivityTaskExecutions);
 * - completed_last_hour / failed_last_hour: activity executions that returned / threw, over a sliding hour
 *   (one-minute buckets, so "the last hour" is exact to a minute). A failed execution is one attempt: Temporal
 *   retries it, maybe on another worker;
 * - mean_call_duration_s: the mean Unpod `duration_s` of the calls whose END this worker saw in an activity
 *   result (createCall, getCall or hangupCall returning a finished call), each call counted once, over the same
 *   hour. Calls that end by webhook are seen by the HTTP server, not the worker, so this is a sample
 *   (`calls_observed_last_hour` says how large); null when there is none.
 *
 * Totals since start, per activity type, back the Prometheus counters and let tests add workers up.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { Exposition, type Sample } from '../metrics/prometheus';

const MINUTE_MS = 60_000;
const HOUR_BUCKETS = 60;

/** The RunnerStats fields, plus what makes them readable. */
export interface RunnerStats {
  in_flight: number;
  capacity: number;
  completed_last_hour: number;
  failed_last_hour: number;
  /** null when no call's end was seen in the last hour. */
  mean_call_duration_s: number | null;
  calls_observed_last_hour: number;
  draining: boolean;
  uptime_s: number;
  /** Since start, per activity type. */
  activities: Record<string, { completed: number; failed: number; in_flight: number }>;
}

interface Bucket {
  minute: number;
  completed: number;
  failed: number;
  calls: number;
  callSeconds: number;
}

/** One running activity, for the drain log. */
export interface InFlightActivity {
  type: string;
  workflowId: string;
  attempt: number;
  startedAt: number;
}

export interface WorkerStatsOptions {
  /** Set by createWorker from the worker's activity slots. */
  capacity?: number;
  now?: () => number;
}

export class WorkerStats {
  capacity: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  #buckets: Bucket[] = [];
  readonly #inFlight = new Map<number, InFlightActivity>();
  #nextId = 0;
  readonly #byType = new Map<string, { completed: number; failed: number; in_flight: number }>();
  /** Calls already counted toward the mean (a call polled twice after its end counts once). */
  readonly #seenCalls = new Map<string, number>();
  #draining = false;
  /** Activities started after the drain began: 0 when the worker stopped taking work as it should. */
  startedWhileDraining = 0;

  constructor(o: WorkerStatsOptions = {}) {
    this.capacity = o.capacity ?? 0;
    this.#now = o.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** The interceptor factory to pass as WorkerOptions.interceptors.activity. */
  readonly interceptor: ActivityInterceptorsFactory = (ctx: Context) => ({
    inbound: {
      execute: async (input, next) => {
        const done = this.started(
          ctx.info.activityType,
          ctx.info.workflowExecution?.workflowId ?? '',
          ctx.info.attempt,
        );
        try {
          const result = await next(input);
          done(true, result);
          return result;
        } catch (err) {
          done(false);
          throw err;
        }
      },
    },
  });

  /** Records an activity's start; the returned function records its end. */
  started(type: string, workflowId: string, attempt: number): (ok: boolean, result?: unknown) => void {
    const id = this.#nextId++;
    if (this.#draining) this.startedWhileDraining++;
    this.#inFlight.set(id, { type, workflowId, attempt, startedAt: this.#now() });
    const t = this.#type(type);
    t.in_flight++;
    return (ok, result) => {
      this.#inFlight.delete(id);
      t.in_flight--;
      const b = this.#bucket();
      if (ok) {
        t.completed++;
        b.completed++;
        this.#observeCall(result, b);
      } else {
        t.failed++;
        b.failed++;
      }
    };
  }

  /** Marks the worker as draining (shown in stats; later starts are counted). */
  drain(): void {
    this.#draining = true;
  }

  inFlight(): InFlightActivity[] {
    return [...this.#inFlight.values()];
  }

  snapshot(): RunnerStats {
    const now = this.#now();
    const from = Math.floor(now / MINUTE_MS) - HOUR_BUCKETS + 1;
    let completed = 0;
    let failed = 0;
    let calls = 0;
    let callSeconds = 0;
    for (const b of this.#buckets) {
      if (b.minute < from) continue;
      completed += b.completed;
      failed += b.failed;
      calls += b.calls;
      callSeconds += b.callSeconds;
    }
    return {
      in_flight: this.#inFlight.size,
      capacity: this.capacity,
      completed_last_hour: completed,
      failed_last_hour: failed,
      mean_call_duration_s: calls ? Math.round((callSeconds / calls) * 10) / 10 : null,
      calls_observed_last_hour: calls,
      draining: this.#draining,
      uptime_s: Math.round((now - this.#startedAt) / 1000),
      activities: Object.fromEntries([...this.#byType].map(([k, v]) => [k, { ...v }])),
    };
  }

  #type(type: string) {
    let t = this.#byType.get(type);
    if (!t) {
      t = { completed: 0, failed: 0, in_flight: 0 };
      this.#byType.set(type, t);
    }
    return t;
  }

  #bucket(): Bucket {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    let b = this.#buckets[this.#buckets.length - 1];
    if (b?.minute !== minute) {
      b = { minute, completed: 0, failed: 0, calls: 0, callSeconds: 0 };
      this.#buckets.push(b);
      this.#buckets = this.#buckets.filter((x) => x.minute > minute - HOUR_BUCKETS);
      for (const [callId, m] of this.#seenCalls)
        if (m <= minute - HOUR_BUCKETS) this.#seenCalls.delete(callId);
    }
    return b;
  }

  /** A finished call in an activity result (a CallSnapshot) counts toward the mean call duration, once. */
  #observeCall(result: unknown, b: Bucket): void {
    if (typeof result !== 'object' || result === null) return;
    const r = result as { callId?: unknown; status?: unknown; durationS?: unknown };
    if (typeof r.callId !== 'string' || (r.status !== 'completed' && r.status !== 'failed')) return;
    if (typeof r.durationS !== 'number' || !Number.isFinite(r.durationS)) return;
    if (this.#seenCalls.has(r.callId)) return;
    this.#seenCalls.set(r.callId, b.minute);
    b.calls++;
    b.callSeconds += r.durationS;
  }
}

/** Prometheus text exposition of one worker's stats (src/metrics/prometheus.ts). */
export function statsToPrometheus(s: RunnerStats, labels: Record<string, string>): string {
  const out = new Exposition(labels);
  // One sample each, no extra labels: the worker's gauges.
  const gauges: [name: string, help: string, value: number | null][] = [
    ['unpod_worker_in_flight', 'Activities executing in this worker now.', s.in_flight],
    [
      'unpod_worker_capacity',
      'Activity slots of this worker (maxConcurrentActivityTaskExecutions).',
      s.capacity,
    ],
    [
      'unpod_worker_completed_last_hour',
      'Activity executions that returned, last hour.',
      s.completed_last_hour,
    ],
    [
      'unpod_worker_failed_last_hour',
      'Activity executions that threw (each attempt), last hour.',
      s.failed_last_hour,
    ],
    [
      'unpod_worker_mean_call_duration_seconds',
      'Mean Unpod duration of calls whose end this worker saw in an activity result, last hour.',
      s.mean_call_duration_s,
    ],
    [
      'unpod_worker_calls_observed_last_hour',
      'Calls behind the mean call duration.',
      s.calls_observed_last_hour,
    ],
    ['unpod_worker_draining', '1 while the worker drains after SIGTERM/SIGINT.', s.draining ? 1 : 0],
  ];
  for (const [name, help, value] of gauges) out.gauge(name, help, [[{}, value]]);
  out.metric(
    'unpod_worker_activities_total',
    'counter',
    'Activity executions since the worker started, by type and outcome.',
    Object.entries(s.activities).flatMap(([activity, c]): Sample[] => [
      [{ activity, outcome: 'completed' }, c.completed],
      [{ activity, outcome: 'failed' }, c.failed],
    ]),
  );
  return out.toString();
}

/** One log line, as the docs' runner prints it. */
export function formatStats(s: RunnerStats): string {
  const mean = s.mean_call_duration_s === null ? 'n/a' : `${s.mean_call_duration_s.toFixed(1)}s`;
  return (
    `in_flight=${s.in_flight} capacity=${s.capacity} completed=${s.completed_last_hour} ` +
    `failed=${s.failed_last_hour} mean_duration=${mean} (${s.calls_observed_last_hour} calls)` +
    (s.draining ? ' draining' : '')
  );
}
