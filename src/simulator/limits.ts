/** Per-account plan limits: a sliding calls-per-minute window and a tasks-per-day counter with its reset instant. */

export class SlidingWindow {
  private times: number[] = [];
  constructor(readonly windowMs: number) {}

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

  /** Creates in the window now, and when the oldest of them leaves it (now when there is none). */
  usage(now: number): { used: number; nextFreeAt: number } {
    this.prune(now);
    const oldest = this.times[0];
    return { used: this.times.length, nextFreeAt: oldest === undefined ? now : oldest + this.windowMs };
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

export { assertTimezone, dayWindow, type DayWindow } from '../../workflows/day-window';

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * `X-RateLimit-Limit / -Remaining / -Reset` (REAL-API.md, "Auth and headers"): the calls-per-minute plan, what is
 * left of it in the window, and the unix second at which the next slot frees.
 */
export function rateLimitHeaders(
  window: SlidingWindow,
  limit: number,
  now = Date.now(),
): Record<string, string> {
  const { used, nextFreeAt } = window.usage(now);
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, limit - used)),
    'x-ratelimit-reset': String(Math.ceil(nextFreeAt / 1000)),
  };
}
