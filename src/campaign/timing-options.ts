/**
 * A campaign's timing from command-line (or API) values: the calling window (`--call-days mon-fri`,
 * `--call-hours 09:00-17:00`, `--blackout 2025-12-25,2026-01-01`), the campaign's zone, a deadline (an ISO
 * instant, or a duration counted from the run's start: what a recurring schedule needs), what to do with a
 * contact's call time already past, and a default remind_before. Pure; errors name the option.
 */
import {
  isValidTimeZone,
  validateCallingWindow,
  type CallingWindow,
  type PastCallAt,
} from '../../workflows/calling-window';
import type { CampaignTiming } from '../../workflows/definitions';
import type { DeadlineSpec } from '../../workflows/scheduled-input';
import { parseDuration } from '../contacts/durations';
import { AppError } from '../errors';
import { parseCallAt } from '../contacts/validate';

export class TimingOptionError extends AppError<'invalid_options'> {
  override readonly name = 'TimingOptionError';
  constructor(message: string) {
    super('invalid_options', message);
  }
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function dayIndex(token: string, flag: string): number {
  const t = token.trim().toLowerCase();
  if (/^[0-6]$/.test(t)) return Number(t);
  // sun, sunday, tue, tues, tuesday, …: the first three letters name the day.
  const i = /^[a-z]{3,9}$/.test(t) ? DAY_NAMES.findIndex((d) => t.startsWith(d)) : -1;
  if (i < 0) throw new TimingOptionError(`${flag}: '${token}' is not a weekday (sun … sat, or 0 … 6)`);
  return i;
}

/** `mon-fri`, `mon,wed,fri`, `sat-sun`, `fri-mon` (wraps), `1-5`, `all`, `weekdays`, `weekends`. */
export function parseDays(value: string, flag = '--call-days'): number[] {
  const v = value.trim().toLowerCase();
  if (v === 'all' || v === 'daily') return [0, 1, 2, 3, 4, 5, 6];
  if (v === 'weekdays') return [1, 2, 3, 4, 5];
  if (v === 'weekends') return [0, 6];
  const days = new Set<number>();
  for (const part of v.split(',')) {
    if (part.trim() === '') throw new TimingOptionError(`${flag}: '${value}' has an empty entry`);
    const range = part.split('-');
    if (range.length > 2)
      throw new TimingOptionError(`${flag}: '${part}' is not a day or a range such as mon-fri`);
    const a = dayIndex(range[0]!, flag);
    const b = range.length === 2 ? dayIndex(range[1]!, flag) : a;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/** `09:00-17:00`, or `20:00-02:00` overnight; `9-17` is read as 09:00-17:00. */
export function parseHours(value: string, flag = '--call-hours'): { start: string; end: string } {
  const m = /^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$/.exec(value);
  if (!m) throw new TimingOptionError(`${flag}: '${value}' is not a range of times such as 09:00-17:00`);
  const hhmm = (h: string, mi: string | undefined) => `${h.padStart(2, '0')}:${mi ?? '00'}`;
  const w = { days: [0], start: hhmm(m[1]!, m[2]), end: hhmm(m[3]!, m[4]) };
  const problems = validateCallingWindow(w);
  if (problems.length) throw new TimingOptionError(`${flag}: ${problems.join('; ')}`);
  return { start: w.start, end: w.end };
}

/** Comma-separated `YYYY-MM-DD` dates. */
export function parseBlackout(value: string, flag = '--blackout'): string[] {
  const dates = value
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const problems = validateCallingWindow({ days: [], start: '00:00', end: '00:00', blackoutDates: dates });
  if (problems.length) throw new TimingOptionError(`${flag}: ${problems.join('; ')}`);
  return dates;
}

export function parseZone(value: string, flag = '--zone'): string {
  if (!isValidTimeZone(value) || !/^[A-Za-z]/.test(value))
    throw new TimingOptionError(`${flag}: '${value}' is not an IANA time zone (e.g. America/New_York)`);
  return value;
}

/** An ISO 8601 instant with an offset, or a duration after the run starts (`8h`, `PT8H`, `2 days`). */
export function parseDeadline(value: string, flag = '--deadline'): DeadlineSpec {
  const asTime = parseCallAt(value);
  if ('iso' in asTime) return { at: asTime.iso };
  const asDuration = parseDuration(value);
  if ('ms' in asDuration && asDuration.ms > 0) return { afterMs: asDuration.ms };
  throw new TimingOptionError(
    `${flag}: '${value}' is neither an ISO 8601 time with an offset (e.g. 2025-03-14T18:00:00-07:00) nor a duration after the run starts (e.g. 8h, PT8H)`,
  );
}

export function resolveDeadline(spec: DeadlineSpec, startMs: number): string {
  return 'at' in spec ? spec.at : new Date(startMs + spec.afterMs).toISOString();
}

/**
 * A deadline already past when the run starts would expire every contact at once and read `completed`: refused,
 * naming the option. (A relative deadline is always ahead.)
 */
export function assertDeadlineAhead(iso: string, nowMs: number, flag = '--deadline'): void {
  if (Date.parse(iso) <= nowMs)
    throw new TimingOptionError(
      `${flag}: ${iso} is already past (now ${new Date(nowMs).toISOString()}); give a later time or a duration such as 8h`,
    );
}

export function parsePastCallAt(value: string, flag = '--past-call-at'): PastCallAt {
  if (value === 'call' || value === 'skip') return value;
  throw new TimingOptionError(`${flag}: '${value}' must be call or skip`);
}

export function parseRemindBefore(value: string, flag = '--remind-before'): number {
  const r = parseDuration(value);
  if ('error' in r) throw new TimingOptionError(`${flag}: ${r.error}`);
  return r.ms;
}

/** The raw option values (strings, as a CLI or an API body gives them). */
export interface TimingFlags {
  callDays?: string | undefined;
  callHours?: string | undefined;
  blackout?: string | undefined;
  zone?: string | undefined;
  deadline?: string | undefined;
  pastCallAt?: string | undefined;
  remindBefore?: string | undefined;
}

export interface ParsedTiming {
  /** Settings every run of these options gets (the deadline apart). */
  timing: Omit<CampaignTiming, 'deadline'>;
  deadline?: DeadlineSpec;
  /** remind_before for rows without one, in ms (an ingestion option). */
  remindBeforeMs?: number;
}

/** The CLI's flag names; the HTTP API passes its field names so errors name what the caller typed. */
export const TIMING_FLAG_NAMES: Record<keyof TimingFlags, string> = {
  callDays: '--call-days',
  callHours: '--call-hours',
  blackout: '--blackout',
  zone: '--zone',
  deadline: '--deadline',
  pastCallAt: '--past-call-at',
  remindBefore: '--remind-before',
};

/** Parses every timing option; a window is set when any of days, hours or blackout is given. */
export function parseTiming(
  f: TimingFlags,
  names: Record<keyof TimingFlags, string> = TIMING_FLAG_NAMES,
): ParsedTiming {
  const out: ParsedTiming = { timing: {} };
  if (f.callDays !== undefined || f.callHours !== undefined || f.blackout !== undefined) {
    const hours =
      f.callHours !== undefined ? parseHours(f.callHours, names.callHours) : { start: '00:00', end: '00:00' };
    const window: CallingWindow = {
      days: f.callDays !== undefined ? parseDays(f.callDays, names.callDays) : [0, 1, 2, 3, 4, 5, 6],
      ...hours,
    };
    if (f.blackout !== undefined) window.blackoutDates = parseBlackout(f.blackout, names.blackout);
    out.timing.callingWindow = window;
  }
  if (f.zone !== undefined) out.timing.timezone = parseZone(f.zone, names.zone);
  if (f.pastCallAt !== undefined) out.timing.pastCallAt = parsePastCallAt(f.pastCallAt, names.pastCallAt);
  if (f.deadline !== undefined) out.deadline = parseDeadline(f.deadline, names.deadline);
  if (f.remindBefore !== undefined)
    out.remindBeforeMs = parseRemindBefore(f.remindBefore, names.remindBefore);
  return out;
}

/**
 * Everything a run's timing options give, resolved at `nowMs`: the settings fields (window, zone, past call
 * times, the deadline as an instant) and the ingestion options (remind_before, the zone of appointment times
 * without one). The CLI's `start` and `POST …/runs/` both call it; a past deadline is refused.
 */
export function resolveTiming(
  f: TimingFlags,
  nowMs: number,
  names: Record<keyof TimingFlags, string> = TIMING_FLAG_NAMES,
): {
  settings: CampaignTiming;
  ingest: { remindBefore?: number; defaultTimezone?: string };
} {
  const parsed = parseTiming(f, names);
  const deadline = parsed.deadline ? resolveDeadline(parsed.deadline, nowMs) : undefined;
  if (deadline) assertDeadlineAhead(deadline, nowMs, names.deadline);
  return {
    settings: { ...parsed.timing, ...(deadline ? { deadline } : {}) },
    ingest: {
      ...(parsed.remindBeforeMs !== undefined ? { remindBefore: parsed.remindBeforeMs } : {}),
      ...(parsed.timing.timezone ? { defaultTimezone: parsed.timing.timezone } : {}),
    },
  };
}
