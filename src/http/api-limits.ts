/**
 * GET / PATCH …/limits/: the limits of the caller's account (the key's account, else the server's default) and
 * their use now — live calls against capacity, rate tokens taken in the current window, tasks today — read
 * from the account's limiter workflow; PATCH changes them live (src/campaign/limits.ts setLimits: starts the
 * limiter when none runs). Reading needs canView, changing needs canStart.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { LimitsError, limiterState, planLimits, setLimits } from '../campaign/limits';
import { DEFAULT_LIMITS, type Limits } from '../../workflows/limiter-core';
import { limitsPatchSchema } from './api-console-schemas';
import { spaceParamsSchema } from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import type { Principal } from './auth';
import { BadRequestError } from './errors';

export const apiLimitsRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, taskQueue, auth, opts } = ctx;
  const accountOf = (p: Principal) => p.account ?? opts.defaultAccount;

  async function view(accountId: string) {
    const s = await limiterState(temporal, accountId);
    const l: Limits = s?.limits ?? DEFAULT_LIMITS;
    const capacity = s?.capacity ?? Math.max(0, l.concurrency - l.reserved);
    const dials = s?.dialsInLastWindow ?? 0;
    return {
      account_id: accountId,
      running: s !== null,
      limits: {
        calls_per_minute: l.callsPerMinute,
        tasks_per_day: l.tasksPerDay,
        concurrency: l.concurrency,
        reserved: l.reserved,
        timezone: l.timezone,
      },
      use: {
        live_calls: s?.inUse ?? 0,
        capacity,
        dials_in_last_minute: dials,
        rate_tokens_left: Math.max(0, Math.floor(l.callsPerMinute) - dials),
        tasks_today: s?.tasksToday ?? 0,
        queued: s?.queued ?? 0,
        day_blocked: s?.dayBlocked ? { count: s.dayBlocked.count, resets_at: s.dayBlocked.resetsAt } : null,
      },
    };
  }

  app.get('/limits/', { config: { v2ErrorMessage: 'Error fetching limits' } }, async (request, reply) => {
    const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
    const principal = await auth.authorize(request, 'canView', space_token);
    return sendEnvelope(reply, 200, 'Limits Fetched Successfully', await view(accountOf(principal)), 1);
  });

  app.patch('/limits/', { config: { v2ErrorMessage: 'Error changing limits' } }, async (request, reply) => {
    const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
    const principal = await auth.authorize(request, 'canStart', space_token);
    const body = parseWith(limitsPatchSchema, request.body, 'body');
    const patch: Partial<Limits> = {
      ...(body.plan ? planLimits(body.plan) : {}),
      ...(body.calls_per_minute !== undefined ? { callsPerMinute: body.calls_per_minute } : {}),
      ...(body.tasks_per_day !== undefined ? { tasksPerDay: body.tasks_per_day } : {}),
      ...(body.concurrency !== undefined ? { concurrency: body.concurrency } : {}),
      ...(body.reserved !== undefined ? { reserved: body.reserved } : {}),
    };
    const account = accountOf(principal);
    const now = (await limiterState(temporal, account))?.limits ?? DEFAULT_LIMITS;
    const next = { ...now, ...patch };
    if (next.reserved >= next.concurrency)
      throw new BadRequestError(
        'invalid_limits',
        `invalid limits: reserved (${next.reserved}) must be less than concurrency (${next.concurrency}), else no call can start`,
      );
    try {
      await setLimits(temporal, taskQueue, account, patch);
    } catch (err) {
      // The limiter's validator refused the limits (e.g. reserved >= concurrency): its message says why.
      if (err instanceof LimitsError)
        throw new BadRequestError('invalid_limits', `invalid limits: ${err.message}`);
      if (err instanceof WorkflowUpdateFailedError)
        throw new BadRequestError('invalid_limits', `invalid limits: ${err.cause?.message ?? err.message}`);
      throw err;
    }
    return sendEnvelope(reply, 200, 'Limits Changed Successfully', await view(account), 1);
  });
};
