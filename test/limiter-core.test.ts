/**
 * The account limiter's pure state machine: every limit, fairness, leases, live changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_LIMITS,
  dialed,
  initialState,
  minimumMakespan,
  pump,
  release,
  removeCampaign,
  request,
  setCampaign,
  withdraw,
  type Limits,
  type LimiterState,
} from '../workflows/limiter-core';

const T0 = 1_700_000_000_000;

function state(l: Partial<Limits>): LimiterState {
  return initialState({ ...DEFAULT_LIMITS, tasksPerDay: null, ...l });
}

function ask(
  s: LimiterState,
  n: number,
  o: { campaign?: string; firstAttempt?: boolean; at?: number; prefix?: string; ttl?: number } = {},
) {
  for (let i = 0; i < n; i++) {
    const id = `${o.prefix ?? o.campaign ?? 'c1'}-${i}`;
    request(s, {
      id,
      taskId: id,
      campaign: o.campaign ?? 'c1',
      firstAttempt: o.firstAttempt ?? true,
      leaseTtlMs: o.ttl ?? 60_000,
      requestedAt: o.at ?? T0,
    });
  }
}

/** The most dials any window of windowMs holds. */
function worstWindow(dials: number[], windowMs: number): number {
  const sorted = [...dials].sort((x, y) => x - y);
  let worst = 0;
  for (let i = 0; i < sorted.length; i++) {
    worst = Math.max(worst, sorted.filter((t) => t >= sorted[i]! && t < sorted[i]! + windowMs).length);
  }
  return worst;
}

describe('limiter core', () => {
  it('never lets a window hold more dials than calls-per-minute, however late dials land, and uses the rate', () => {
    const s = state({ callsPerMinute: 5, concurrency: 100 });
    ask(s, 23);
    // Drive it as the workflow does: pump, dial each grant after some latency (up to 3 s), pump at each wake-up.
    const dials: number[] = [];
    const firstGrants: number[] = [];
    let now = T0;
    for (let i = 0; i < 200 && dials.length < 23; i++) {
      const r = pump(s, now);
      r.grants.forEach((g, k) => {
        const at = now + 200 + ((k * 700) % 3000);
        firstGrants.push(now);
        dialed(s, g.request.id, at);
        dials.push(at);
      });
      const next = r.wakeAt ?? now + 1000;
      now = Math.max(next, now + 1);
    }
    assert.equal(dials.length, 23);
    assert.ok(worstWindow(dials, 60_000) <= 5, `worst window ${worstWindow(dials, 60_000)}`);
    // Fully used: 5 at once, then the next 5 as the first dials leave the window.
    assert.deepEqual(firstGrants.slice(0, 5), [T0, T0, T0, T0, T0]);
    assert.equal(firstGrants[5], T0 + 200 + 60_000);
  });

  it('holds a rate token until a dial is reported, and counts an unreported dial as made at release', () => {
    const s = state({ callsPerMinute: 2, concurrency: 10 });
    ask(s, 4, { ttl: 10 * 60_000 });
    assert.equal(pump(s, T0).grants.length, 2);
    assert.equal(pump(s, T0 + 50_000).grants.length, 0, 'not dialed yet: the tokens are still held');
    assert.ok(release(s, 'c1-0', T0 + 50_000, true), 'refused before any request was sent: unused');
    assert.deepEqual(
      pump(s, T0 + 50_000).grants.map((g) => g.request.id),
      ['c1-2'],
    );
    assert.ok(release(s, 'c1-1', T0 + 51_000), 'released without a dial report: counted as a dial now');
    const r = pump(s, T0 + 55_000);
    assert.equal(r.grants.length, 0);
    assert.equal(r.wakeAt, T0 + 51_000 + 60_000);
  });

  it('holds concurrency with leases, wakes the next waiter on release, and takes back expired leases', () => {
    const s = state({ callsPerMinute: 1000, concurrency: 2 });
    ask(s, 4);
    assert.deepEqual(
      pump(s, T0).grants.map((g) => g.request.id),
      ['c1-0', 'c1-1'],
    );
    assert.equal(pump(s, T0 + 1).grants.length, 0, 'no capacity, no grant');
    assert.ok(release(s, 'c1-0', T0 + 2));
    assert.deepEqual(
      pump(s, T0 + 2).grants.map((g) => g.request.id),
      ['c1-2'],
    );
    // c1-1 is never released: its lease (60 s) expires and c1-3 gets the slot.
    const r = pump(s, T0 + 60_000);
    assert.deepEqual(
      r.expired.map((l) => l.id),
      ['c1-1'],
    );
    assert.deepEqual(
      r.grants.map((g) => g.request.id),
      ['c1-3'],
    );
    assert.equal(s.stats.expired, 1);
  });

  it('keeps reserved slots free', () => {
    const s = state({ concurrency: 5, reserved: 2 });
    ask(s, 5);
    assert.equal(pump(s, T0).grants.length, 3);
  });

  it('counts a task once toward the day, holds first attempts when the budget is spent, and rolls over', () => {
    const s = state({ tasksPerDay: 3, dayMs: 10_000, concurrency: 100 });
    const t = 50_000; // day 5 starts at 50,000
    ask(s, 5, { at: t });
    ask(s, 1, { firstAttempt: false, prefix: 'retry', at: t });
    const first = pump(s, t);
    assert.deepEqual(first.grants.map((g) => g.request.id).sort(), ['c1-0', 'c1-1', 'c1-2', 'retry-0']);
    assert.deepEqual(first.dayBlocked, { count: 2, resetsAt: 60_000 });
    assert.equal(first.wakeAt, 60_000);
    assert.equal(pump(s, 55_000).grants.length, 0);
    const next = pump(s, 60_000).grants;
    assert.deepEqual(
      next.map((g) => g.request.id),
      ['c1-3', 'c1-4'],
    );
    assert.equal(s.days.find(([k]) => k === 'd6')?.[1], 2, 'counted on the new day');
  });

  it('grants no first attempt in the last moments of a day', () => {
    const s = state({ tasksPerDay: 10, dayMs: 100_000 }); // edge: 5 s
    ask(s, 1, { at: 96_000 });
    ask(s, 1, { firstAttempt: false, prefix: 'retry', at: 96_000 });
    const r = pump(s, 96_000);
    assert.deepEqual(
      r.grants.map((g) => g.request.id),
      ['retry-0'],
      'a retry of a counted task may go',
    );
    assert.equal(r.wakeAt, 100_000);
    assert.deepEqual(
      pump(s, 100_000).grants.map((g) => g.request.id),
      ['c1-0'],
    );
  });

  it('serves campaigns first come first served by default', () => {
    const s = state({ concurrency: 3 });
    request(s, {
      id: 'b1',
      taskId: 'b1',
      campaign: 'B',
      firstAttempt: true,
      leaseTtlMs: 1e6,
      requestedAt: T0,
    });
    request(s, {
      id: 'a1',
      taskId: 'a1',
      campaign: 'A',
      firstAttempt: true,
      leaseTtlMs: 1e6,
      requestedAt: T0,
    });
    request(s, {
      id: 'b2',
      taskId: 'b2',
      campaign: 'B',
      firstAttempt: true,
      leaseTtlMs: 1e6,
      requestedAt: T0,
    });
    request(s, {
      id: 'a2',
      taskId: 'a2',
      campaign: 'A',
      firstAttempt: true,
      leaseTtlMs: 1e6,
      requestedAt: T0,
    });
    assert.deepEqual(
      pump(s, T0).grants.map((g) => g.request.id),
      ['b1', 'a1', 'b2'],
    );
  });

  it('serves campaigns in proportion to their weights', () => {
    const s = state({ concurrency: 1000 });
    setCampaign(s, 'A', { weight: 3 });
    setCampaign(s, 'B', { weight: 1 });
    ask(s, 40, { campaign: 'B' });
    ask(s, 40, { campaign: 'A' });
    s.limits.concurrency = 20;
    const ids = pump(s, T0).grants.map((g) => g.request.campaign);
    assert.equal(ids.filter((c) => c === 'A').length, 15);
    assert.equal(ids.filter((c) => c === 'B').length, 5);
  });

  it('skips a paused campaign and drops a finished one at once', () => {
    const s = state({ concurrency: 10 });
    ask(s, 3, { campaign: 'A' });
    ask(s, 3, { campaign: 'B' });
    setCampaign(s, 'A', { paused: true });
    assert.deepEqual(
      pump(s, T0).grants.map((g) => g.request.campaign),
      ['B', 'B', 'B'],
    );
    setCampaign(s, 'A', { paused: false });
    removeCampaign(s, 'A');
    assert.equal(s.queue.length, 0);
    assert.equal(pump(s, T0).grants.length, 0);
  });

  it("holds a campaign to its own concurrency cap below the account's", () => {
    const s = state({ concurrency: 10 });
    setCampaign(s, 'A', { cap: 2 });
    ask(s, 5, { campaign: 'A' });
    ask(s, 1, { campaign: 'B' });
    const got = pump(s, T0).grants.map((g) => g.request.campaign);
    assert.deepEqual(got.sort(), ['A', 'A', 'B']);
  });

  it('applies a live change of limits to what is waiting', () => {
    const s = state({ concurrency: 1 });
    ask(s, 4);
    assert.equal(pump(s, T0).grants.length, 1);
    s.limits = { ...s.limits, concurrency: 4 };
    assert.equal(pump(s, T0).grants.length, 3);
  });

  it('ignores a duplicate request and withdraws a queued one', () => {
    const s = state({ concurrency: 1 });
    ask(s, 2);
    ask(s, 2);
    assert.equal(s.queue.length, 2);
    assert.ok(withdraw(s, 'c1-1'));
    assert.equal(pump(s, T0).grants.length, 1);
    assert.equal(s.queue.length, 0);
  });

  it('estimates the minimum makespan from rate and concurrency', () => {
    const l = { callsPerMinute: 60, concurrency: 10, reserved: 0, windowMs: 60_000, tasksPerDay: null };
    assert.deepEqual(minimumMakespan(600, l, 5_000), { ms: 10 * 60_000, boundBy: 'rate' }); // 600 at 60/min
    assert.deepEqual(minimumMakespan(600, l, 120_000), { ms: (600 * 120_000) / 10, boundBy: 'concurrency' });
  });

  it('survives the JSON converter (continue-as-new) unchanged', () => {
    const s = state({ concurrency: 2, tasksPerDay: 5, dayMs: 1000 });
    ask(s, 4);
    pump(s, T0);
    const copy = JSON.parse(JSON.stringify(s)) as LimiterState;
    assert.deepEqual(copy, s);
    assert.deepEqual(pump(copy, T0 + 1), pump(s, T0 + 1));
  });
});
