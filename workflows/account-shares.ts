/**
 * The account limiter's shares (lean protocol), pure and deterministic: run by accountLimiterWorkflow,
 * unit-tested directly. The account's limits are split among its running campaigns, which grant their own tasks'
 * permits; the limiter hears of a campaign when what it could use changes (and on a heartbeat), never of a call.
 *
 * Nothing is ever over-committed while a share moves: a campaign may go on using the larger of what it was given
 * until it says it has applied a cut (it acknowledges the allocation's seq), slots stay counted while it still
 * holds them, and rate it gave up is handed to another campaign only one window after the cut was applied, since
 * the dials it made before still sit in the window. Tasks/day is handed out in quotas per day; a campaign's quota
 * never falls below what it counted.
 */
import { dayWindow } from './day-window';
import type { CampaignDemand, ShareAllocation } from './definitions';
import type { Limits } from './limiter-core';

export type VersionedLimits = Limits & { version: number };

export interface ShareEntry {
  id: string;
  workflowId: string;
  weight: number;
  cap: number | null;
  paused: boolean;
  wants: number;
  held: number;
  tokens: number;
  seenSeq: number;
  lastHeard: number;
  /** Sent: the current allocation. */
  slots: number;
  rate: number;
  sentSeq: number;
  /** The most it may still use until it acknowledges the last cut. */
  usableSlots: number;
  usableRate: number;
  day: { key: string; quota: number; used: number };
  dayWants: number;
  expired?: number;
  granted?: number;
  released?: number;
}

/** Plain data: carried across continue-as-new. */
export interface ShareState {
  limits: VersionedLimits;
  campaigns: ShareEntry[];
  /** Rate given up by a campaign, free for the others from `at`: [amount, at]. */
  returns: [number, number][];
  seq: number;
  /** Campaigns that said they are done: a late demand of theirs never brings them back. [id, at] */
  gone: [string, number][];
  /** Until then, a limiter started anew hands out no more than campaigns report holding (others may report). */
  settleUntil: number;
  stats: { allocations: number; demands: number; dropped: number };
  /** Permit counts of campaigns that are done (theirs are summed from their demands while they run). */
  totals?: { granted: number; released: number; expired: number };
}

/** A campaign not heard of for this long is gone (terminated without saying so): its share is taken back. */
export const SILENT_CAMPAIGN_MS = 5 * 60_000;
/** How often a campaign repeats its demand when nothing changed. */
export const DEMAND_HEARTBEAT_MS = 30_000;

export function initialShares(limits: VersionedLimits, settleUntil = 0): ShareState {
  return {
    limits,
    campaigns: [],
    returns: [],
    gone: [],
    seq: 0,
    settleUntil,
    stats: { allocations: 0, demands: 0, dropped: 0 },
  };
}

export function dayOf(l: Limits, at: number) {
  return dayWindow(at, { dayMs: l.dayMs ?? undefined, epoch: 0, timezone: l.timezone });
}

function capacity(l: Limits): number {
  return Math.max(0, l.concurrency - l.reserved);
}

/** Takes a campaign's demand in. A campaign first heard of keeps what it says it was given until it applies ours. */
export function hear(s: ShareState, d: CampaignDemand, now: number): void {
  s.stats.demands++;
  if (d.limits && d.limits.version > s.limits.version) s.limits = { ...d.limits };
  s.gone ??= [];
  if (s.gone.some(([id]) => id === d.campaign)) return;
  let c = s.campaigns.find((x) => x.id === d.campaign);
  if (d.done) {
    s.gone.push([d.campaign, now]);
    if (s.gone.length > 500) s.gone = s.gone.slice(-500);
    if (c) {
      // What it dialed in the last window still counts for one window; the rest of its rate is free now.
      if (d.tokens > 0) s.returns.push([d.tokens, now + s.limits.windowMs]);
      const t = (s.totals ??= { granted: 0, released: 0, expired: 0 });
      t.granted += d.granted ?? 0;
      t.released += d.released ?? 0;
      t.expired += d.expired ?? 0;
      s.campaigns = s.campaigns.filter((x) => x !== c);
    }
    return;
  }
  const key = dayOf(s.limits, now).key;
  // What each demand says afresh; a campaign first heard of starts from it too.
  const reported = {
    workflowId: d.workflowId,
    weight: d.weight,
    cap: d.cap,
    paused: d.paused,
    wants: d.wants,
    held: d.held,
    tokens: d.tokens,
    lastHeard: now,
    dayWants: d.dayWants,
    expired: d.expired ?? 0,
    granted: d.granted ?? 0,
    released: d.released ?? 0,
  };
  if (!c) {
    c = {
      id: d.campaign,
      ...reported,
      seenSeq: d.seenSeq,
      slots: 0,
      rate: 0,
      sentSeq: 0,
      usableSlots: Math.max(d.held, d.allocSlots),
      usableRate: Math.max(d.tokens, d.allocRate),
      day: { key, quota: 0, used: 0 },
    };
    s.campaigns.push(c);
  } else Object.assign(c, reported);
  if (d.seenSeq >= c.sentSeq && d.seenSeq > c.seenSeq) {
    // It applied our last allocation: what it gave up is free, but for its tokens beyond its new rate (dials
    // still in the window, permits not yet dialed), which are free one window from now.
    const aging = Math.min(c.usableRate - c.rate, Math.max(0, d.tokens - c.rate));
    if (aging > 0) s.returns.push([aging, now + s.limits.windowMs]);
    c.usableRate = c.rate;
    c.usableSlots = c.slots;
  }
  c.seenSeq = Math.max(c.seenSeq, d.seenSeq);
  if (c.day.key !== key) c.day = { key, quota: 0, used: 0 };
  if (d.day && d.day.key === key) {
    c.day.used = Math.max(c.day.used, d.day.used);
    c.day.quota = Math.max(c.day.quota, c.day.used);
  }
}

/** Splits `total` over entries by weight, none above its need (water-filling); integers. */
function waterFill(total: number, needs: { weight: number; need: number }[]): number[] {
  const out = needs.map(() => 0);
  let left = total;
  let open = needs.map((_, i) => i).filter((i) => needs[i]!.need > 0);
  while (left > 0 && open.length > 0) {
    const w = open.reduce((a, i) => a + Math.max(needs[i]!.weight, 1e-9), 0);
    let given = 0;
    for (const i of open) {
      const share = Math.max(1, Math.floor((left * Math.max(needs[i]!.weight, 1e-9)) / w));
      const g = Math.min(share, needs[i]!.need - out[i]!, left - given);
      out[i]! += g;
      given += g;
      if (given >= left) break;
    }
    if (given === 0) break;
    left -= given;
    open = open.filter((i) => out[i]! < needs[i]!.need);
  }
  return out;
}

/** Targets for the runs without a need of their own: what they have, as far as the others left it. */
function keepLeftover(total: number, current: number[], fill: number[]): number[] {
  let left = total - fill.reduce((a, b) => a + b, 0);
  return fill.map((f, i) => {
    if (f > 0) return f;
    const keep = Math.min(current[i]!, Math.max(0, left));
    left -= keep;
    return keep;
  });
}

/**
 * Computes every campaign's share and returns the allocations to send (those that changed).
 *
 * `keepWhileSettling` (limiters that recorded the `settle-keeps-share` patch): while a limiter started anew
 * settles, each run keeps the share it says the lost limiter gave it. Those shares summed to no more than the
 * plan, and a run not yet heard from still uses its own. Before, a run kept only the slots it held and no rate at
 * all, so every run of the account stopped dialing until the settling ended (35 s).
 */
export function allocate(
  s: ShareState,
  now: number,
  o: { keepWhileSettling?: boolean } = {},
): { to: string; alloc: ShareAllocation }[] {
  const l = s.limits;
  for (const c of s.campaigns.filter((x) => now - x.lastHeard > SILENT_CAMPAIGN_MS)) {
    s.stats.dropped++;
    s.returns.push([Math.max(c.usableRate, c.rate), now + l.windowMs]);
  }
  s.campaigns = s.campaigns.filter((x) => now - x.lastHeard <= SILENT_CAMPAIGN_MS);
  s.returns = s.returns.filter(([, at]) => at > now);
  const settling = now < s.settleUntil;
  const cs = s.campaigns;

  // Slots: what each could use (a paused run only what it holds), by weight; rate: among the runs with
  // something to dial. What nobody else needs stays where it is, so a run between dials keeps its share.
  const slotTarget = keepLeftover(
    capacity(l),
    cs.map((c) => c.slots),
    waterFill(
      capacity(l),
      cs.map((c) => ({
        weight: c.weight,
        need: Math.min(c.paused ? c.held : Math.max(c.wants, c.held), c.cap ?? Infinity),
      })),
    ),
  );
  const rateTarget = keepLeftover(
    l.callsPerMinute,
    cs.map((c) => c.rate),
    waterFill(
      l.callsPerMinute,
      cs.map((c) => ({ weight: c.weight, need: !c.paused && c.wants > c.held ? l.callsPerMinute : 0 })),
    ),
  );

  const changed = new Set<ShareEntry>();
  const keeps = settling && o.keepWhileSettling === true;
  cs.forEach((c, i) => {
    if (keeps) return; // no cuts while settling either: each keeps what it had
    if (slotTarget[i]! < c.slots) {
      c.usableSlots = Math.max(c.usableSlots, c.slots);
      c.slots = slotTarget[i]!;
      changed.add(c);
    }
    if (rateTarget[i]! < c.rate) {
      c.usableRate = Math.max(c.usableRate, c.rate);
      c.rate = rateTarget[i]!;
      changed.add(c);
    }
  });
  const committedSlots = () => cs.reduce((a, c) => a + Math.max(c.slots, c.held, c.usableSlots), 0);
  const committedRate = () =>
    cs.reduce((a, c) => a + Math.max(c.rate, c.usableRate), 0) + s.returns.reduce((a, [n]) => a + n, 0);
  cs.forEach((c, i) => {
    // Growing only into what is free: the campaign's own committed part plus the account's unused rest.
    const slotCeiling = keeps
      ? Math.max(c.slots, c.held, c.usableSlots)
      : settling
        ? Math.max(c.slots, c.held)
        : slotTarget[i]!;
    if (slotCeiling > c.slots) {
      const mine = Math.max(c.slots, c.held, c.usableSlots);
      const next = Math.min(slotCeiling, mine + Math.max(0, capacity(l) - committedSlots()));
      if (next > c.slots) {
        c.slots = next;
        c.usableSlots = Math.max(c.usableSlots, next);
        changed.add(c);
      }
    }
    const rateCeiling = keeps ? Math.max(c.rate, c.usableRate) : settling ? c.rate : rateTarget[i]!;
    if (rateCeiling > c.rate) {
      const mine = Math.max(c.rate, c.usableRate);
      const next = Math.min(rateCeiling, mine + Math.max(0, l.callsPerMinute - committedRate()));
      if (next > c.rate) {
        c.rate = next;
        c.usableRate = Math.max(c.usableRate, next);
        changed.add(c);
      }
    }
  });

  // Tasks per day: quotas handed out in chunks as runs want them.
  const day = dayOf(l, now);
  if (l.tasksPerDay !== null) {
    for (const c of cs) if (c.day.key !== day.key) c.day = { key: day.key, quota: 0, used: 0 };
    for (const c of cs) {
      if (c.dayWants <= 0 || settling) continue;
      const given = cs.reduce((a, x) => a + Math.max(x.day.quota, x.day.used), 0);
      const left = l.tasksPerDay - given;
      const more = Math.min(left, c.dayWants);
      if (more > 0) {
        c.day.quota += more;
        c.dayWants -= more;
        changed.add(c);
      }
    }
  }

  const out: { to: string; alloc: ShareAllocation }[] = [];
  for (const c of changed) {
    s.seq = Math.max(s.seq + 1, now * 1000);
    c.sentSeq = s.seq;
    s.stats.allocations++;
    out.push({
      to: c.workflowId,
      alloc: {
        seq: s.seq,
        slots: c.slots,
        rate: c.rate,
        day:
          l.tasksPerDay === null
            ? null
            : {
                key: day.key,
                quota: c.day.quota,
                resetAt: day.resetAt,
                full: cs.reduce((a, x) => a + Math.max(x.day.quota, x.day.used), 0) >= l.tasksPerDay,
              },
        limits: { ...l },
      },
    });
  }
  return out;
}

/** When to look again with nothing heard: a rate return falls due, settling ends, a campaign falls silent. */
export function nextWake(s: ShareState, now: number): number | null {
  const times = s.returns.map(([, at]) => at);
  if (s.settleUntil > now) times.push(s.settleUntil);
  for (const c of s.campaigns) times.push(c.lastHeard + SILENT_CAMPAIGN_MS + 1);
  if (s.limits.tasksPerDay !== null && s.campaigns.some((c) => c.dayWants > 0))
    times.push(dayOf(s.limits, now).resetAt);
  return times.length ? Math.min(...times) : null;
}
