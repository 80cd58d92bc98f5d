/**
 * The account limiter's state machine, pure and deterministic (unit-tested directly; run by
 * accountLimiterWorkflow). Three semaphores over one account, across all its campaigns:
 *
 * - calls per minute: a permit holds a rate token from its grant until one window after its dial (the dial time
 *   the task reports, or a later one when unknown). At most `callsPerMinute` tokens are held at once, so no window
 *   of `windowMs` ever holds more dials, however late after its grant a dial lands (a busy worker, a retried
 *   create): lateness costs a little rate, never a violation. Waiting tasks never poll: they are told.
 * - tasks per day: a task's first permit consumes one unit of the day (the account's zone) it is granted in; none
 *   is granted in the last seconds of a day, so the dial cannot fall into the next.
 * - concurrent calls: a lease from grant to release, which expires at `expiresAt` if never released.
 *
 * Grant order is FIFO across campaigns; when any campaign has a weight other than 1, campaigns are served in
 * proportion to their weights (least served/weight first), FIFO within each.
 */
import { dayWindow } from './day-window';

export interface Limits {
  callsPerMinute: number;
  /** null: unlimited (Enterprise). */
  tasksPerDay: number | null;
  concurrency: number;
  /** Concurrent slots kept free (e.g. for inbound calls). */
  reserved: number;
  timezone: string;
  /** The rate window; 60,000 in production, shorter in tests. */
  windowMs: number;
  /** Fixed-length days for tests; null: calendar days in `timezone`. */
  dayMs: number | null;
}

/** Throws, naming the field, on a limit that is not a positive integer or a zone that is not an IANA zone. */
export function validateLimits(l: Partial<Limits>): void {
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

export const PLANS = {
  free: { callsPerMinute: 5, tasksPerDay: 50, concurrency: 2 },
  pro: { callsPerMinute: 60, tasksPerDay: 5000, concurrency: 10 },
  enterprise: { callsPerMinute: 1000, tasksPerDay: null, concurrency: 100 },
} as const satisfies Record<string, Pick<Limits, 'callsPerMinute' | 'tasksPerDay' | 'concurrency'>>;
export type PlanName = keyof typeof PLANS;

export const DEFAULT_LIMITS: Limits = {
  ...PLANS.pro,
  reserved: 0,
  timezone: 'UTC',
  windowMs: 60_000,
  dayMs: null,
};

/** First attempts are not granted this close to the end of the account's day, so their dial is counted that day. */
export const DAY_EDGE_MS = 5_000;

export interface PermitRequest {
  /** `${taskId}#${attempt}`: one request per attempt, so a duplicate request changes nothing. */
  id: string;
  taskId: string;
  campaign: string;
  firstAttempt: boolean;
  /** How long the lease may live unreleased (the task's hard cap on a call, plus margin). */
  leaseTtlMs: number;
  seq: number;
  requestedAt: number;
}

export interface Lease {
  id: string;
  taskId: string;
  campaign: string;
  grantedAt: number;
  /** When the task reported the dial (at or after the real one); null until then. */
  dialedAt: number | null;
  expiresAt: number;
}

export interface CampaignShare {
  id: string;
  weight: number;
  /** Concurrent calls this campaign may hold, below the account's; null: no cap of its own. */
  cap: number | null;
  served: number;
  paused: boolean;
}

export interface Grant {
  request: PermitRequest;
  lease: Lease;
  waitedMs: number;
}

export interface LimiterStats {
  granted: number;
  released: number;
  expired: number;
  withdrawn: number;
  /** Sum and count of request→grant waits, for the mean. */
  waitMsTotal: number;
}

/** Everything is plain arrays and numbers: it crosses continue-as-new through the JSON converter. */
export interface LimiterState {
  limits: Limits;
  queue: PermitRequest[];
  leases: Lease[];
  /** Dial times (reported, or a safe later bound), for the rate window; older than a window are dropped. */
  dials: number[];
  /** Tasks counted per day key: [dayKey, used]. */
  days: [string, number][];
  campaigns: CampaignShare[];
  seq: number;
  stats: LimiterStats;
}

export function initialState(limits: Limits = DEFAULT_LIMITS): LimiterState {
  return {
    limits,
    queue: [],
    leases: [],
    dials: [],
    days: [],
    campaigns: [],
    seq: 0,
    stats: { granted: 0, released: 0, expired: 0, withdrawn: 0, waitMsTotal: 0 },
  };
}

function dayOf(l: Limits, at: number) {
  return dayWindow(at, { dayMs: l.dayMs ?? undefined, epoch: 0, timezone: l.timezone });
}

function usedOn(s: LimiterState, key: string): number {
  return s.days.find(([k]) => k === key)?.[1] ?? 0;
}

function campaign(s: LimiterState, id: string): CampaignShare {
  let c = s.campaigns.find((x) => x.id === id);
  if (!c) {
    c = { id, weight: 1, cap: null, served: 0, paused: false };
    s.campaigns.push(c);
  }
  return c;
}

export function setCampaign(
  s: LimiterState,
  id: string,
  patch: Partial<Pick<CampaignShare, 'weight' | 'cap' | 'paused'>>,
): void {
  const c = campaign(s, id);
  if (patch.weight !== undefined) c.weight = patch.weight;
  if (patch.cap !== undefined) c.cap = patch.cap;
  if (patch.paused !== undefined) c.paused = patch.paused;
}

/** A campaign that has finished or was canceled gives its place up: its queued requests go. */
export function removeCampaign(s: LimiterState, id: string): PermitRequest[] {
  const dropped = s.queue.filter((r) => r.campaign === id);
  s.queue = s.queue.filter((r) => r.campaign !== id);
  s.campaigns = s.campaigns.filter((c) => c.id !== id || s.leases.some((l) => l.campaign === id));
  s.stats.withdrawn += dropped.length;
  return dropped;
}

/** Queues a request; a duplicate (same id queued or already holding a lease) changes nothing. */
export function request(s: LimiterState, r: Omit<PermitRequest, 'seq'>): boolean {
  if (s.queue.some((q) => q.id === r.id) || s.leases.some((l) => l.id === r.id)) return false;
  campaign(s, r.campaign);
  s.queue.push({ ...r, seq: ++s.seq });
  return true;
}

export function withdraw(s: LimiterState, id: string): boolean {
  const before = s.queue.length;
  s.queue = s.queue.filter((q) => q.id !== id);
  const gone = before !== s.queue.length;
  if (gone) s.stats.withdrawn++;
  return gone;
}

/** The task dialed on this permit: its rate token is held until one window after `at`. */
export function dialed(s: LimiterState, id: string, at: number): boolean {
  const lease = s.leases.find((l) => l.id === id);
  if (!lease || lease.dialedAt !== null) return false;
  lease.dialedAt = at;
  s.dials.push(at);
  return true;
}

/**
 * Ends a lease. `unused`: the permit was certainly never dialed on, so its rate token goes back at once; otherwise
 * a dial never reported counts as made now (at or after any real one).
 */
export function release(s: LimiterState, id: string, at: number, unused = false): boolean {
  const lease = s.leases.find((l) => l.id === id);
  if (!lease) return false;
  s.leases = s.leases.filter((l) => l !== lease);
  s.stats.released++;
  if (lease.dialedAt === null && !unused) s.dials.push(at);
  return true;
}

/** Rate tokens held now: permits not yet dialed, and dials within the last window. */
function tokensHeld(s: LimiterState, now: number): number {
  const from = now - s.limits.windowMs;
  return s.leases.filter((l) => l.dialedAt === null).length + s.dials.filter((d) => d > from).length;
}

function prune(s: LimiterState, now: number): Lease[] {
  const expired = s.leases.filter((l) => l.expiresAt <= now);
  if (expired.length) {
    s.leases = s.leases.filter((l) => l.expiresAt > now);
    s.stats.expired += expired.length;
    // A holder that vanished may have dialed any time up to now.
    for (const l of expired) if (l.dialedAt === null) s.dials.push(now);
  }
  const from = now - s.limits.windowMs;
  s.dials = s.dials.filter((d) => d > from);
  // Days only move forward: the current one and the last are all that can matter.
  if (s.days.length > 3) s.days = s.days.slice(-3);
  return expired;
}

function eligible(s: LimiterState, r: PermitRequest, heldBy: Map<string, number>): boolean {
  const c = s.campaigns.find((x) => x.id === r.campaign);
  if (c?.paused) return false;
  if (c?.cap != null && (heldBy.get(r.campaign) ?? 0) >= c.cap) return false;
  return true;
}

function pick(
  s: LimiterState,
  heldBy: Map<string, number>,
  firstAttemptsBlocked: boolean,
): PermitRequest | undefined {
  const candidates = s.queue.filter(
    (r) => eligible(s, r, heldBy) && !(r.firstAttempt && firstAttemptsBlocked),
  );
  if (candidates.length === 0) return undefined;
  const weighted = s.campaigns.some((c) => c.weight !== 1);
  if (!weighted) return candidates.reduce((a, b) => (b.seq < a.seq ? b : a));
  const score = (id: string) => {
    const c = s.campaigns.find((x) => x.id === id)!;
    return c.served / Math.max(c.weight, 1e-9);
  };
  return candidates.reduce((a, b) => {
    const sa = score(a.campaign);
    const sb = score(b.campaign);
    return sb < sa || (sb === sa && b.seq < a.seq) ? b : a;
  });
}

export interface PumpResult {
  grants: Grant[];
  expired: Lease[];
  /** When to look again even if nothing arrives (a lease expiry or a new day with requests waiting); null: never. */
  wakeAt: number | null;
  /** Requests held back only by the day's task budget, and when that budget resets. */
  dayBlocked: { count: number; resetsAt: number } | null;
}

/** Grants everything that can be granted now. */
export function pump(s: LimiterState, now: number): PumpResult {
  const expired = prune(s, now);
  const grants: Grant[] = [];
  const l = s.limits;
  const capacity = Math.max(0, l.concurrency - l.reserved);
  let dayBlocked: PumpResult['dayBlocked'] = null;
  let firstAttemptsBlocked = false;
  let rateWakeAt: number | null = null;
  for (;;) {
    if (s.leases.length >= capacity) break;
    const heldBy = new Map<string, number>();
    for (const lease of s.leases) heldBy.set(lease.campaign, (heldBy.get(lease.campaign) ?? 0) + 1);
    const r = pick(s, heldBy, firstAttemptsBlocked);
    if (!r) break;
    if (tokensHeld(s, now) >= l.callsPerMinute) {
      // Every token is held: the oldest dial in the window frees one (or a dial report or release will).
      const from = now - l.windowMs;
      const inWindow = s.dials.filter((d) => d > from);
      if (inWindow.length) rateWakeAt = Math.min(...inWindow) + l.windowMs;
      break;
    }
    let dayKey: string | null = null;
    if (r.firstAttempt && l.tasksPerDay !== null) {
      const day = dayOf(l, now);
      // (Test days are short: the edge is at most a twentieth of one.)
      const edge = day.resetAt - now < Math.min(DAY_EDGE_MS, (l.dayMs ?? 86_400_000) / 20);
      if (edge || usedOn(s, day.key) >= l.tasksPerDay) {
        // Spent (or about to turn): first attempts wait for the next day; retries of counted tasks may still go.
        firstAttemptsBlocked = true;
        const waiting = s.queue.filter((q) => q.firstAttempt).length;
        dayBlocked = {
          count: edge && usedOn(s, day.key) < l.tasksPerDay ? 0 : waiting,
          resetsAt: day.resetAt,
        };
        continue;
      }
      dayKey = day.key;
    }
    s.queue = s.queue.filter((q) => q.id !== r.id);
    if (dayKey !== null) {
      const entry = s.days.find(([k]) => k === dayKey);
      if (entry) entry[1]++;
      else s.days.push([dayKey, 1]);
    }
    const lease: Lease = {
      id: r.id,
      taskId: r.taskId,
      campaign: r.campaign,
      grantedAt: now,
      dialedAt: null,
      expiresAt: now + r.leaseTtlMs,
    };
    s.leases.push(lease);
    campaign(s, r.campaign).served++;
    s.stats.granted++;
    s.stats.waitMsTotal += now - r.requestedAt;
    grants.push({ request: r, lease, waitedMs: now - r.requestedAt });
  }
  const times: number[] = [];
  if (s.queue.length && s.leases.length) times.push(Math.min(...s.leases.map((x) => x.expiresAt)));
  if (dayBlocked) times.push(dayBlocked.resetsAt);
  if (rateWakeAt !== null) times.push(rateWakeAt);
  return { grants, expired, wakeAt: times.length ? Math.min(...times) : null, dayBlocked };
}

/**
 * The least time a run of `contacts` needs at these limits: max(N / calls-per-minute, N × mean call / concurrency),
 * and which of the two binds.
 */
export function minimumMakespan(
  contacts: number,
  limits: Pick<Limits, 'callsPerMinute' | 'concurrency' | 'reserved' | 'windowMs'>,
  meanCallMs: number,
): { ms: number; boundBy: 'rate' | 'concurrency' } {
  const capacity = Math.max(1, limits.concurrency - limits.reserved);
  const byRate = (contacts / limits.callsPerMinute) * limits.windowMs;
  const byConcurrency = (contacts * meanCallMs) / capacity;
  return byRate >= byConcurrency
    ? { ms: byRate, boundBy: 'rate' }
    : { ms: byConcurrency, boundBy: 'concurrency' };
}
