/**
 * The campaign's permits (lean protocol), pure and deterministic: run by campaignWorkflow, unit-tested directly.
 * The account limiter gives the campaign a share (slots, dials per window, tasks it may count today); the campaign
 * grants its tasks permits from that share, so a call costs the account's limiter nothing.
 *
 * - concurrent calls: a permit holds a slot from its grant until the task gives it back (its attempt ended, or
 *   nothing was dialed). The task's report is durable (the mailbox activity is retried), so no slot needs a lease
 *   that could expire under a live call.
 * - calls per window: a permit holds a rate token from its grant until one window after its dial. The task may
 *   dial only until `dialBy`; a dial it never reported counts as made at `dialBy` (or at its release, if sooner),
 *   the latest it can have been. So no window of `windowMs` ever holds more dials than tokens, however late a dial.
 * - tasks per day: a task counts once on each day (the account's zone) it dials on; a permit that counts one is
 *   valid only until just before the day ends, so its dial cannot fall into the next.
 */
import { dayWindow } from './day-window';
import type { Limits } from './limiter-core';
import type { LeanPermit, ShareAllocation } from './definitions';

/** How long a task may take from its grant to its dial; after that the permit cannot be dialed on. */
export const DIAL_WINDOW_MS = 60_000;
/** A permit that counts a task toward tasks/day is not granted this close to the day's end. */
export const DAY_EDGE_MS = 5_000;

/** A held permit: [permitId, taskId, grantedAt, dialedAt (0: not reported), dialBy, day it counted ('': none)]. */
export type HeldPermit = [string, string, number, number, number, string];
/** A task waiting for a permit: [permitId, taskId, the day it last counted on ('' : none)]. */
export type WaitingPermit = [string, string, string];

/** Plain arrays and numbers: carried across continue-as-new. */
export interface PermitPool {
  held: HeldPermit[];
  /** Dial times (reported, or a safe later bound) still inside the window. */
  dials: number[];
  waiting: WaitingPermit[];
  /** Tasks this run counted on the limiter's current day: [dayKey, used]. */
  day: [string, number] | null;
  alloc: ShareAllocation | null;
  /** Permits taken back unreleased (their task vanished: terminated, say). */
  expired?: number;
  /** Permits granted and given back, for the account's stats. */
  granted?: number;
  released?: number;
}

export function emptyPool(): PermitPool {
  return { held: [], dials: [], waiting: [], day: null, alloc: null };
}

function dayOf(l: Limits, at: number) {
  return dayWindow(at, { dayMs: l.dayMs ?? undefined, epoch: 0, timezone: l.timezone });
}

/**
 * When a held permit is taken back unreleased: `leaseMs` after its dial (the reported one, else its dialBy, the
 * latest it can have been), by which time its task has hung up at the hard cap. Counting from the dial, never
 * from the grant, so a slot is never given twice while a late-dialed call may still be live.
 */
export function leaseEnd(h: HeldPermit, leaseMs: number): number {
  return (h[3] || h[4]) + leaseMs;
}

/**
 * Moves time on: a permit past its dialBy and unreported counts as dialed then; a permit past its lease is taken
 * back; old dials leave the window.
 */
export function prune(p: PermitPool, now: number, leaseMs = Infinity): void {
  const windowMs = p.alloc?.limits.windowMs ?? 60_000;
  for (const h of p.held) {
    if (h[3] === 0 && now > h[4]) {
      h[3] = h[4];
      p.dials.push(h[4]);
    }
  }
  const expired = p.held.filter((h) => leaseEnd(h, leaseMs) <= now);
  if (expired.length) {
    p.held = p.held.filter((h) => leaseEnd(h, leaseMs) > now);
    p.expired = (p.expired ?? 0) + expired.length;
  }
  const from = now - windowMs;
  if (p.dials.some((d) => d <= from)) p.dials = p.dials.filter((d) => d > from);
}

/** Rate tokens held now: permits not yet dialed, and dials within the last window. */
export function tokensHeld(p: PermitPool): number {
  return p.held.filter((h) => h[3] === 0).length + p.dials.length;
}

export interface Room {
  slots: number;
  tokens: number;
  /** Tasks that may still be counted today (Infinity: no daily limit). */
  dayLeft: number;
  /** When a token frees by time alone (the oldest dial leaves the window), if one is what is missing. */
  tokenAt: number | null;
}

/** What the share leaves free now (after prune). `cap`: the run's own concurrency cap. */
export function room(p: PermitPool, now: number, cap: number | null): Room {
  const a = p.alloc;
  if (!a) return { slots: 0, tokens: 0, dayLeft: 0, tokenAt: null };
  const slots = Math.max(0, Math.min(a.slots, cap ?? Infinity) - p.held.length);
  const tokens = Math.max(0, a.rate - tokensHeld(p));
  let dayLeft = Infinity;
  if (a.limits.tasksPerDay !== null) {
    const day = dayOf(a.limits, now);
    const used = p.day?.[0] === day.key ? p.day[1] : 0;
    dayLeft = a.day?.key === day.key ? Math.max(0, a.day.quota - used) : 0;
  }
  const undialed = p.held.filter((h) => h[3] === 0).map((h) => h[4] + a.limits.windowMs);
  const times = [...p.dials.map((d) => d + a.limits.windowMs), ...undialed];
  const tokenAt = tokens === 0 && times.length ? Math.min(...times) : null;
  return { slots, tokens, dayLeft, tokenAt };
}

/** The current day's key and end, when tasks/day is limited. */
export function today(p: PermitPool, now: number): { key: string; resetAt: number } | null {
  const l = p.alloc?.limits;
  if (!l || l.tasksPerDay === null) return null;
  const d = dayOf(l, now);
  return { key: d.key, resetAt: d.resetAt };
}

/** Whether a task that last counted on `countedDay` needs counting to dial now. */
export function needsCount(p: PermitPool, now: number, countedDay: string | null): boolean {
  const d = today(p, now);
  return d !== null && countedDay !== d.key;
}

/**
 * Grants a permit if the share has room for it now; null if not. A task counted already today does not need a
 * unit of the day; one that is not needs one and must dial before the day's edge.
 */
export function grant(
  p: PermitPool,
  req: { id: string; taskId: string; countedDay: string | null },
  now: number,
  cap: number | null,
): LeanPermit | null {
  if (p.held.some((h) => h[0] === req.id)) return null;
  const r = room(p, now, cap);
  if (r.slots < 1 || r.tokens < 1) return null;
  const d = today(p, now);
  let dayKey: string | null = null;
  let dialBy = now + DIAL_WINDOW_MS;
  if (d) {
    const dayMs = p.alloc!.limits.dayMs ?? 86_400_000;
    const edge = Math.min(DAY_EDGE_MS, dayMs / 20);
    // Any dial after the day's end would count on the next day, where this run did not count it.
    dialBy = Math.min(dialBy, d.resetAt - edge / 2);
    if (req.countedDay !== d.key) {
      if (r.dayLeft < 1 || d.resetAt - now < edge) return null;
      dayKey = d.key;
      p.day = p.day?.[0] === d.key ? [d.key, p.day[1] + 1] : [d.key, 1];
    } else if (d.resetAt - now < edge) return null;
  }
  p.held.push([req.id, req.taskId, now, 0, dialBy, dayKey ?? '']);
  p.granted = (p.granted ?? 0) + 1;
  return { id: req.id, grantedAt: now, dialBy, dayKey };
}

/** The task reported its dial (the worker's clock, after Unpod answered). */
export function dialed(p: PermitPool, id: string, at: number): void {
  const h = p.held.find((x) => x[0] === id);
  if (!h || h[3] !== 0) return;
  h[3] = Math.min(at, h[4]);
  p.dials.push(h[3]);
}

/**
 * The permit goes back. `unused`: nothing can have been dialed on it, so its token goes back too; otherwise an
 * unreported dial counts as made at `dialedAt`, or at the latest time it can have been made.
 */
export function release(
  p: PermitPool,
  id: string,
  now: number,
  opts: { unused?: boolean; dialedAt?: number } = {},
): boolean {
  const i = p.held.findIndex((x) => x[0] === id);
  if (i < 0) return false;
  const h = p.held.splice(i, 1)[0]!;
  p.released = (p.released ?? 0) + 1;
  if (h[3] === 0 && !opts.unused) p.dials.push(opts.dialedAt ?? Math.min(now, h[4]));
  // Never dialed: the task was not counted that day after all (Unpod counts a task at its create).
  if (h[3] === 0 && opts.unused && h[5] !== '' && p.day?.[0] === h[5]) p.day[1] = Math.max(0, p.day[1] - 1);
  return true;
}

/** A task's request for a permit, queued once. */
export function want(p: PermitPool, id: string, taskId: string, countedDay: string | null): void {
  if (p.held.some((h) => h[0] === id) || p.waiting.some((w) => w[0] === id)) return;
  p.waiting.push([id, taskId, countedDay ?? '']);
}

/** Drops a task's queued request (it ended, or withdrew); true if one was queued. */
export function unwant(p: PermitPool, taskId: string): boolean {
  const before = p.waiting.length;
  p.waiting = p.waiting.filter((w) => w[1] !== taskId);
  return p.waiting.length !== before;
}

/** Applies a newer allocation; an older one (delayed on its way) is ignored. */
export function applyAllocation(p: PermitPool, a: ShareAllocation): boolean {
  if (p.alloc && a.seq <= p.alloc.seq) return false;
  p.alloc = a;
  return true;
}
