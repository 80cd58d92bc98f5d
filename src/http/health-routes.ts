/**
 * Liveness and readiness, in the shape of the Unpod runner's /health and /ready:
 * - GET /health: the process answers; no dependency is consulted.
 * - GET /ready (OPS_API_KEY, or OPS_PUBLIC): Temporal answers AND at least one worker polls our task queue; else 503 naming the failed check.
 * Each check is bounded by a short deadline so a hung Temporal cannot hang the probe.
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import type { Authorizer } from './auth';

export interface HealthRoutesOptions {
  /** /ready says which dependency is down and the task queue's name: not for anyone (OPS_API_KEY). */
  auth: Pick<Authorizer, 'canViewMetrics'>;
  temporal: Client;
  taskQueue: string;
  /** Deadline of each readiness check, ms. Default 2000. */
  checkTimeoutMs?: number;
}

export type CheckResult = 'ok' | 'failed' | 'no_pollers' | 'skipped';

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  const { temporal, taskQueue } = opts;
  const timeoutMs = opts.checkTimeoutMs ?? 2000;
  const deadline = () => Date.now() + timeoutMs;

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (request, reply) => {
    await opts.auth.canViewMetrics(request);
    const checks: { temporal: CheckResult; worker: CheckResult } = { temporal: 'skipped', worker: 'skipped' };
    try {
      await temporal.withDeadline(deadline(), () => temporal.workflowService.getSystemInfo({}));
      checks.temporal = 'ok';
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'readiness: Temporal did not answer');
      checks.temporal = 'failed';
    }
    if (checks.temporal === 'ok') {
      try {
        const res = await temporal.withDeadline(deadline(), () =>
          temporal.workflowService.describeTaskQueue({
            namespace: temporal.options.namespace,
            taskQueue: { name: taskQueue },
            taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
          }),
        );
        checks.worker = (res.pollers?.length ?? 0) > 0 ? 'ok' : 'no_pollers';
      } catch (err) {
        request.log.warn({ err: (err as Error).message }, 'readiness: describeTaskQueue failed');
        checks.worker = 'failed';
      }
    }
    if (checks.temporal === 'ok' && checks.worker === 'ok') return { status: 'ready', checks };
    const failing = checks.temporal !== 'ok' ? 'temporal' : 'worker';
    return reply.status(503).send({
      status: 'not_ready',
      checks,
      error: {
        code: failing === 'temporal' ? 'temporal_unavailable' : 'no_worker',
        message:
          failing === 'temporal' ? 'Temporal did not answer' : `no worker is polling task queue ${taskQueue}`,
      },
    });
  });
};
