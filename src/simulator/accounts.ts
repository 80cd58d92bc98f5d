/** Per-account state: plan limits, rate window, today's tasks, the pending queue, busy slots, idempotency keys. */
import { assertTimezone, SlidingWindow } from './limits';
import type { SimCall } from './sim-call';
import type { AccountLimits, SimulatorAccount } from './types';

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
  timezone: string;
  limits: Required<AccountLimits>;
  rate: SlidingWindow;
  day: { key: string; tasks: Set<string> };
  /** Calls waiting for a concurrency slot, FIFO. */
  queue: SimCall[];
  /** Slots held: ringing + active + picked from the queue and about to ring. */
  busy: number;
  idem: Map<string, SimCall>;
}

export function newAccountState(a: SimulatorAccount, rateWindowMs: number): AccountState {
  const timezone = a.timezone ?? 'UTC';
  assertTimezone(timezone);
  return {
    id: a.accountId,
    apiKey: a.apiKey,
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
    idem: new Map(),
  };
}

export function resetAccountState(s: AccountState): void {
  s.rate.reset();
  s.day = { key: '', tasks: new Set() };
  s.queue = [];
  s.busy = 0;
  s.idem.clear();
}
