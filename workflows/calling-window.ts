/**
 * Calling windows in a contact's own time zone: pure and deterministic (Intl only, no Node built-ins), so the
 * call task runs it inside the workflow sandbox and tests call it directly.
 *
 * A window is a set of weekly occurrences: on each local date D whose weekday is in `days`, from `start` on D to
 * `end` on D (or on D+1 when `end` <= `start`: an overnight window belongs to the day it starts on; `start` ===
 * `end` is the whole day). Local times become instants by these rules:
 * - a local time that does not exist (inside a spring-forward gap) is the first valid instant after it, i.e.
 *   the moment of the change (a 02:30 start on the US spring-forward day opens at 03:00 EDT);
 * - a local time that exists twice (fall-back) is its first occurrence.
 * An instant is inside the window when it lies in an occurrence, half-open [start, end), and its local date is
 * not a blackout date (a blackout date also cuts the tail of an overnight window that runs into it).
 */

import { assertTimezone, localParts } from './day-window';

export interface CallingWindow {
  /** Weekdays the window opens on, 0 = Sunday … 6 = Saturday. Empty: the window never opens. */
  days: number[];
  /** 'HH:MM' local time the window opens. */
  start: string;
  /** 'HH:MM' local time it closes ('24:00' allowed); at or before `start`: the next day (overnight). */
  end: string;
  /** 'YYYY-MM-DD' dates in the contact's zone on which nobody is called. */
  blackoutDates?: string[];
}

/** How far ahead nextWindowOpening looks before it gives up (null). */
export const MAX_LOOKAHEAD_DAYS = 400;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

// ---------- zone arithmetic ----------

/** True when Intl knows the IANA zone. */
export function isValidTimeZone(zone: string): boolean {
  try {
    assertTimezone(zone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock time of an instant, as a number of ms since 1970-01-01T00:00 "local" (UTC arithmetic). */
export function wallClock(zone: string, atMs: number): number {
  const l = localParts(zone, atMs);
  const wall = Date.UTC(l.y, l.m - 1, l.d, l.h % 24, l.mi, l.s);
  return wall + (((atMs % 1000) + 1000) % 1000);
}

/**
 * The instant a local wall-clock time (ms, as from `Date.UTC(y, m - 1, d, h, mi)`) denotes in `zone`: its first
 * occurrence when it exists twice, the first valid instant after it when it does not exist.
 */
export function wallToInstant(zone: string, wall: number): number {
  // Offsets a day either side bracket any transition near `wall` (zones change at most twice a year).
  const offBefore = wallClock(zone, wall - DAY_MS) - (wall - DAY_MS);
  const offAfter = wallClock(zone, wall + DAY_MS) - (wall + DAY_MS);
  const candidates = [wall - offBefore, wall - offAfter].sort((a, b) => a - b);
  for (const c of candidates) if (wallClock(zone, c) === wall) return c; // earliest valid occurrence
  // In a gap: the first instant whose wall clock is at or after `wall` (the moment of the change).
  let lo = candidates[0]!;
  let hi = candidates[1]!;
  if (wallClock(zone, hi) < wall) return hi; // not bracketed: cannot happen with real zone data
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (wallClock(zone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---------- window parsing ----------

const HHMM = /^(\d{2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function minutesOf(value: string): number | null {
  const m = HHMM.exec(value);
  if (!m) return null;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  if (mi > 59 || h > 24 || (h === 24 && mi !== 0)) return null;
  return h * 60 + mi;
}

/** Every problem with a window, each naming the field; empty when the window is usable. */
export function validateCallingWindow(window: CallingWindow): string[] {
  const problems: string[] = [];
  if (!Array.isArray(window.days))
    problems.push('days: must be an array of weekdays 0 (Sunday) … 6 (Saturday)');
  else
    for (const d of window.days)
      if (!Number.isInteger(d) || d < 0 || d > 6)
        problems.push(`days: ${String(d)} is not a weekday 0 (Sunday) … 6 (Saturday)`);
  const start = minutesOf(window.start);
  if (start === null || start === 1440)
    problems.push(`start: '${window.start}' is not a time HH:MM (00:00–23:59)`);
  if (minutesOf(window.end) === null) problems.push(`end: '${window.end}' is not a time HH:MM (00:00–24:00)`);
  for (const b of window.blackoutDates ?? []) {
    const m = DATE.exec(b);
    const t = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) : NaN;
    if (!m || new Date(t).getUTCDate() !== +m[3]! || new Date(t).getUTCMonth() !== +m[2]! - 1)
      problems.push(`blackoutDates: '${b}' is not a date YYYY-MM-DD`);
  }
  return problems;
}

interface Parsed {
  days: ReadonlySet<number>;
  startMin: number;
  /** Minutes after the start day's midnight; > startMin, at most 1440 + startMin. */
  endMin: number;
  blackout: ReadonlySet<string>;
}

function parse(window: CallingWindow): Parsed {
  const problems = validateCallingWindow(window);
  if (problems.length) throw new RangeError(`invalid calling window: ${problems.join('; ')}`);
  const startMin = minutesOf(window.start)!;
  let endMin = minutesOf(window.end)!;
  if (endMin <= startMin) endMin += 1440;
  return { days: new Set(window.days), startMin, endMin, blackout: new Set(window.blackoutDates ?? []) };
}

/** 'YYYY-MM-DD' of a local-midnight wall value. */
function dateKey(dayWall: number): string {
  return new Date(dayWall).toISOString().slice(0, 10);
}

function localMidnight(zone: string, atMs: number): number {
  const w = wallClock(zone, atMs);
  return w - (((w % DAY_MS) + DAY_MS) % DAY_MS);
}

/** The occurrence that starts on the local date `dayWall` (a local midnight), as instants [start, end). */
function occurrence(p: Parsed, zone: string, dayWall: number): [number, number] | null {
  if (!p.days.has(new Date(dayWall).getUTCDay())) return null;
  return [
    wallToInstant(zone, dayWall + p.startMin * MINUTE_MS),
    wallToInstant(zone, dayWall + p.endMin * MINUTE_MS),
  ];
}

function blackedOut(p: Parsed, zone: string, atMs: number): boolean {
  return p.blackout.size > 0 && p.blackout.has(dateKey(localMidnight(zone, atMs)));
}

function inside(p: Parsed, zone: string, atMs: number): boolean {
  if (p.days.size === 0 || blackedOut(p, zone, atMs)) return false;
  const today = localMidnight(zone, atMs);
  for (const day of [today - DAY_MS, today]) {
    const occ = occurrence(p, zone, day);
    if (occ && occ[0] <= atMs && atMs < occ[1]) return true;
  }
  return false;
}

// ---------- the API ----------

/** Whether a call may start at `atMs` for a contact in `zone`. Throws RangeError on an invalid window or zone. */
export function isInsideWindow(window: CallingWindow, zone: string, atMs: number): boolean {
  return inside(parse(window), zone, atMs);
}

/**
 * The earliest instant >= fromMs at which a call may start for a contact in `zone`, or null when the window does
 * not open within MAX_LOOKAHEAD_DAYS (no days, or every opening blacked out). Throws RangeError on an invalid
 * window or zone.
 */
export function nextWindowOpening(window: CallingWindow, zone: string, fromMs: number): number | null {
  const p = parse(window);
  if (p.days.size === 0) return null;
  if (inside(p, zone, fromMs)) return fromMs;
  const first = localMidnight(zone, fromMs) - DAY_MS;
  for (let i = 0; i <= MAX_LOOKAHEAD_DAYS + 1; i++) {
    const day = first + i * DAY_MS;
    const occ = occurrence(p, zone, day);
    if (!occ || occ[1] <= fromMs) continue;
    let at = Math.max(occ[0], fromMs);
    // A blackout date inside the occurrence: try from the next local midnight (an occurrence spans <= 2 dates).
    for (let hop = 0; hop < 3 && at < occ[1]; hop++) {
      if (!blackedOut(p, zone, at)) return at;
      at = wallToInstant(zone, localMidnight(zone, at) + DAY_MS);
    }
  }
  return null;
}

/** The zone a contact is called in: its own (from the CSV, or derived from its number at ingestion), else the campaign's. */
export function windowZone(contactZone: string | undefined, campaignZone: string | undefined): string {
  if (contactZone && isValidTimeZone(contactZone)) return contactZone;
  if (campaignZone && isValidTimeZone(campaignZone)) return campaignZone;
  return 'UTC';
}

export type PastCallAt = 'call' | 'skip';

export type AttemptPlan =
  { kind: 'at'; atMs: number } | { kind: 'skip'; reason: string } | { kind: 'expired'; reason: string };

/**
 * When a contact's first attempt may happen, from its own call time. `callAt` already before `referenceMs` (pass
 * the run's creation time, so a task started late because the run's window of open tasks was full is not
 * "past") is called at once (`pastCallAt: 'call'`) or skipped (`'skip'`).
 */
export function firstAttemptTime(
  callAt: string | undefined,
  nowMs: number,
  referenceMs: number,
  pastCallAt: PastCallAt = 'call',
): AttemptPlan {
  if (callAt === undefined) return { kind: 'at', atMs: nowMs };
  const t = Date.parse(callAt);
  if (Number.isNaN(t)) return { kind: 'at', atMs: nowMs };
  if (t < referenceMs) {
    return pastCallAt === 'skip'
      ? { kind: 'skip', reason: `call_at ${callAt} had already passed when the run started` }
      : { kind: 'at', atMs: nowMs };
  }
  return { kind: 'at', atMs: Math.max(t, nowMs) };
}

/**
 * When an attempt wanted at `earliestMs` (now, the contact's call time, or now + the retry delay) may start: the
 * next window opening in the contact's zone, or `expired` when that is at or after the campaign's deadline.
 */
export function planAttempt(o: {
  window?: CallingWindow | undefined;
  zone: string;
  earliestMs: number;
  deadlineMs?: number | undefined;
}): AttemptPlan {
  if (o.deadlineMs !== undefined && o.earliestMs >= o.deadlineMs)
    return { kind: 'expired', reason: `deadline ${new Date(o.deadlineMs).toISOString()} passed` };
  const at = o.window ? nextWindowOpening(o.window, o.zone, o.earliestMs) : o.earliestMs;
  if (at === null) return { kind: 'expired', reason: `the calling window never opens in ${o.zone}` };
  if (o.deadlineMs !== undefined && at >= o.deadlineMs)
    return {
      kind: 'expired',
      reason: `the calling window in ${o.zone} does not open again before the deadline ${new Date(o.deadlineMs).toISOString()}`,
    };
  return { kind: 'at', atMs: at };
}
