/**
 * accountLimiterWorkflow (`limiter-<account>`): the plan limits of one account, across every campaign of it.
 * Limits change live through the `setLimits` update.
 *
 * Lean protocol (runs of 0.3): the limiter splits the limits into shares, one per running campaign, and hears of a
 * campaign only when what it could use changes (account-shares.ts); campaigns grant their tasks' permits.
 * 0.2 protocol (kept for limiters and runs started by 0.2): tasks ask for each permit by signal (limiter-core.ts).
 * A 0.2 limiter that a lean campaign calls on hands over to the lean protocol as soon as it holds no permit.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  makeContinueAsNewFunc,
  patched,
  setHandler,
  upsertMemo,
} from '@temporalio/workflow';
import {
  campaignDemandSignal,
  shareAllocationSignal,
  type CampaignDemand,
  campaignLimitSettingsSignal,
  limiterStateQuery,
  MEMO_LIMITER_VIEW,
  setLimitsUpdate,
  type LimiterInput,
  type LimiterView,
  permitSignals,
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
  type PumpResult,
  validateLimits,
} from './limiter-core';
import { shouldContinueAsNew } from './history';
import { allocate, hear, initialShares, nextWake, dayOf } from './account-shares';

/** The patch that marks a limiter started on the lean protocol. */
export const LEAN_LIMITER_PATCH = 'lean-limiter';
/**
 * Lean limiters with this patch publish their view as a memo (at most every VIEW_MEMO_MS, at once when the
 * limits change), so readers never query the limiter (see MEMO_PROGRESS on why).
 */
export const LIMITER_MEMO_PATCH = 'lean-limiter-memo';
/** The patch that carries a 0.2 limiter's `told` across continue-as-new (after 0.3.1). */
export const LIMITER_TOLD_PATCH = 'limiter-told-carried';
/** The patch under which a limiter started anew lets each run keep its share while it settles (after 0.3.1). */
export const SETTLE_KEEPS_PATCH = 'settle-keeps-share';
const VIEW_MEMO_MS = 2_000;

export async function accountLimiterWorkflow(input: LimiterInput): Promise<void> {
  // Carried state says which protocol a continued limiter speaks; a new one speaks the lean protocol.
  if (input.shares || input.demands) return sharesLimiter(input);
  if (input.state || !patched(LEAN_LIMITER_PATCH)) return permitLimiter(input);
  return sharesLimiter(input);
}

/** The lean protocol: shares per campaign. */
async function sharesLimiter(input: LimiterInput): Promise<void> {
  const publishes = patched(LIMITER_MEMO_PATCH);
  const s =
    input.shares ??
    initialShares(
      { ...DEFAULT_LIMITS, ...input.limits, version: 0 },
      input.settleMs ? Date.now() + input.settleMs : 0,
    );
  let continuedAsNew = input.continuedAsNew ?? 0;
  let dirty = true;
  let unpublished = true;
  let publishedAt = 0;
  let publishedVersion = -1;
  const sends = new Set<Promise<void>>();
  for (const d of input.demands ?? []) hear(s, d, Date.now());
  setHandler(campaignDemandSignal, (d) => {
    hear(s, d, Date.now());
    dirty = true;
    unpublished = true;
  });
  setHandler(
    setLimitsUpdate,
    (patch) => {
      s.limits = { ...s.limits, ...patch, version: Math.max(s.limits.version + 1, Date.now()) };
      dirty = true;
      unpublished = true;
      return s.limits;
    },
    { validator: validateLimits },
  );
  setHandler(limiterStateQuery, view);
  function view(): LimiterView {
    const l = s.limits;
    const now = Date.now();
    const day = dayOf(l, now);
    const used = s.campaigns.reduce((a, c) => a + (c.day.key === day.key ? c.day.used : 0), 0);
    const quota = s.campaigns.reduce((a, c) => a + (c.day.key === day.key ? c.day.quota : 0), 0);
    const dayWants = s.campaigns.reduce((a, c) => a + c.dayWants, 0);
    const queuedByCampaign: Record<string, number> = {};
    for (const c of s.campaigns) if (c.wants > c.held) queuedByCampaign[c.id] = c.wants - c.held;
    return {
      accountId: input.accountId,
      limits: l,
      inUse: s.campaigns.reduce((a, c) => a + c.held, 0),
      capacity: Math.max(0, l.concurrency - l.reserved),
      queued: Object.values(queuedByCampaign).reduce((a, b) => a + b, 0),
      queuedByCampaign,
      dialsInLastWindow: s.campaigns.reduce((a, c) => a + c.tokens, 0),
      tasksToday: used,
      dayBlocked:
        l.tasksPerDay !== null && quota >= l.tasksPerDay && dayWants > 0
          ? { count: dayWants, resetsAt: new Date(day.resetAt).toISOString() }
          : null,
      campaigns: s.campaigns.map((c) => ({
        id: c.id,
        weight: c.weight,
        cap: c.cap,
        served: 0,
        paused: c.paused,
      })),
      stats: {
        granted: (s.totals?.granted ?? 0) + s.campaigns.reduce((a, c) => a + (c.granted ?? 0), 0),
        released: (s.totals?.released ?? 0) + s.campaigns.reduce((a, c) => a + (c.released ?? 0), 0),
        expired: (s.totals?.expired ?? 0) + s.campaigns.reduce((a, c) => a + (c.expired ?? 0), 0),
        withdrawn: 0,
        waitMsTotal: 0,
        meanWaitMs: 0,
      },
      continuedAsNew,
      shares: s.campaigns.map((c) => ({
        campaign: c.id,
        slots: c.slots,
        rate: c.rate,
        held: c.held,
        wants: c.wants,
        dayQuota: c.day.quota,
      })),
    };
  }
  /** The memo, when the limits changed, or when anything changed and the interval has passed. */
  function publish(): void {
    if (!publishes || !unpublished) return;
    const now = Date.now();
    if (s.limits.version === publishedVersion && now - publishedAt < VIEW_MEMO_MS) return;
    upsertMemo({ [MEMO_LIMITER_VIEW]: view() });
    publishedAt = now;
    publishedVersion = s.limits.version;
    unpublished = false;
  }

  for (;;) {
    dirty = false;
    // Asked only while settling: a limiter that never settles records no marker.
    const keepWhileSettling = Date.now() < s.settleUntil && patched(SETTLE_KEEPS_PATCH);
    for (const { to, alloc } of allocate(s, Date.now(), { keepWhileSettling })) {
      const p = getExternalWorkflowHandle(to)
        .signal(shareAllocationSignal, alloc)
        .catch((err: unknown) => log.warn('could not send a share', { to, error: String(err) }));
      sends.add(p);
      void p.finally(() => sends.delete(p));
    }
    if (shouldContinueAsNew()) {
      await Promise.all([...sends]);
      await condition(allHandlersFinished);
      continuedAsNew++;
      const next = { accountId: input.accountId, shares: s, continuedAsNew };
      if (!publishes) await continueAsNew<typeof accountLimiterWorkflow>(next);
      // The view goes with the new run, so a reader never finds none while it starts.
      await makeContinueAsNewFunc<typeof accountLimiterWorkflow>({ memo: { [MEMO_LIMITER_VIEW]: view() } })(
        next,
      );
    }
    publish();
    const shareWake = nextWake(s, Date.now());
    const memoWake = publishes && unpublished ? publishedAt + VIEW_MEMO_MS : null;
    const wake =
      shareWake === null ? memoWake : memoWake === null ? shareWake : Math.min(shareWake, memoWake);
    await condition(
      () => dirty || shouldContinueAsNew(),
      wake === null ? undefined : Math.max(1, wake - Date.now()),
    );
  }
}

/** The 0.2 protocol: a permit per call. */
async function permitLimiter(input: LimiterInput): Promise<void> {
  const s = input.state ?? initialState({ ...DEFAULT_LIMITS, ...input.limits });
  let continuedAsNew = input.continuedAsNew ?? 0;
  let dirty = true;
  let last: PumpResult | null = null;
  /** Day-blocked requests already told so, so each hears it once (in this run and the ones it continues as). */
  const told = new Set<string>(input.told);
  const sends = new Set<Promise<void>>();
  const touch = () => void (dirty = true);

  setHandler(permitSignals.request, (r) => {
    if (request(s, { ...r, requestedAt: Date.now() })) touch();
  });
  setHandler(permitSignals.dialed, ({ id }) => {
    // This workflow's clock when the report arrives: at or after the real dial, so the window is safe.
    if (dialed(s, id, Date.now())) touch();
  });
  setHandler(permitSignals.release, ({ id, unused }) => {
    if (release(s, id, Date.now(), unused === true)) touch();
  });
  setHandler(permitSignals.withdraw, ({ id }) => {
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

  /** Lean campaigns calling on this limiter: it hands over to the lean protocol once it holds no permit. */
  const demands = new Map<string, CampaignDemand>();
  setHandler(campaignDemandSignal, (d) => {
    demands.set(d.campaign, d);
    touch();
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
          .signal(permitSignals.granted, msg)
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
            .signal(permitSignals.waiting, {
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
      // A run recorded by 0.3.1 or earlier went on without them: its next run told each waiting request once more.
      const queued = new Set(s.queue.map((r) => r.id));
      const carried = patched(LIMITER_TOLD_PATCH) ? { told: [...told].filter((id) => queued.has(id)) } : {};
      await continueAsNew<typeof accountLimiterWorkflow>({ ...input, state: s, continuedAsNew, ...carried });
    }
    if (demands.size > 0 && s.queue.length === 0 && s.leases.length === 0) {
      await Promise.all([...sends]);
      await condition(allHandlersFinished);
      await continueAsNew<typeof accountLimiterWorkflow>({
        accountId: input.accountId,
        limits: s.limits,
        demands: [...demands.values()],
      });
    }
    const waitMs = result.wakeAt === null ? undefined : Math.max(1, result.wakeAt - Date.now());
    await condition(() => dirty || shouldContinueAsNew(), waitMs);
  }
}
