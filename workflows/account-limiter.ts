/**
 * accountLimiterWorkflow (`limiter-<account>`): the plan limits of one account as workflow-level semaphores,
 * across every campaign of the account. Tasks ask by signal and are told by signal when they may dial, so nothing
 * polls; the state machine is the pure limiter-core. Limits change live through the `setLimits` update.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
} from '@temporalio/workflow';
import {
  campaignLimitSettingsSignal,
  limiterStateQuery,
  permitDialedSignal,
  permitGrantedSignal,
  permitReleaseSignal,
  permitRequestSignal,
  permitWaitingSignal,
  permitWithdrawSignal,
  setLimitsUpdate,
  type LimiterInput,
  type LimiterView,
} from './definitions';
import {
  DEFAULT_LIMITS,
  initialState,
  pump,
  dialed,
  release,
  removeCampaign,
  request,
  setCampaign,
  withdraw,
  type Limits,
  type PumpResult,
} from './limiter-core';
import { shouldContinueAsNew } from './history';

function validateLimits(l: Partial<Limits>): void {
  const positive = (name: keyof Limits) => {
    const v = l[name];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
      throw new Error(`${name} must be a positive integer, got ${String(v)}`);
    }
  };
  positive('callsPerMinute');
  positive('concurrency');
  positive('windowMs');
  if (l.tasksPerDay !== undefined && l.tasksPerDay !== null) positive('tasksPerDay');
  if (l.dayMs !== undefined && l.dayMs !== null) positive('dayMs');
  if (l.reserved !== undefined && (!Number.isInteger(l.reserved) || l.reserved < 0)) {
    throw new Error(`reserved must be a non-negative integer, got ${String(l.reserved)}`);
  }
  if (l.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: l.timezone });
    } catch {
      throw new Error(`timezone '${l.timezone}' is not an IANA zone`);
    }
  }
}

export async function accountLimiterWorkflow(input: LimiterInput): Promise<void> {
  const s = input.state ?? initialState({ ...DEFAULT_LIMITS, ...input.limits });
  let continuedAsNew = input.continuedAsNew ?? 0;
  let dirty = true;
  let last: PumpResult | null = null;
  /** Day-blocked requests already told so, so each hears it once. */
  const told = new Set<string>();
  const sends = new Set<Promise<void>>();
  const touch = () => void (dirty = true);

  setHandler(permitRequestSignal, (r) => {
    if (request(s, { ...r, requestedAt: Date.now() })) touch();
  });
  setHandler(permitDialedSignal, ({ id }) => {
    // This workflow's clock when the report arrives: at or after the real dial, so the window is safe.
    if (dialed(s, id, Date.now())) touch();
  });
  setHandler(permitReleaseSignal, ({ id, unused }) => {
    if (release(s, id, Date.now(), unused === true)) touch();
  });
  setHandler(permitWithdrawSignal, ({ id }) => {
    // Withdrawn while its grant was on the way: the permit, never used, goes back too.
    if (withdraw(s, id) || release(s, id, Date.now(), true)) touch();
    told.delete(id);
  });
  setHandler(campaignLimitSettingsSignal, (c) => {
    if (c.done) removeCampaign(s, c.campaign);
    else setCampaign(s, c.campaign, { weight: c.weight, cap: c.cap, paused: c.paused });
    touch();
  });
  setHandler(
    setLimitsUpdate,
    (patch) => {
      s.limits = { ...s.limits, ...patch };
      touch();
      return s.limits;
    },
    { validator: validateLimits },
  );
  setHandler(limiterStateQuery, (): LimiterView => {
    const now = Date.now();
    const queuedByCampaign: Record<string, number> = {};
    for (const r of s.queue) queuedByCampaign[r.campaign] = (queuedByCampaign[r.campaign] ?? 0) + 1;
    const windowStart = now - s.limits.windowMs;
    return {
      accountId: input.accountId,
      limits: s.limits,
      inUse: s.leases.length,
      capacity: Math.max(0, s.limits.concurrency - s.limits.reserved),
      queued: s.queue.length,
      queuedByCampaign,
      dialsInLastWindow: s.dials.filter((t) => t > windowStart && t <= now).length,
      tasksToday: s.days[s.days.length - 1]?.[1] ?? 0,
      dayBlocked: last?.dayBlocked
        ? { count: last.dayBlocked.count, resetsAt: new Date(last.dayBlocked.resetsAt).toISOString() }
        : null,
      campaigns: s.campaigns,
      stats: {
        ...s.stats,
        meanWaitMs: s.stats.granted ? Math.round(s.stats.waitMsTotal / s.stats.granted) : 0,
      },
      continuedAsNew,
    };
  });

  function send(p: Promise<void>): void {
    sends.add(p);
    void p.finally(() => sends.delete(p));
  }

  for (;;) {
    dirty = false;
    const result = pump(s, Date.now());
    last = result;
    for (const lease of result.expired) {
      log.warn('lease expired without release', { leaseId: lease.id, campaign: lease.campaign });
    }
    for (const g of result.grants) {
      told.delete(g.request.id);
      const msg = { id: g.lease.id, grantedAt: g.lease.grantedAt };
      send(
        getExternalWorkflowHandle(g.request.taskId)
          .signal(permitGrantedSignal, msg)
          .catch((err: unknown) => {
            // The task is gone (terminated, or finished some other way): its permit is free again.
            log.warn('could not deliver a grant; releasing it', { id: g.lease.id, error: String(err) });
            if (release(s, g.lease.id, Date.now(), true)) touch();
          }),
      );
    }
    if (result.dayBlocked) {
      for (const r of s.queue) {
        if (!r.firstAttempt || told.has(r.id)) continue;
        told.add(r.id);
        send(
          getExternalWorkflowHandle(r.taskId)
            .signal(permitWaitingSignal, {
              id: r.id,
              reason: 'tasks_per_day',
              resetsAt: result.dayBlocked.resetsAt,
            })
            .catch(() => undefined),
        );
      }
    }

    if (shouldContinueAsNew()) {
      await Promise.all([...sends]);
      await condition(allHandlersFinished);
      continuedAsNew++;
      await continueAsNew<typeof accountLimiterWorkflow>({ ...input, state: s, continuedAsNew });
    }
    const waitMs = result.wakeAt === null ? undefined : Math.max(1, result.wakeAt - Date.now());
    await condition(() => dirty || shouldContinueAsNew(), waitMs);
  }
}
