/**
 * GET /metrics: Prometheus text exposition (src/metrics/prometheus.ts), read from Temporal visibility at
 * scrape time — nothing is kept in this process, so any number of servers answer the same:
 * - unpod_campaigns_runs{state}: campaign runs by state, the one mapping of src/campaign/run-queries.ts (running,
 *   paused, canceling, canceled, completed, failed): open runs by their progress query at scrape time, closed ones
 *   by their result, read once per closed run and remembered (a closed run never changes);
 * - unpod_campaigns_tasks{status}: call tasks by status (the TaskStatus search attribute);
 * - unpod_campaigns_dials_per_minute / _dial_limit_per_minute / _permit_wait_seconds: only when a
 *   MetricsSource that knows them is given (the account limiter's numbers live with the worker).
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { TASK_STATUSES } from '../../workflows/definitions';
import { progressOf, RUN_STATES, runStateOf, type RunState } from '../campaign/run-queries';
import { visibilityQuery } from '../temporal/visibility';
import type { Authorizer } from './auth';
import { Exposition } from '../metrics/prometheus';

/** Numbers this server cannot read from visibility; each optional, per account. */
export interface MetricsSource {
  dialsPerMinute?: () => Promise<Record<string, number>> | Record<string, number>;
  dialLimitPerMinute?: () => Promise<Record<string, number>> | Record<string, number>;
  /** Mean wait for a limiter permit over the last minute, seconds. */
  permitWaitSeconds?: () => Promise<Record<string, number>> | Record<string, number>;
}

export interface MetricsRoutesOptions {
  temporal: Client;
  auth: Pick<Authorizer, 'canViewMetrics'>;
  source?: MetricsSource;
}

const CLOSED_NOT_COMPLETED = ['Failed', 'Canceled', 'Terminated', 'TimedOut'] as const;

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, opts) => {
  const { temporal, source } = opts;
  /** Closed runs' states by `workflowId/runId`: read once (a result), then remembered. */
  const closedStates = new Map<string, RunState>();

  async function runStates(): Promise<Record<RunState, number>> {
    const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
    const states = async (query: string, closed: boolean) => {
      for await (const info of temporal.workflow.list({ query })) {
        const key = `${info.workflowId}/${info.runId}`;
        let state = closed ? closedStates.get(key) : undefined;
        if (!state) {
          const progress = await progressOf(temporal, info).catch(() => null);
          state = runStateOf(info.status.name, progress);
          if (closed && progress) closedStates.set(key, state);
        }
        counts[state]++;
      }
    };
    await states(visibilityQuery('campaign', { ExecutionStatus: 'Running' }), false);
    await states(visibilityQuery('campaign', { ExecutionStatus: 'Completed' }), true);
    for (const s of CLOSED_NOT_COMPLETED) {
      const { count } = await temporal.workflow.count(visibilityQuery('campaign', { ExecutionStatus: s }));
      counts.failed += count;
    }
    return counts;
  }

  app.get('/metrics', async (request, reply) => {
    await opts.auth.canViewMetrics(request);
    const out = new Exposition();
    const runs = await runStates();
    out.gauge(
      'unpod_campaigns_runs',
      'Campaign runs by state (running, paused, canceling, canceled, completed, failed).',
      RUN_STATES.map((s) => [{ state: s }, runs[s]] as [Record<string, string>, number]),
    );
    const tasks = await Promise.all(
      TASK_STATUSES.map(async (s) => {
        const { count } = await temporal.workflow.count(visibilityQuery('callTask', { TaskStatus: s }));
        return [{ status: s }, count] as [Record<string, string>, number];
      }),
    );
    out.gauge('unpod_campaigns_tasks', 'Call tasks by status.', tasks);
    const perAccount = async (
      name: string,
      help: string,
      fn?: () => Promise<Record<string, number>> | Record<string, number>,
    ) => {
      if (!fn) return;
      const values = await fn();
      out.gauge(
        name,
        help,
        Object.entries(values).map(([account, v]) => [{ account }, v]),
      );
    };
    await perAccount(
      'unpod_campaigns_dials_per_minute',
      'Calls placed in the last minute, per account.',
      source?.dialsPerMinute,
    );
    await perAccount(
      'unpod_campaigns_dial_limit_per_minute',
      'Calls-per-minute limit of the account plan.',
      source?.dialLimitPerMinute,
    );
    await perAccount(
      'unpod_campaigns_permit_wait_seconds',
      'Mean wait for a call permit over the last minute, seconds.',
      source?.permitWaitSeconds,
    );
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(out.toString());
  });
};
