/**
 * The plan of a run before anything is dialed: when each of the first contacts will be called (its zone, the
 * calling window, its own call_at) and whether the least time the account's limits allow fits in the calling
 * window before the deadline. Pure: the preview route feeds it the ingestion summary and the limits.
 */
import { formatDuration, estimate, type Estimate } from '../campaign/limits';
import type { CampaignTiming } from '../../workflows/definitions';
import type { Contact } from '../contacts';
import {
  firstAttemptTime,
  isInsideWindow,
  nextWindowOpening,
  planAttempt,
  windowZone,
  type CallingWindow,
} from '../../workflows/calling-window';
import type { Limits } from '../../workflows/limiter-core';

export interface PlannedContact {
  line: number;
  phone: string;
  name: string | null;
  /** The zone the calling window is read in. */
  zone: string;
  /** When its first attempt may start (ISO), or null when it will not be called. */
  call_at: string | null;
  /** That time on the contact's own clock, e.g. "Mon 09:00". */
  call_at_local: string | null;
  /** Why it will not be called (past call_at with skip, deadline, a window that never opens). */
  note: string | null;
  metadata: Record<string, string>;
}

export function planContact(c: Contact, timing: CampaignTiming, nowMs: number): PlannedContact {
  const zone = windowZone(c.timezone, timing.timezone);
  const first = firstAttemptTime(c.callAt, nowMs, nowMs, timing.pastCallAt);
  const plan =
    first.kind === 'at'
      ? planAttempt({
          window: timing.callingWindow,
          zone,
          earliestMs: first.atMs,
          deadlineMs: timing.deadline ? Date.parse(timing.deadline) : undefined,
        })
      : first;
  const at = plan.kind === 'at' ? plan.atMs : null;
  return {
    line: c.line,
    phone: c.phone,
    name: c.name ?? null,
    zone,
    call_at: at === null ? null : new Date(at).toISOString(),
    call_at_local: at === null ? null : localTime(at, zone),
    note: plan.kind === 'at' ? null : plan.reason,
    metadata: c.metadata,
  };
}

function localTime(ms: number, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: '2-digit',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(ms);
}

export interface Fit {
  contacts: number;
  /** The least calling time the limits allow. */
  minimum_ms: number;
  bound_by: Estimate['boundBy'];
  calls_per_minute: number;
  concurrency: number;
  mean_call_ms: number;
  /** Days the tasks/day budget spreads the run over. */
  days: number;
  /** The zone the window is read in for this estimate. */
  zone: string;
  /** The earliest the run can finish, inside the calling window (null: the window never opens). */
  earliest_finish: string | null;
  deadline: string | null;
  /** False when the earliest finish is after the deadline. */
  fits: boolean;
  /** Calling time missing before the deadline (0 when it fits). */
  short_by_ms: number;
  message: string;
}

const MINUTE_MS = 60_000;
/** How far ahead the window is walked (the estimate says "more than 60 days" past it). */
const HORIZON_MS = 60 * 86_400_000;

/** Open window time from `fromMs` until `untilMs`, and the instant where `needMs` of open time is reached. */
function walkWindow(
  window: CallingWindow | undefined,
  zone: string,
  fromMs: number,
  needMs: number,
  untilMs: number,
): { finishMs: number | null; openBeforeMs: number } {
  if (!window) {
    return { finishMs: fromMs + needMs, openBeforeMs: Math.max(0, untilMs - fromMs) };
  }
  let t = fromMs;
  let done = 0;
  let openBefore = 0;
  let finish: number | null = null;
  const end = Math.max(untilMs, fromMs) + HORIZON_MS;
  while (t < end && (finish === null || t < untilMs)) {
    const open = nextWindowOpening(window, zone, t);
    if (open === null) break;
    // Walk the open stretch minute by minute (a window closes on a minute boundary of its zone).
    let close = open;
    while (close < open + 2 * 86_400_000 && isInsideWindow(window, zone, close)) close += MINUTE_MS;
    if (finish === null && done + (close - open) >= needMs) finish = open + (needMs - done);
    done += close - open;
    if (open < untilMs) openBefore += Math.min(close, untilMs) - open;
    t = close;
  }
  return { finishMs: finish, openBeforeMs: openBefore };
}

export function planFit(
  contacts: number,
  limits: Limits,
  timing: CampaignTiming,
  zone: string,
  nowMs: number,
  meanCallMs?: number,
): Fit {
  const e = estimate(contacts, limits, meanCallMs);
  const deadlineMs = timing.deadline ? Date.parse(timing.deadline) : null;
  const { finishMs, openBeforeMs } = walkWindow(
    timing.callingWindow,
    zone,
    nowMs,
    e.minimumMs,
    deadlineMs ?? nowMs,
  );
  const fits = deadlineMs === null || (finishMs !== null && finishMs <= deadlineMs);
  const shortBy = fits ? 0 : Math.max(0, e.minimumMs - openBeforeMs);
  const rate = `${limits.callsPerMinute} calls/min and ${limits.concurrency - limits.reserved} at once`;
  let message: string;
  if (contacts === 0) message = 'no contact to call';
  else if (finishMs === null)
    message = `the calling window does not give ${formatDuration(e.minimumMs)} of calling time within 60 days`;
  else if (!fits)
    message = `cannot finish by ${localTime(deadlineMs!, zone)} (${zone}) at ${rate}; needs ${formatDuration(shortBy)} more calling time`;
  else
    message =
      `needs at least ${formatDuration(e.minimumMs)} of calling at ${rate}; earliest finish ${localTime(finishMs, zone)} (${zone})` +
      (deadlineMs !== null ? `, before the deadline ${localTime(deadlineMs, zone)}` : '');
  return {
    contacts,
    minimum_ms: Math.round(e.minimumMs),
    bound_by: e.boundBy,
    calls_per_minute: limits.callsPerMinute,
    concurrency: limits.concurrency - limits.reserved,
    mean_call_ms: e.meanCallMs,
    days: e.days,
    zone,
    earliest_finish: finishMs === null ? null : new Date(finishMs).toISOString(),
    deadline: timing.deadline ?? null,
    fits,
    short_by_ms: Math.round(shortBy),
    message:
      e.days > 1
        ? `${message}; the ${limits.tasksPerDay} tasks/day budget spreads it over ${e.days} days`
        : message,
  };
}
