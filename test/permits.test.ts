/**
 * The lean protocol's pure parts: a campaign's permits from its share (permits.ts) and the account's shares
 * among campaigns (account-shares.ts). Each limit is checked the way Unpod counts it: dials in any window, calls
 * at once, distinct tasks a day.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocate, hear, initialShares, type ShareState } from '../workflows/account-shares';
import type { CampaignDemand, ShareAllocation } from '../workflows/definitions';
import { DEFAULT_LIMITS, type Limits } from '../workflows/limiter-core';
import {
  applyAllocation,
  DIAL_WINDOW_MS,
  dialed,
  emptyPool,
  grant,
  prune,
  release,
  room,
  type PermitPool,
} from '../workflows/permits';

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const W = 60_000;

function limits(l: Partial<Limits> = {}): Limits & { version: number } {
  return { ...DEFAULT_LIMITS, tasksPerDay: null, windowMs: W, ...l, version: 0 };
}

function pool(
  alloc: Omit<Partial<ShareAllocation>, 'limits'> & { limits?: Partial<Limits> } = {},
): PermitPool {
  const p = emptyPool();
  applyAllocation(p, { seq: 1, slots: 10, rate: 10, day: null, ...alloc, limits: limits(alloc.limits) });
  return p;
}

const req = (i: number, countedDay: string | null = null) => ({ id: `t${i}#1`, taskId: `t${i}`, countedDay });

describe('a campaign grants permits from its share', () => {
  it('never lets a window hold more dials than its rate, however late the dials land', () => {
    const p = pool({ rate: 3, slots: 100 });
    const g = [0, 1, 2].map((i) => grant(p, req(i), T0, null));
    assert.ok(g.every(Boolean));
    assert.equal(grant(p, req(3), T0, null), null, 'the fourth token is not there');
    // Released after their calls: the tokens stay until one window after each dial.
    for (const [i, x] of g.entries()) {
      dialed(p, x!.id, T0 + 500 * (i + 1));
      release(p, x!.id, T0 + 5_000);
    }
    prune(p, T0 + W);
    assert.equal(grant(p, req(4), T0 + W, null), null, 'the first dial (T0+0.5 s) is still in the window');
    prune(p, T0 + W + 501);
    assert.ok(grant(p, req(5), T0 + W + 501, null), 'one window after the first dial a token is free');
  });

  it('counts a permit never reported dialed as dialed at its dialBy, the latest it can have been', () => {
    const p = pool({ rate: 1 });
    const g = grant(p, req(1), T0, null)!;
    assert.equal(g.dialBy, T0 + DIAL_WINDOW_MS);
    release(p, g.id, T0 + 10 * 60_000); // an hour-long call whose dial report was lost
    prune(p, T0 + 10 * 60_000);
    assert.ok(grant(p, req(2), T0 + 10 * 60_000, null), 'its token left the window long ago');
    const q = pool({ rate: 1 });
    const h = grant(q, req(1), T0, null)!;
    prune(q, T0 + DIAL_WINDOW_MS + W - 1);
    assert.equal(grant(q, req(2), T0 + DIAL_WINDOW_MS + W - 1, null), null, 'held until dialBy + window');
    assert.equal(room(q, T0, null).tokenAt, T0 + DIAL_WINDOW_MS + W);
    void h;
    // Released before its dialBy with no dial reported: the dial counts as made at the release, not the grant.
    const r = pool({ rate: 1 });
    const k = grant(r, req(1), T0, null)!;
    release(r, k.id, T0 + 5_000);
    prune(r, T0 + W + 1);
    assert.equal(grant(r, req(2), T0 + W + 1, null), null, 'still in the window one window after the grant');
    prune(r, T0 + 5_000 + W + 1);
    assert.ok(grant(r, req(3), T0 + 5_000 + W + 1, null));
  });

  it('gives the token back at once when nothing was dialed on the permit', () => {
    const p = pool({ rate: 1 });
    const g = grant(p, req(1), T0, null)!;
    release(p, g.id, T0 + 100, { unused: true });
    assert.ok(grant(p, req(2), T0 + 100, null));
  });

  it('holds a slot from grant to release, and never more slots than the share or the run cap', () => {
    const p = pool({ slots: 2, rate: 100 });
    assert.ok(grant(p, req(1), T0, null));
    assert.ok(grant(p, req(2), T0, null));
    assert.equal(grant(p, req(3), T0, null), null);
    release(p, 't1#1', T0 + 1);
    assert.ok(grant(p, req(3), T0 + 1, null));
    assert.equal(grant(p, req(4), T0 + 2, 2), null, 'the run cap binds too');
  });

  it('takes a slot back a lease after the dial, not after the grant: a create that lands late keeps its slot', () => {
    const lease = 5 * 60_000;
    const p = pool({ slots: 1, rate: 100 });
    const g = grant(p, req(1), T0, null)!;
    dialed(p, g.id, T0 + 50_000); // the create was retried: it landed 50 s after the grant, before its dialBy
    prune(p, T0 + lease + 1, lease);
    assert.equal(
      grant(p, req(2), T0 + lease + 1, null),
      null,
      'a lease after the grant the call may be live',
    );
    prune(p, T0 + 50_000 + lease + 1, lease);
    assert.ok(grant(p, req(3), T0 + 50_000 + lease + 1, null), 'a lease after the dial the slot is free');
    // Never reported dialed: counted from its dialBy, the latest the dial can have been.
    const q = pool({ slots: 1, rate: 100 });
    const h = grant(q, req(1), T0, null)!;
    prune(q, h.dialBy + lease - 1, lease);
    assert.equal(grant(q, req(2), h.dialBy + lease - 1, null), null);
    prune(q, h.dialBy + lease, lease);
    assert.ok(grant(q, req(3), h.dialBy + lease, null));
  });

  it('counts a task once on each day it dials on: a retry on a later day counts again (tasks/day)', () => {
    const day = 10_000;
    const p = pool({ limits: { tasksPerDay: 1, dayMs: day }, rate: 100 });
    const start = Math.ceil(T0 / day) * day; // a day starts
    applyAllocation(p, {
      seq: 2,
      slots: 10,
      rate: 100,
      day: { key: `d${Math.floor(start / day)}`, quota: 1, resetAt: start + day, full: true },
      limits: limits({ tasksPerDay: 1, dayMs: day }),
    });
    const g = grant(p, req(1), start + 10, null)!;
    assert.ok(g.dayKey, 'the first attempt counted');
    assert.ok(g.dialBy < start + day, 'its dial must fall on the day it counted on');
    release(p, g.id, start + 20, { dialedAt: start + 15 });
    assert.equal(grant(p, req(2), start + 30, null), null, 'the day is spent');
    assert.ok(grant(p, { ...req(1, g.dayKey), id: 't1#2' }, start + 40, null), 'a retry counted today goes');
    release(p, 't1#2', start + 50, { dialedAt: start + 45 });
    // Next day: no quota for it yet, so the same task's retry waits like any first attempt.
    prune(p, start + day + 100);
    assert.equal(grant(p, { ...req(1, g.dayKey), id: 't1#3' }, start + day + 100, null), null);
  });

  it('gives a day unit back when the permit that counted it was never dialed on', () => {
    const day = 60_000;
    const start = Math.ceil(T0 / day) * day;
    const p = pool();
    applyAllocation(p, {
      seq: 2,
      slots: 10,
      rate: 100,
      day: { key: `d${Math.floor(start / day)}`, quota: 1, resetAt: start + day, full: true },
      limits: limits({ tasksPerDay: 1, dayMs: day }),
    });
    const g = grant(p, req(1), start + 10, null)!;
    release(p, g.id, start + 20, { unused: true });
    assert.ok(grant(p, req(2), start + 30, null), 'the unit came back');
  });

  it('ignores an allocation older than the one it has (a signal delayed on its way)', () => {
    const p = pool({ seq: 5, slots: 3 });
    assert.equal(applyAllocation(p, { seq: 4, slots: 50, rate: 50, day: null, limits: limits() }), false);
    assert.equal(p.alloc!.slots, 3);
  });
});

function demand(id: string, d: Partial<CampaignDemand> = {}): CampaignDemand {
  return {
    campaign: id,
    workflowId: `campaign-${id}`,
    wants: 100,
    held: 0,
    tokens: 0,
    weight: 1,
    cap: null,
    paused: false,
    done: false,
    seenSeq: 0,
    allocSlots: 0,
    allocRate: 0,
    day: null,
    dayWants: 0,
    ...d,
  };
}

function sent(s: ShareState, now: number) {
  return Object.fromEntries(allocate(s, now).map((a) => [a.to, a.alloc]));
}
const committed = (s: ShareState) => ({
  slots: s.campaigns.reduce((a, c) => a + Math.max(c.slots, c.held, c.usableSlots), 0),
  rate:
    s.campaigns.reduce((a, c) => a + Math.max(c.rate, c.usableRate), 0) +
    s.returns.reduce((a, [n]) => a + n, 0),
});

describe('the account splits its limits into shares', () => {
  it('gives one campaign everything at once', () => {
    const s = initialShares(limits({ concurrency: 10, callsPerMinute: 60 }));
    hear(s, demand('A'), T0);
    const a = sent(s, T0)['campaign-A']!;
    assert.equal(a.slots, 10);
    assert.equal(a.rate, 60);
  });

  it('a new run joining an old one: the old keeps what it uses until it applies the cut, and neither starves', () => {
    const s = initialShares(limits({ concurrency: 10, callsPerMinute: 60 }));
    hear(s, demand('A'), T0);
    const a1 = sent(s, T0)['campaign-A']!;
    hear(s, demand('A', { seenSeq: a1.seq, allocSlots: 10, allocRate: 60, held: 10, tokens: 60 }), T0 + 1);
    hear(s, demand('B', { weight: 3 }), T0 + 2);
    const out = sent(s, T0 + 2);
    assert.ok(out['campaign-A'], 'A is told its cut');
    assert.ok(committed(s).slots <= 10 && committed(s).rate <= 60, 'nothing over-committed');
    assert.equal(out['campaign-B']?.slots ?? 0, 0, 'B gets no slot A still holds');
    // A's calls end and it applies the cut: slots move now; rate A used moves one window later.
    hear(s, demand('A', { seenSeq: out['campaign-A']!.seq, held: 2, tokens: 20 }), T0 + 3_000);
    const later = sent(s, T0 + 3_000);
    assert.ok((later['campaign-B']?.slots ?? 0) > 0, 'B gets slots once A gave them up');
    assert.ok(committed(s).slots <= 10 && committed(s).rate <= 60);
    const afterWindow = sent(s, T0 + 3_000 + W + 1);
    const b = afterWindow['campaign-B'] ?? later['campaign-B']!;
    assert.ok(b.rate >= 40, `by weight 3:1 B ends with most of the rate (got ${b.rate})`);
    const aNow = s.campaigns.find((c) => c.id === 'A')!;
    assert.ok(aNow.rate > 0 && aNow.slots > 0, 'the old run is not starved');
  });

  it('a campaign that said it is done does not come back on a late demand (the limiter ignores it)', () => {
    const s = initialShares(limits());
    hear(s, demand('A'), T0);
    sent(s, T0);
    hear(s, demand('A', { done: true }), T0 + 10);
    hear(s, demand('A'), T0 + 20); // a heartbeat that was on its way
    assert.equal(s.campaigns.length, 0);
  });

  it('a limiter started anew hands out no more than campaigns report holding until it has heard from all', () => {
    const s = initialShares(limits({ concurrency: 10, callsPerMinute: 60 }), T0 + 35_000);
    hear(s, demand('A', { held: 4, tokens: 4, allocSlots: 5, allocRate: 30, seenSeq: 7 }), T0);
    const a = sent(s, T0)['campaign-A'];
    assert.ok(!a || a.slots <= 5, 'no growth while settling');
    const later = sent(s, T0 + 36_000)['campaign-A']!;
    assert.equal(later.slots, 10);
  });

  it('a limiter started anew lets each run keep the share it was given while it settles, and no more', () => {
    // The lost limiter gave A 6 slots and 40 calls a minute, B 4 and 20. Each still holds fewer.
    const s = initialShares(limits({ concurrency: 10, callsPerMinute: 60 }), T0 + 35_000);
    hear(s, demand('A', { held: 2, tokens: 5, allocSlots: 6, allocRate: 40, seenSeq: 7 }), T0);
    hear(s, demand('B', { held: 1, tokens: 3, allocSlots: 4, allocRate: 20, seenSeq: 9 }), T0);
    const out = allocate(s, T0, { keepWhileSettling: true });
    const a = out.find((x) => x.to === 'campaign-A')!.alloc;
    const b = out.find((x) => x.to === 'campaign-B')!.alloc;
    assert.deepEqual(
      [a.slots, a.rate, b.slots, b.rate],
      [6, 40, 4, 20],
      'each keeps what it had: none stops',
    );
    assert.ok(committed(s).slots <= 10 && committed(s).rate <= 60, 'nothing over-committed');
    // A third run heard of while settling gets nothing the others may still use.
    hear(s, demand('C'), T0 + 1_000);
    const c = allocate(s, T0 + 1_000, { keepWhileSettling: true }).find((x) => x.to === 'campaign-C');
    assert.ok(!c || (c.alloc.slots === 0 && c.alloc.rate === 0), JSON.stringify(c));
    assert.ok(committed(s).slots <= 10 && committed(s).rate <= 60);
    // Without it (a limiter from before the patch), a run kept only what it held, and no rate: it stopped.
    const old = initialShares(limits({ concurrency: 10, callsPerMinute: 60 }), T0 + 35_000);
    hear(old, demand('A', { held: 2, tokens: 5, allocSlots: 6, allocRate: 40, seenSeq: 7 }), T0);
    const was = sent(old, T0)['campaign-A']!;
    assert.deepEqual([was.slots, was.rate], [2, 0]);
  });

  it('hands tasks/day out in quotas, never more than the plan in all', () => {
    const s = initialShares(limits({ tasksPerDay: 50, dayMs: 86_400_000 }));
    hear(s, demand('A', { dayWants: 40 }), T0);
    hear(s, demand('B', { dayWants: 40 }), T0);
    sent(s, T0);
    const quotas = s.campaigns.map((c) => c.day.quota);
    assert.equal(
      quotas.reduce((a, b) => a + b, 0),
      50,
    );
  });
});
