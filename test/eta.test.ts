/**
 * The ETA rule (src/campaign/run-queries.ts runEta): the later of what the limits allow for the open contacts
 * and the latest next attempt among them (retry delays, calling windows, call times) plus a call; none for a
 * run that is not running; never in the past. Pure unit tests, and what the ETA reads for a run that publishes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { readEtaInputs, runEta } from '../src/campaign/run-queries';
import { DEFAULT_LIMITS, type Limits } from '../workflows/limiter-core';
import { MEMO_LIMITER_VIEW, type CampaignProgress } from '../workflows/definitions';
import { limiterWorkflowId } from '../workflows/ids';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;
const LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  callsPerMinute: 60,
  concurrency: 10,
  reserved: 0,
  tasksPerDay: null,
};

function progress(over: Partial<CampaignProgress> = {}, counts: Partial<CampaignProgress['counts']> = {}) {
  return {
    runId: 'R0',
    accountId: 'acct',
    state: 'running',
    total: 100,
    inputClosed: true,
    counts: {
      pending: 10,
      ringing: 0,
      active: 0,
      completed: 90,
      failed: 0,
      skipped: 0,
      expired: 0,
      canceled: 0,
      ...counts,
    },
    attempts: 90,
    retriesWaiting: 0,
    waitingForDailyBudget: 0,
    startedAt: '2026-12-01T09:00:00Z',
    updatedAt: '2026-12-01T09:30:00Z',
    // What the workflow computed at its last task: already in the past.
    eta: '2026-12-01T09:31:00Z',
    continuedAsNew: 0,
    pausedReason: null,
    unknownEndReasons: {},
    ...over,
  } satisfies CampaignProgress;
}

describe('runEta', () => {
  it('with nothing waiting: now plus what the limits allow (never the stale workflow ETA)', () => {
    // 10 contacts × 2 min mean call / 10 concurrent = 2 min; 10 / 60 per minute = 10 s: bound by concurrency.
    const eta = runEta(progress(), { limits: LIMITS, nextAttempts: [null, null], nowMs: NOW });
    assert.equal(eta, new Date(NOW + 2 * MIN).toISOString());
  });

  it('a contact waiting for a retry or a calling window pushes it to that time plus a call', () => {
    const waits = ['2026-12-01T17:00:00Z', '2026-12-01T12:00:00Z', null];
    const eta = runEta(progress(), { limits: LIMITS, nextAttempts: waits, nowMs: NOW });
    assert.equal(eta, new Date(Date.parse('2026-12-01T17:00:00Z') + 2 * MIN).toISOString());
  });

  it('the limits win when they are later than every wait', () => {
    const eta = runEta(progress({}, { pending: 600 }), {
      limits: LIMITS,
      nextAttempts: ['2026-12-01T10:05:00Z'],
      nowMs: NOW,
    });
    // 600 × 2 min / 10 = 120 min.
    assert.equal(eta, new Date(NOW + 120 * MIN).toISOString());
  });

  it('a spent tasks/day budget adds a day per further budget', () => {
    const eta = runEta(progress({}, { pending: 120 }), {
      limits: { ...LIMITS, tasksPerDay: 50 },
      nextAttempts: [],
      nowMs: NOW,
    });
    // ceil(120 / 50) = 3 days: two more days after the limits' 24 min.
    assert.equal(eta, new Date(NOW + 24 * MIN + 2 * 86_400_000).toISOString());
  });

  it('waits already past count as ready now', () => {
    const eta = runEta(progress(), { limits: LIMITS, nextAttempts: ['2026-12-01T09:00:00Z'], nowMs: NOW });
    assert.equal(eta, new Date(NOW + 2 * MIN).toISOString());
  });

  it('a paused, canceling or finished run, or one with nothing open, has none', () => {
    for (const state of ['paused', 'canceling', 'canceled', 'completed'] as const)
      assert.equal(
        runEta(progress({ state }), { limits: LIMITS, nextAttempts: [], nowMs: NOW }),
        null,
        state,
      );
    assert.equal(
      runEta(progress({}, { pending: 0 }), { limits: LIMITS, nextAttempts: [], nowMs: NOW }),
      null,
    );
  });

  it('the mean call length given is used', () => {
    const eta = runEta(progress(), { limits: LIMITS, meanCallMs: 6 * MIN, nextAttempts: [], nowMs: NOW });
    assert.equal(eta, new Date(NOW + 6 * MIN).toISOString());
  });
});

describe('readEtaInputs', () => {
  // A client that answers a describe of the account's limiter from its memo, and fails anything that would
  // reach a task: the visibility list of the pending ones, or a query.
  const asked: string[] = [];
  const client = {
    workflow: {
      getHandle: (workflowId: string) => ({
        describe: async () => {
          asked.push(`describe ${workflowId}`);
          return { status: { name: 'RUNNING' }, memo: { [MEMO_LIMITER_VIEW]: { limits: LIMITS } } };
        },
        query: async () => {
          throw new Error(`queried ${workflowId}`);
        },
      }),
      list: () => {
        throw new Error('listed the pending tasks to query them');
      },
    },
  } as unknown as Client;

  it('a run that publishes its next attempts, before its first share (no limits yet): no task is asked, the limits come from the limiter', async () => {
    const inputs = await readEtaInputs(client, progress({ limits: null, nextAttemptLatest: null }));
    assert.deepEqual(inputs, { limits: LIMITS, nextAttempts: [null] });
    assert.deepEqual(asked, [`describe ${limiterWorkflowId('acct')}`]);
  });
});
