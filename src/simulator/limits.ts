/** Per-account plan limits: a sliding calls-per-minute window and a tasks-per-day counter with its reset instant. */

export class SlidingWindow {
  private times: number[] = [];
  constructor(private readonly windowMs: number) {}

  /** ok, or how long until the oldest create leaves the window. */
  check(now: number, limit: number): { ok: true } | { ok: false; retryAfterMs: number } {
    this.prune(now);
    if (this.times.length < limit) return { ok: true };
    const idx = this.times.length - limit; // the create that must leave before one more fits
    return { ok: false, retryAfterMs: this.times[idx]! + this.windowMs - now };
  }

  record(now: number): void {
    this.times.push(now);
  }

  reset(): void {
    this.times = [];
  }

  private prune(now: number): void {
    let i = 0;
    while (i < this.times.length && this.times[i]! <= now - this.windowMs) i++;
    if (i > 0) this.times = this.times.slice(i);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

function localParts(
  tz: string,
  at: number,
): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(new Date(at))) p[part.type] = part.value;
  return { y: +p.year!, m: +p.month!, d: +p.day!, h: +p.hour!, mi: +p.minute!, s: +p.second! };
}

/** Offset of the zone from UTC at an instant, in ms (local - UTC). */
function offsetMs(tz: string, at: number): number {
  const l = localParts(tz, at);
  return Date.UTC(l.y, l.m - 1, l.d, l.h, l.mi, l.s) - Math.floor(at / 1000) * 1000;
}

/** Throws a RangeError on an unknown IANA zone. */
export function assertTimezone(tz: string): void {
  formatter(tz);
}

export interface DayWindow {
  key: string;
  resetAt: number;
}

/** The current "day" of an account: fixed-length days from `epoch` when dayMs is set, else local calendar days. */
export function dayWindow(now: number, o: { dayMs?: number; epoch: number; timezone: string }): DayWindow {
  if (o.dayMs && o.dayMs > 0) {
    const idx = Math.floor((now - o.epoch) / o.dayMs);
    return { key: `d${idx}`, resetAt: o.epoch + (idx + 1) * o.dayMs };
  }
  const l = localParts(o.timezone, now);
  const nextLocalMidnightAsUtc = Date.UTC(l.y, l.m - 1, l.d + 1);
  let resetAt = nextLocalMidnightAsUtc - offsetMs(o.timezone, now);
  resetAt = nextLocalMidnightAsUtc - offsetMs(o.timezone, resetAt); // correct across a DST change
  if (resetAt <= now) resetAt = now + 1000;
  return { key: `${l.y}-${l.m}-${l.d}`, resetAt };
}

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
