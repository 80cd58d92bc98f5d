/**
 * Calling windows in a contact's zone (workflows/calling-window.ts): pure functions, across zones and DST changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  firstAttemptTime,
  isInsideWindow,
  MAX_LOOKAHEAD_DAYS,
  nextWindowOpening,
  planAttempt,
  validateCallingWindow,
  wallToInstant,
  windowZone,
  type CallingWindow,
} from '../workflows/calling-window';

const T = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ALL = [0, 1, 2, 3, 4, 5, 6];
const WEEKDAYS: CallingWindow = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
const NY = 'America/New_York';

describe('nextWindowOpening', () => {
  it('is `from` itself inside the window, and the next opening outside it', () => {
    const mon10 = T('2025-01-06T15:00:00Z'); // Monday 10:00 EST
    assert.equal(nextWindowOpening(WEEKDAYS, NY, mon10), mon10);
    assert.equal(iso(nextWindowOpening(WEEKDAYS, NY, T('2025-01-06T13:59:59Z'))), '2025-01-06T14:00:00.000Z');
    // the end is excluded: at 17:00 the next opening is Tuesday 09:00
    assert.equal(iso(nextWindowOpening(WEEKDAYS, NY, T('2025-01-06T22:00:00Z'))), '2025-01-07T14:00:00.000Z');
    // Friday evening → Monday morning
    assert.equal(iso(nextWindowOpening(WEEKDAYS, NY, T('2025-01-10T23:00:00Z'))), '2025-01-13T14:00:00.000Z');
  });

  it('America/New_York spring-forward: 09:00 is 09:00 EDT; a start in the skipped hour opens at 03:00 EDT', () => {
    const sat = T('2025-03-08T17:00:00Z');
    const sunday = { days: [0], start: '09:00', end: '17:00' };
    assert.equal(iso(nextWindowOpening(sunday, NY, sat)), '2025-03-09T13:00:00.000Z');
    assert.equal(iso(nextWindowOpening({ ...sunday, start: '02:30' }, NY, sat)), '2025-03-09T07:00:00.000Z');
    // a window wholly inside the gap does not exist that day: the next Sunday's
    assert.equal(
      iso(nextWindowOpening({ days: [0], start: '02:00', end: '02:30' }, NY, sat)),
      '2025-03-16T06:00:00.000Z',
    );
    // the day after: 09:00 EDT again
    assert.equal(iso(nextWindowOpening(WEEKDAYS, NY, T('2025-03-09T20:00:00Z'))), '2025-03-10T13:00:00.000Z');
  });

  it('America/New_York fall-back: a repeated local time opens at its first occurrence', () => {
    const sat = T('2025-11-01T12:00:00Z');
    assert.equal(
      iso(nextWindowOpening({ days: [0], start: '01:30', end: '03:00' }, NY, sat)),
      '2025-11-02T05:30:00.000Z', // 01:30 EDT
    );
    assert.equal(
      iso(nextWindowOpening({ days: [0], start: '09:00', end: '17:00' }, NY, sat)),
      '2025-11-02T14:00:00.000Z',
    );
    // 01:00–01:30 happens once for the window (EDT); the second pass (EST) is outside it
    const w = { days: [0], start: '01:00', end: '01:30' };
    assert.equal(isInsideWindow(w, NY, T('2025-11-02T05:15:00Z')), true);
    assert.equal(isInsideWindow(w, NY, T('2025-11-02T06:15:00Z')), false);
    assert.equal(iso(nextWindowOpening(w, NY, T('2025-11-02T06:15:00Z'))), '2025-11-09T06:00:00.000Z');
    // 01:00–02:00 covers both passes: 2 hours of real time
    assert.equal(
      isInsideWindow({ days: [0], start: '01:00', end: '02:00' }, NY, T('2025-11-02T06:45:00Z')),
      true,
    );
  });

  it('Europe/London: 09:00 is 09:00Z in winter and 08:00Z in summer; a start in the BST gap opens at 02:00 BST', () => {
    const L = 'Europe/London';
    assert.equal(iso(nextWindowOpening(WEEKDAYS, L, T('2025-01-05T12:00:00Z'))), '2025-01-06T09:00:00.000Z');
    assert.equal(iso(nextWindowOpening(WEEKDAYS, L, T('2025-06-01T12:00:00Z'))), '2025-06-02T08:00:00.000Z');
    assert.equal(
      iso(nextWindowOpening({ days: [0], start: '01:30', end: '04:00' }, L, T('2025-03-29T12:00:00Z'))),
      '2025-03-30T01:00:00.000Z',
    );
  });

  it('Asia/Kolkata (+05:30, no DST): Friday evening → Monday 09:00 IST', () => {
    const K = 'Asia/Kolkata';
    assert.equal(iso(nextWindowOpening(WEEKDAYS, K, T('2025-06-06T12:30:00Z'))), '2025-06-09T03:30:00.000Z');
    assert.equal(isInsideWindow(WEEKDAYS, K, T('2025-06-06T11:29:00Z')), true); // Fri 16:59 IST
    assert.equal(isInsideWindow(WEEKDAYS, K, T('2025-06-06T11:30:00Z')), false); // Fri 17:00 IST
  });

  it("Australia/Lord_Howe's 30-minute DST: gap and repeat of half an hour", () => {
    const LH = 'Australia/Lord_Howe';
    // 5 Oct 2025 02:00 (+10:30) → 02:30 (+11): a 02:00 start opens at the change, 15:30Z the day before
    assert.equal(
      iso(nextWindowOpening({ days: [0], start: '02:00', end: '03:00' }, LH, T('2025-10-04T00:00:00Z'))),
      '2025-10-04T15:30:00.000Z',
    );
    // 6 Apr 2025 02:00 (+11) → 01:30 (+10:30): 01:45 happens twice, the first at +11
    assert.equal(
      iso(nextWindowOpening({ days: [0], start: '01:45', end: '03:00' }, LH, T('2025-04-05T00:00:00Z'))),
      '2025-04-05T14:45:00.000Z',
    );
  });

  it('overnight windows belong to the day they start on', () => {
    const fri = { days: [5], start: '22:00', end: '02:00' };
    const Z = 'UTC';
    assert.equal(isInsideWindow(fri, Z, T('2025-06-06T23:00:00Z')), true); // Fri 23:00
    assert.equal(isInsideWindow(fri, Z, T('2025-06-07T01:59:00Z')), true); // Sat 01:59
    assert.equal(isInsideWindow(fri, Z, T('2025-06-07T02:00:00Z')), false);
    assert.equal(isInsideWindow(fri, Z, T('2025-06-08T01:00:00Z')), false); // Sun 01:00: Saturday is not a day
    assert.equal(iso(nextWindowOpening(fri, Z, T('2025-06-06T21:00:00Z'))), '2025-06-06T22:00:00.000Z');
    assert.equal(iso(nextWindowOpening(fri, Z, T('2025-06-07T03:00:00Z'))), '2025-06-13T22:00:00.000Z');
    // an overnight window over the fall-back night in New York lasts one hour longer
    const sat = { days: [6], start: '22:00', end: '06:00' };
    assert.equal(isInsideWindow(sat, NY, T('2025-11-02T10:59:00Z')), true); // Sun 05:59 EST
    assert.equal(isInsideWindow(sat, NY, T('2025-11-02T11:00:00Z')), false); // Sun 06:00 EST
  });

  it('blackout dates are skipped, in the contact zone, and cut an overnight tail', () => {
    const w = { ...WEEKDAYS, blackoutDates: ['2025-12-25'] };
    // Wednesday 24 Dec 18:00 EST → Friday 26 Dec 09:00 EST (Thursday 25th is blacked out)
    assert.equal(iso(nextWindowOpening(w, NY, T('2025-12-24T23:00:00Z'))), '2025-12-26T14:00:00.000Z');
    assert.equal(isInsideWindow(w, NY, T('2025-12-25T15:00:00Z')), false);
    // 25 Dec 03:00Z is still the 24th in New York: inside is decided in the contact's zone
    const allDay = { days: ALL, start: '00:00', end: '00:00', blackoutDates: ['2025-12-25'] };
    assert.equal(isInsideWindow(allDay, NY, T('2025-12-25T03:00:00Z')), true);
    assert.equal(isInsideWindow(allDay, 'Asia/Kolkata', T('2025-12-25T03:00:00Z')), false);
    const fri = { days: [5], start: '22:00', end: '02:00', blackoutDates: ['2025-06-07'] };
    assert.equal(isInsideWindow(fri, 'UTC', T('2025-06-06T23:00:00Z')), true);
    assert.equal(isInsideWindow(fri, 'UTC', T('2025-06-07T01:00:00Z')), false);
    assert.equal(iso(nextWindowOpening(fri, 'UTC', T('2025-06-07T00:30:00Z'))), '2025-06-13T22:00:00.000Z');
    // a blackout on the opening day of an overnight window: it opens at the next midnight instead
    const fri2 = { days: [5], start: '22:00', end: '02:00', blackoutDates: ['2025-06-06'] };
    assert.equal(iso(nextWindowOpening(fri2, 'UTC', T('2025-06-06T12:00:00Z'))), '2025-06-07T00:00:00.000Z');
  });

  it('a window with no days never opens; one blacked out past the look-ahead gives null too', () => {
    const none = { days: [], start: '09:00', end: '17:00' };
    assert.equal(nextWindowOpening(none, NY, T('2025-01-01T00:00:00Z')), null);
    assert.equal(isInsideWindow(none, NY, T('2025-01-06T15:00:00Z')), false);
    const mondays: string[] = [];
    for (let t = T('2025-01-06T12:00:00Z'); mondays.length < 60; t += 7 * 86_400_000)
      mondays.push(new Date(t).toISOString().slice(0, 10));
    const started = Date.now();
    assert.equal(
      nextWindowOpening(
        { days: [1], start: '09:00', end: '10:00', blackoutDates: mondays },
        NY,
        T('2025-01-01T00:00:00Z'),
      ),
      null,
    );
    assert.ok(Date.now() - started < 2_000, 'bounded: a year of days, not minutes');
    assert.ok(MAX_LOOKAHEAD_DAYS >= 366);
  });

  it('start === end is the whole day; 24:00 is the end of the day', () => {
    const whole = { days: [2], start: '00:00', end: '00:00' };
    assert.equal(isInsideWindow(whole, 'UTC', T('2025-06-03T00:00:00Z')), true);
    assert.equal(isInsideWindow(whole, 'UTC', T('2025-06-03T23:59:59Z')), true);
    assert.equal(isInsideWindow(whole, 'UTC', T('2025-06-04T00:00:00Z')), false);
    const evening = { days: [2], start: '18:00', end: '24:00' };
    assert.equal(isInsideWindow(evening, 'UTC', T('2025-06-03T23:59:00Z')), true);
    assert.equal(isInsideWindow(evening, 'UTC', T('2025-06-04T00:00:00Z')), false);
  });

  it('the opening is never before `from`, is inside the window, and nothing in between is (sampled)', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const zones = [
      NY,
      'Europe/London',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'America/Phoenix',
      'Pacific/Chatham',
    ];
    const windows: CallingWindow[] = [
      WEEKDAYS,
      { days: [0, 6], start: '10:00', end: '14:00' },
      { days: [1, 3, 5], start: '20:00', end: '02:30' },
      { days: ALL, start: '01:30', end: '02:15', blackoutDates: ['2025-03-09', '2025-11-02'] },
    ];
    for (let i = 0; i < 200; i++) {
      const zone = zones[i % zones.length]!;
      const w = windows[Math.floor(rand() * windows.length)]!;
      const from = T('2025-01-01T00:00:00Z') + Math.floor(rand() * 365 * 86_400_000);
      const at = nextWindowOpening(w, zone, from);
      assert.ok(at !== null, `${zone} ${JSON.stringify(w)} from ${iso(from)}`);
      assert.ok(at >= from);
      assert.equal(isInsideWindow(w, zone, at), true, `${zone} ${JSON.stringify(w)} at ${iso(at)}`);
      for (let t = from; t < at; t += 15 * 60_000)
        assert.equal(
          isInsideWindow(w, zone, t),
          false,
          `${zone} ${JSON.stringify(w)} open at ${iso(t)} < ${iso(at)}`,
        );
    }
  });
});

describe('wallToInstant', () => {
  it('maps local times to instants, gaps forward and repeats to the first', () => {
    assert.equal(iso(wallToInstant(NY, Date.UTC(2025, 6, 4, 12))), '2025-07-04T16:00:00.000Z');
    assert.equal(iso(wallToInstant(NY, Date.UTC(2025, 2, 9, 2, 30))), '2025-03-09T07:00:00.000Z');
    assert.equal(iso(wallToInstant(NY, Date.UTC(2025, 10, 2, 1, 30))), '2025-11-02T05:30:00.000Z');
    assert.equal(iso(wallToInstant('Asia/Kolkata', Date.UTC(2025, 0, 1, 9))), '2025-01-01T03:30:00.000Z');
  });
});

describe('validateCallingWindow', () => {
  it('names every bad field', () => {
    assert.deepEqual(validateCallingWindow(WEEKDAYS), []);
    const problems = validateCallingWindow({
      days: [1, 7],
      start: '9:00',
      end: '25:00',
      blackoutDates: ['2025-02-30'],
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems.join('\n'), /days: 7/);
    assert.match(problems.join('\n'), /start: '9:00'/);
    assert.match(problems.join('\n'), /end: '25:00'/);
    assert.match(problems.join('\n'), /blackoutDates: '2025-02-30'/);
    assert.throws(() => nextWindowOpening({ days: [1], start: 'x', end: '10:00' }, NY, 0), RangeError);
    assert.throws(() => isInsideWindow(WEEKDAYS, 'Mars/Olympus', 0), RangeError);
  });
});

describe('per-contact times, deadline and zone choice', () => {
  const created = T('2025-06-01T12:00:00Z');
  it('firstAttemptTime: a future call_at waits; a past one is called at once or skipped, by flag', () => {
    assert.deepEqual(firstAttemptTime(undefined, created + 5, created), { kind: 'at', atMs: created + 5 });
    assert.deepEqual(firstAttemptTime('2025-06-02T09:00:00.000Z', created, created), {
      kind: 'at',
      atMs: T('2025-06-02T09:00:00Z'),
    });
    assert.deepEqual(firstAttemptTime('2025-05-31T09:00:00.000Z', created + 10, created, 'call'), {
      kind: 'at',
      atMs: created + 10,
    });
    const skip = firstAttemptTime('2025-05-31T09:00:00.000Z', created + 10, created, 'skip');
    assert.equal(skip.kind, 'skip');
    assert.match((skip as { reason: string }).reason, /call_at 2025-05-31T09:00:00.000Z had already passed/);
    // a task that starts after its call_at because it queued is not "past": judged against the run's creation
    assert.deepEqual(
      firstAttemptTime('2025-06-01T13:00:00.000Z', T('2025-06-01T14:00:00Z'), created, 'skip'),
      {
        kind: 'at',
        atMs: T('2025-06-01T14:00:00Z'),
      },
    );
  });

  it('planAttempt: the next opening, or expired at the deadline', () => {
    const sat = T('2025-06-07T12:00:00Z');
    assert.deepEqual(planAttempt({ window: WEEKDAYS, zone: NY, earliestMs: sat }), {
      kind: 'at',
      atMs: T('2025-06-09T13:00:00Z'),
    });
    assert.deepEqual(planAttempt({ zone: NY, earliestMs: sat }), { kind: 'at', atMs: sat });
    const late = planAttempt({
      window: WEEKDAYS,
      zone: NY,
      earliestMs: sat,
      deadlineMs: T('2025-06-08T00:00:00Z'),
    });
    assert.equal(late.kind, 'expired');
    assert.match(
      (late as { reason: string }).reason,
      /does not open again before the deadline 2025-06-08T00:00:00.000Z/,
    );
    const passed = planAttempt({ zone: NY, earliestMs: sat, deadlineMs: sat });
    assert.equal(passed.kind, 'expired');
    assert.match((passed as { reason: string }).reason, /deadline .* passed/);
    const never = planAttempt({
      window: { days: [], start: '09:00', end: '17:00' },
      zone: NY,
      earliestMs: sat,
    });
    assert.equal(never.kind, 'expired');
  });

  it("windowZone: the contact's zone, else the campaign's, else UTC", () => {
    assert.equal(windowZone('Asia/Kolkata', NY), 'Asia/Kolkata');
    assert.equal(windowZone(undefined, NY), NY);
    assert.equal(windowZone('Not/AZone', NY), NY);
    assert.equal(windowZone(undefined, undefined), 'UTC');
  });
});
