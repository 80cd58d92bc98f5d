/**
 * Durations as people write them in a contact list or on the command line: "24h", "2 hours", "1 day 2h",
 * "90m", "1h30m", or ISO 8601 ("PT24H", "P1D", "P1DT12H", "P2W"). A day is 24 hours; months and years are
 * refused (their length is ambiguous).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1_000,
  sec: 1_000,
  secs: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const ISO =
  /^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;
const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;

/** Milliseconds, or an error message quoting the value. */
export function parseDuration(value: string): { ms: number } | { error: string } {
  const v = value.trim();
  const bad = {
    error: `'${v}' is not a duration (e.g. 24h, 2 hours, 1 day, 90m, or ISO 8601 such as PT24H or P1D)`,
  };
  if (v === '') return bad;
  if (/^P/i.test(v)) {
    if (/[YM]/i.test(v.split(/T/i)[0]!.slice(1)))
      return { error: `'${v}': months and years have no fixed length; use days (e.g. P30D)` };
    const m = ISO.exec(v);
    if (!m || v.toUpperCase() === 'P' || /T$/i.test(v)) return bad;
    const n = (i: number) => Number((m[i] ?? '0').replace(',', '.'));
    const ms =
      n(1) * UNIT_MS.w! + n(2) * UNIT_MS.d! + n(3) * UNIT_MS.h! + n(4) * UNIT_MS.m! + n(5) * UNIT_MS.s!;
    return { ms: Math.round(ms) };
  }
  const text = v.toLowerCase().replace(/\band\b|,/g, ' ');
  let total = 0;
  let parts = 0;
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    PART.lastIndex = i;
    const m = PART.exec(text);
    const unit = m ? UNIT_MS[m[2]!] : undefined;
    if (!m || unit === undefined) {
      if (/^\d+$/.test(text.slice(i).trim()) && parts === 0)
        return { error: `'${v}' has no unit: write e.g. ${v}h or ${v} minutes` };
      return bad;
    }
    total += Number(m[1]) * unit;
    parts++;
    i = PART.lastIndex;
  }
  return parts ? { ms: Math.round(total) } : bad;
}
