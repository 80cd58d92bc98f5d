/**
 * Per-contact times and zones at ingestion: remind_before + appointment_at → callAt, the zone derived from the
 * number, durations, and rejects naming line and column.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import {
  ingestContacts,
  parseDuration,
  zoneForContact,
  zoneFromNumber,
  type Contact,
  type IngestOptions,
  type IngestSummary,
} from '../src/contacts';

async function ingest(
  csv: string,
  opts: Partial<IngestOptions> = {},
): Promise<{ contacts: Contact[]; summary: IngestSummary }> {
  const r = ingestContacts(Readable.from([Buffer.from(csv)]), { defaultRegion: 'US', ...opts });
  const contacts: Contact[] = [];
  for await (const b of r.batches) contacts.push(...b.contacts);
  return { contacts, summary: await r.summary };
}

describe('durations', () => {
  it("reads people's and ISO 8601 durations, refuses the rest", () => {
    const ms = (v: string) => {
      const r = parseDuration(v);
      return 'ms' in r ? r.ms : r.error;
    };
    assert.equal(ms('24h'), 86_400_000);
    assert.equal(ms('2 hours'), 7_200_000);
    assert.equal(ms('1 day 2h'), 93_600_000);
    assert.equal(ms('1h30m'), 5_400_000);
    assert.equal(ms('PT24H'), 86_400_000);
    assert.equal(ms('P1DT12H'), 129_600_000);
    assert.equal(ms('PT1.5H'), 5_400_000);
    assert.match(String(ms('P1M')), /months and years/);
    assert.match(String(ms('24')), /no unit/);
    assert.match(String(ms('soon')), /not a duration/);
    assert.match(String(ms('-1h')), /not a duration/);
  });
});

describe('zone from the number', () => {
  it('single-zone countries, US/CA area codes in one zone, else undefined', () => {
    assert.equal(zoneFromNumber('+919876543210'), 'Asia/Kolkata');
    assert.equal(zoneFromNumber('+442079460000'), 'Europe/London');
    assert.equal(zoneFromNumber('+4930123456'), 'Europe/Berlin'); // Berlin and Büsingen: same rules
    assert.equal(zoneFromNumber('+14155550101'), 'America/Los_Angeles');
    assert.equal(zoneFromNumber('+12125550101'), 'America/New_York');
    assert.equal(zoneFromNumber('+16025550101'), 'America/Phoenix');
    assert.equal(zoneFromNumber('+16135550101'), 'America/Toronto');
    assert.equal(zoneFromNumber('+18765550101'), 'America/Jamaica'); // NANP, by country
    assert.equal(zoneFromNumber('+12085550101'), undefined); // Idaho: two zones
    assert.equal(zoneFromNumber('+34911234567'), undefined); // Spain: mainland and Canaries
    assert.equal(zoneFromNumber('+61212345678'), undefined); // Australia
  });
  it('precedence: the list, then the number, then the campaign', () => {
    assert.equal(zoneForContact('Europe/Paris', '+14155550101', 'UTC'), 'Europe/Paris');
    assert.equal(zoneForContact(undefined, '+14155550101', 'UTC'), 'America/Los_Angeles');
    assert.equal(zoneForContact(undefined, '+12085550101', 'America/Boise'), 'America/Boise');
  });
});

describe('per-contact call times in ingestion', () => {
  it('remind_before before appointment_at gives callAt; appointment_at stays in metadata for the agent', async () => {
    const { contacts, summary } = await ingest(
      [
        'phone,timezone,appointment_at,remind_before',
        '4155550101,,2025-07-14T09:00:00-07:00,24h', // offset given
        '4155550102,America/New_York,2025-07-14 09:00,2 hours', // local, row zone
        '4155550103,,2025-07-14 09:00,PT30M', // local, zone from the number (415: Los Angeles)
        '4155550104,,2025-03-09 03:30,1h', // local, LA spring-forward day: 02:30 is skipped
      ].join('\n'),
      { timezoneFromNumber: true },
    );
    assert.equal(summary.rejected, 0, JSON.stringify(summary.rejects));
    assert.deepEqual(
      contacts.map((c) => [c.callAt, c.timezone]),
      [
        ['2025-07-13T16:00:00.000Z', 'America/Los_Angeles'],
        ['2025-07-14T11:00:00.000Z', 'America/New_York'],
        ['2025-07-14T15:30:00.000Z', 'America/Los_Angeles'],
        ['2025-03-09T09:30:00.000Z', 'America/Los_Angeles'],
      ],
    );
    assert.equal(contacts[0]!.metadata.appointment_at, '2025-07-14T09:00:00-07:00');
    assert.equal(contacts[0]!.metadata.remind_before, undefined);
    assert.equal(summary.columns.remindBefore, 'remind_before');
  });

  it('a campaign-wide remind_before and zone apply to rows that give none', async () => {
    const { contacts, summary } = await ingest('phone,appointment_at\n+12085550101,2025-07-14 09:00\n', {
      remindBefore: 86_400_000,
      defaultTimezone: 'America/Boise',
      timezoneFromNumber: true,
    });
    assert.equal(summary.rejected, 0, JSON.stringify(summary.rejects));
    assert.equal(contacts[0]!.callAt, '2025-07-13T15:00:00.000Z');
    assert.equal(contacts[0]!.timezone, undefined, 'Idaho has two zones: the campaign zone applies later');
  });

  it('without timezoneFromNumber no zone is stored (the old behaviour)', async () => {
    const { contacts } = await ingest('phone\n4155550101\n');
    assert.equal(contacts[0]!.timezone, undefined);
  });

  it('bad values are rejected naming line and column; valid rows go ahead', async () => {
    const { contacts, summary } = await ingest(
      [
        'phone,Appointment At,Remind Before,call_at',
        '4155550101,2025-07-14T09:00:00Z,soon,', // 2
        '4155550102,,24h,', // 3
        '4155550103,next tuesday,24h,', // 4
        '4155550104,2025-07-14T09:00:00Z,24h,2025-07-13T09:00:00Z', // 5
        '4155550105,2025-07-14 09:00,24h,', // 6: local time, no zone anywhere
        '4155550106,2025-07-14T09:00:00Z,24h,', // 7: fine
      ].join('\n'),
    );
    assert.deepEqual(
      summary.rejects.map((r) => [r.line, r.column]),
      [
        [2, 'Remind Before'],
        [3, 'Appointment At'],
        [4, 'Appointment At'],
        [5, 'Remind Before'],
        [6, 'Appointment At'],
      ],
    );
    const reasons = summary.rejects.map((r) => r.reason);
    assert.match(reasons[0]!, /'soon' is not a duration/);
    assert.match(reasons[1]!, /no appointment time/);
    assert.match(reasons[2]!, /'next tuesday' is not an ISO 8601/);
    assert.match(reasons[3]!, /both call_at and remind_before/);
    assert.match(reasons[4]!, /has no time zone/);
    assert.deepEqual(
      contacts.map((c) => [c.line, c.callAt]),
      [[7, '2025-07-13T09:00:00.000Z']],
    );
  });
});
