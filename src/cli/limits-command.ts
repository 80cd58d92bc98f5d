/** `unpod-campaigns limits <account>`: an account's limits and their use, changed live with options. */
import type { Client } from '@temporalio/client';
import { limiterState, planLimits, setLimits, type PlanName } from '../campaign/limits';
import type { Limits } from '../../workflows/limiter-core';
import { table } from './output';

export interface LimitFlags {
  plan?: PlanName;
  callsPerMinute?: number;
  tasksPerDay?: number | 'unlimited';
  concurrency?: number;
  reserved?: number;
  timezone?: string;
  json?: boolean;
}

export async function limitsCommand(
  client: Client,
  taskQueue: string,
  account: string,
  o: LimitFlags,
): Promise<void> {
  const patch: Partial<Limits> = {
    ...(o.plan ? planLimits(o.plan) : {}),
    ...(o.callsPerMinute !== undefined ? { callsPerMinute: o.callsPerMinute } : {}),
    ...(o.tasksPerDay !== undefined
      ? { tasksPerDay: o.tasksPerDay === 'unlimited' ? null : o.tasksPerDay }
      : {}),
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.reserved !== undefined ? { reserved: o.reserved } : {}),
    ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
  };
  if (Object.keys(patch).length) await setLimits(client, taskQueue, account, patch);
  const view = await limiterState(client, account);
  if (o.json) {
    console.log(JSON.stringify(view, null, 2));
    return;
  }
  if (!view) {
    console.log(
      `account ${account}: no limiter yet (it starts with the account's first run, or with options here)`,
    );
    return;
  }
  const l = view.limits;
  console.log(
    table([
      {
        limit: 'calls per minute',
        value: l.callsPerMinute,
        in_use: `${view.dialsInLastWindow} in the last window`,
      },
      {
        limit: 'tasks per day',
        value: l.tasksPerDay ?? 'unlimited',
        in_use: `${view.tasksToday} today (${l.timezone})`,
      },
      {
        limit: 'concurrent calls',
        value: l.concurrency,
        in_use: `${view.inUse} held, ${l.reserved} reserved`,
      },
    ]),
  );
  console.log(
    `\n${view.queued} waiting for a permit${view.dayBlocked ? `; ${view.dayBlocked.count} until the day resets at ${view.dayBlocked.resetsAt}` : ''}`,
  );
  console.log(
    `granted ${view.stats.granted}, released ${view.stats.released}, expired ${view.stats.expired}, mean wait ${view.stats.meanWaitMs} ms`,
  );
}
