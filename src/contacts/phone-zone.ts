/**
 * A contact's time zone from its number, computed at ingestion (libphonenumber-js and the zone tables do not
 * belong in the workflow sandbox) and stored on the Contact as `timezone` when the list gave none.
 *
 * Precedence (zoneForContact): the list's `timezone` column, else the number's zone when its country has one
 * zone (all of a country's zones with identical rules count as one, e.g. Germany's Berlin and Büsingen) or,
 * for US and Canadian numbers, when its area code lies in one zone (./nanp-zones.ts), else the campaign's zone.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { NANP_AREA_CODE_ZONES } from './nanp-zones';
import { offsetMs } from '../../workflows/day-window';

// The package ships ESM-only typings beside its CommonJS build, which TypeScript refuses to `import` from
// CommonJS: load the CommonJS build and state the one function used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getCountry } = require('countries-and-timezones') as {
  getCountry(id: string): { timezones: string[] } | null;
};

/** Same UTC offset at noon UTC on every day of two years: the zones are one for calling purposes. */
function sameRules(a: string, b: string): boolean {
  const start = Date.UTC(2025, 0, 1, 12);
  for (let day = 0; day < 730; day++) {
    const t = start + day * 86_400_000;
    if (offsetMs(a, t) !== offsetMs(b, t)) return false;
  }
  return true;
}

const countryZoneCache = new Map<string, string | null>();
/** The country's one zone (ISO 3166 alpha-2), or null when it has several or none. */
export function singleZoneOfCountry(country: string): string | null {
  const cached = countryZoneCache.get(country);
  if (cached !== undefined) return cached;
  const zones = getCountry(country)?.timezones ?? [];
  let result: string | null = null;
  if (zones.length > 0) {
    const [first, ...rest] = zones;
    try {
      result = rest.every((z) => sameRules(first!, z)) ? first! : null;
    } catch {
      result = null; // a zone this Intl does not know
    }
  }
  countryZoneCache.set(country, result);
  return result;
}

/** The zone of an E.164 number, when its country, or its US/Canadian area code, has a single one. */
export function zoneFromNumber(phoneE164: string): string | undefined {
  const pn = parsePhoneNumberFromString(phoneE164);
  if (!pn?.country) return undefined;
  if (pn.country === 'US' || pn.country === 'CA') {
    return NANP_AREA_CODE_ZONES.get(pn.nationalNumber.slice(0, 3));
  }
  return singleZoneOfCountry(pn.country) ?? undefined;
}

/** The zone a contact is called in; see the precedence in the file comment. */
export function zoneForContact(
  contactZone: string | undefined,
  phoneE164: string,
  campaignZone: string,
): string;
export function zoneForContact(
  contactZone: string | undefined,
  phoneE164: string,
  campaignZone?: string,
): string | undefined;
export function zoneForContact(
  contactZone: string | undefined,
  phoneE164: string,
  campaignZone?: string,
): string | undefined {
  return contactZone ?? zoneFromNumber(phoneE164) ?? campaignZone;
}
