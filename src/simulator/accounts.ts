/** Per-account state: plan limits, rate window, today's tasks, the pending queue, busy slots, calls, failures. */
import { assertTimezone, SlidingWindow } from './limits';
import type { SimCall } from './sim-call';
import type { AccountFailure, AccountLimits, SimulatorAccount } from './types';

export const DEFAULT_ACCOUNT: SimulatorAccount = {
  apiKey: 'sim_test_key',
  accountId: 'acct_default',
  callsPerMinute: 60,
  tasksPerDay: 5000,
  concurrency: 10,
  timezone: 'UTC',
};

export interface AccountState {
  id: string;
  apiKey: string;
  orgHandle: string | null;
  timezone: string;
  limits: Required<AccountLimits>;
  rate: SlidingWindow;
  day: { key: string; tasks: Set<string> };
  /** Calls waiting for a concurrency slot, FIFO. */
  queue: SimCall[];
  /** Slots held: dispatching + ringing + active. */
  busy: number;
  /** Every call of the account, oldest first. */
  calls: SimCall[];
  /** Calls not yet ended, in creation order. */
  live: Set<SimCall>;
  idem: Map<string, SimCall>;
  failure: AccountFailure | null;
}

export function newAccountState(a: SimulatorAccount, rateWindowMs: number): AccountState {
  const timezone = a.timezone ?? 'UTC';
  assertTimezone(timezone);
  return {
    id: a.accountId,
    apiKey: a.apiKey,
    orgHandle: a.orgHandle ?? null,
    timezone,
    limits: {
      callsPerMinute: a.callsPerMinute ?? DEFAULT_ACCOUNT.callsPerMinute!,
      tasksPerDay: a.tasksPerDay ?? DEFAULT_ACCOUNT.tasksPerDay!,
      concurrency: a.concurrency ?? DEFAULT_ACCOUNT.concurrency!,
    },
    rate: new SlidingWindow(rateWindowMs),
    day: { key: '', tasks: new Set() },
    queue: [],
    busy: 0,
    calls: [],
    live: new Set(),
    idem: new Map(),
    failure: null,
  };
}

/** Forget calls, counters and failures (the engine re-applies the configured ones). */
export function resetAccountState(s: AccountState): void {
  s.rate.reset();
  s.day = { key: '', tasks: new Set() };
  s.queue = [];
  s.busy = 0;
  s.calls = [];
  s.live.clear();
  s.idem.clear();
  s.failure = null;
}
