/**
 * GET /metrics: Prometheus text exposition (hand-written, format 0.0.4), read from Temporal visibility at
 * scrape time — nothing is kept in this process, so any number of servers answer the same:
 * - unpod_campaigns_runs{state}: campaign runs by execution status (running includes paused runs);
 * - unpod_campaigns_tasks{status}: call tasks by status (the TaskStatus search attribute);
 * - unpod_campaigns_dials_per_minute / _dial_limit_per_minute / _permit_wait_seconds: only when a
 *   MetricsSource that knows them is given (the account limiter's numbers live with the worker).
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { TASK_STATUSES } from '../../workflows/definitions';
import type { Authorizer } from './auth';

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

const EXECUTION_STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut'] as const;

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

class Exposition {
  private readonly lines: string[] = [];
  gauge(name: string, help: string, samples: [Record<string, string>, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${label(v)}"`)
        .join(',');
      this.lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    }
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, opts) => {
  const { temporal, source } = opts;

  app.get('/metrics', async (request, reply) => {
    await opts.auth.canViewMetrics(request);
    const out = new Exposition();
    const runs = await Promise.all(
      EXECUTION_STATUSES.map(async (s) => {
        const { count } = await temporal.workflow.count(
          `WorkflowType = 'campaignWorkflow' AND ExecutionStatus = '${s}'`,
        );
        return [{ state: s.toLowerCase() }, count] as [Record<string, string>, number];
      }),
    );
    out.gauge(
      'unpod_campaigns_runs',
      'Campaign runs by Temporal execution status (running includes paused).',
      runs,
    );
    const tasks = await Promise.all(
      TASK_STATUSES.map(async (s) => {
        const { count } = await temporal.workflow.count(
          `WorkflowType = 'callTaskWorkflow' AND TaskStatus = '${s}'`,
        );
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
