/**
 * Calendar arithmetic in an IANA zone with Intl only (it runs in the workflow sandbox too): the account's day
 * for the tasks/day limit, shared by the account limiter and the simulator.
 */

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

export function localParts(
  tz: string,
  at: number,
): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(new Date(at))) p[part.type] = part.value;
  return { y: +p.year!, m: +p.month!, d: +p.day!, h: +p.hour!, mi: +p.minute!, s: +p.second! };
}

/** Offset of the zone from UTC at an instant, in ms (local - UTC). */
export function offsetMs(tz: string, at: number): number {
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

/**
 * The current "day" of an account: fixed-length days counted from `epoch` when dayMs is set (tests; pass 0 so
 * the engine and the simulator agree on the boundaries), else calendar days in the account's zone.
 */
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
