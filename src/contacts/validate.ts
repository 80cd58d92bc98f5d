/**
 * Per-row validation: zod for the shape, libphonenumber-js for the phone, Intl for the time zone.
 * Pure and synchronous; used by CSV and JSON ingestion alike.
 */
import { z } from 'zod';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { wallToInstant } from '../../workflows/calling-window';
import { contactSchema, type Contact } from './contact';
import { parseDuration } from './durations';
import { fieldLabel, type ContactField } from './headers';
import { zoneFromNumber } from './phone-zone';

export const MAX_INSTRUCTIONS_CHARS = 4000;
/** A single contact larger than this (as JSON) is rejected: it keeps every batch payload bounded. */
export const MAX_CONTACT_BYTES = 32 * 1024;

/** The cells of one row, already mapped to fields; absent/empty cells are undefined. */
export type RowValues = Partial<Record<ContactField, string>> & { metadata: Record<string, string> };

/** How the per-contact time and zone are worked out (see makeRowSchema). */
export interface RowSchemaOptions {
  /** remind_before for rows without one (ms): the call is this long before the row's appointment_at. */
  remindBeforeMs?: number | undefined;
  /** The campaign's zone: reads an appointment_at written without an offset when the row has no zone. */
  defaultTimezone?: string | undefined;
  /** Store the zone derived from the number (src/contacts/phone-zone.ts) when the row has no timezone. */
  timezoneFromNumber?: boolean | undefined;
}

export type RowResult =
  | { ok: true; contact: Contact; /** UTF-8 bytes of the contact as JSON */ bytes: number }
  | { ok: false; column: string | null; reason: string };

/** Phone → E.164. Returns the number or an error message naming the value and the region. */
export function normalisePhone(
  value: string,
  defaultRegion: CountryCode,
): { e164: string } | { error: string } {
  const v = value.trim();
  const pn = parsePhoneNumberFromString(v, defaultRegion);
  if (!pn || !pn.isValid()) {
    return {
      error: v.startsWith('+')
        ? `'${v}' is not a valid phone number`
        : `'${v}' is not a valid phone number for region ${defaultRegion}`,
    };
  }
  if (pn.ext) return { error: `'${v}' has an extension (ext. ${pn.ext}); extensions cannot be dialled` };
  return { e164: pn.number };
}

const tzCache = new Map<string, string | null>();
/** Canonical IANA zone name (e.g. `america/new_york` → `America/New_York`), or null if not a zone. */
export function canonicalTimeZone(value: string): string | null {
  const cached = tzCache.get(value);
  if (cached !== undefined) return cached;
  let result: string | null = null;
  // Offsets such as "+05:30" are accepted by newer Intl but are not IANA zones (no DST rules).
  if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(value)) {
    try {
      result = new Intl.DateTimeFormat(undefined, { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      result = null;
    }
  }
  if (tzCache.size < 1000) tzCache.set(value, result);
  return result;
}

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** ISO 8601 date-time with Z or an offset → ISO instant (UTC, `toISOString`). */
export function parseCallAt(value: string): { iso: string } | { error: string } {
  const v = value.trim();
  const m = ISO_WITH_OFFSET.exec(v);
  if (!m) {
    if (ISO_LOCAL.test(v)) {
      return {
        error: `'${v}' has no time zone: add Z or an offset such as -07:00 (a local time is ambiguous)`,
      };
    }
    if (ISO_DATE.test(v)) return { error: `'${v}' is a date without a time: use e.g. ${v}T10:00:00-07:00` };
    return { error: `'${v}' is not an ISO 8601 date-time with offset (e.g. 2025-03-14T10:30:00-07:00)` };
  }
  const [, y, mo, d, h, mi, s, frac] = m;
  const offset = m[8]!.toUpperCase();
  let off = 'Z';
  if (offset !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    const oh = digits.slice(0, 2);
    const om = digits.slice(2) || '00';
    if (Number(oh) > 23 || Number(om) > 59) return { error: `'${v}' has an impossible UTC offset` };
    off = `${offset[0]}${oh}:${om}`;
  }
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s ?? '0') > 59
  ) {
    return { error: `'${v}' is not a real date-time` };
  }
  const ms = frac ? `.${frac.padEnd(3, '0').slice(0, 3)}` : '';
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${ms}${off}`);
  if (Number.isNaN(t)) return { error: `'${v}' is not a real date-time` };
  return { iso: new Date(t).toISOString() };
}

/**
 * An appointment time: ISO 8601 with an offset (as call_at), or a local date-time such as `2025-07-14 09:00`
 * read in `zone` (a time skipped by a DST change is the first valid instant after it; a repeated one, the first).
 */
export function parseAppointmentAt(
  value: string,
  zone: string | undefined,
): { ms: number } | { error: string } {
  const v = value.trim();
  if (!ISO_LOCAL.test(v)) {
    const r = parseCallAt(v);
    return 'error' in r ? r : { ms: Date.parse(r.iso) };
  }
  if (!zone) {
    return {
      error: `'${v}' has no time zone: add an offset such as -07:00, a timezone column, or give the campaign a zone`,
    };
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(v)!;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(y, mo - 1, d, h, mi, sec);
  const back = new Date(wall);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || sec > 59)
    return { error: `'${v}' is not a real date-time` };
  return { ms: wallToInstant(zone, wall) };
}

/** Builds the row schema for one region. Issue paths are field names; the caller maps them to columns. */
export function makeRowSchema(defaultRegion: CountryCode, opts: RowSchemaOptions = {}) {
  return z
    .object({
      phone: z.string({ error: 'phone is required' }).transform((v, ctx) => {
        const r = normalisePhone(v, defaultRegion);
        if ('error' in r) {
          ctx.addIssue({ code: 'custom', message: r.error });
          return z.NEVER;
        }
        return r.e164;
      }),
      name: z.string().optional(),
      timezone: z
        .string()
        .transform((v, ctx) => {
          const tz = canonicalTimeZone(v);
          if (!tz) {
            ctx.addIssue({
              code: 'custom',
              message: `'${v}' is not an IANA time zone (e.g. America/Los_Angeles)`,
            });
            return z.NEVER;
          }
          return tz;
        })
        .optional(),
      callAt: z
        .string()
        .transform((v, ctx) => {
          const r = parseCallAt(v);
          if ('error' in r) {
            ctx.addIssue({ code: 'custom', message: r.error });
            return z.NEVER;
          }
          return r.iso;
        })
        .optional(),
      instructions: z
        .string()
        .max(MAX_INSTRUCTIONS_CHARS, {
          error: (iss) =>
            `instructions are ${String((iss.input as string).length)} characters; the limit is ${MAX_INSTRUCTIONS_CHARS}`,
        })
        .optional(),
      remindBefore: z
        .string()
        .transform((v, ctx) => {
          const r = parseDuration(v);
          if ('error' in r) {
            ctx.addIssue({ code: 'custom', message: r.error });
            return z.NEVER;
          }
          return r.ms;
        })
        .optional(),
      appointmentAt: z.string().optional(),
      metadata: z.record(z.string(), z.string()),
    })
    .transform((v, ctx) => {
      // The zone: the row's, else the number's when it has a single one (see phone-zone.ts).
      const timezone = v.timezone ?? (opts.timezoneFromNumber ? zoneFromNumber(v.phone) : undefined);
      let callAt = v.callAt;
      const remind = v.remindBefore ?? opts.remindBeforeMs;
      if (v.remindBefore !== undefined && v.callAt !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['remindBefore'],
          message: 'the row gives both call_at and remind_before: keep one of them',
        });
        return z.NEVER;
      }
      if (remind !== undefined && callAt === undefined) {
        if (v.appointmentAt === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['appointmentAt'],
            message: `no appointment time to call ${v.remindBefore ?? 'remind_before'} before: fill in appointment_at (or give call_at)`,
          });
          return z.NEVER;
        }
        const at = parseAppointmentAt(v.appointmentAt, timezone ?? opts.defaultTimezone);
        if ('error' in at) {
          ctx.addIssue({ code: 'custom', path: ['appointmentAt'], message: at.error });
          return z.NEVER;
        }
        callAt = new Date(at.ms - remind).toISOString();
      }
      return { ...v, timezone, callAt };
    });
}

export type RowSchema = ReturnType<typeof makeRowSchema>;

/**
 * Validates one row. `columnOf` names the column (header as in the file) each field came from, so
 * that a reject says e.g. column `phone_number`.
 */
export function validateRow(
  schema: RowSchema,
  values: RowValues,
  line: number,
  columnOf: (field: ContactField) => string | null,
): RowResult {
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const colFor = (path: PropertyKey[]): string | null => {
      const f = path[0];
      if (f === 'metadata') return path.length > 1 ? String(path[1]) : null;
      return typeof f === 'string' ? (columnOf(f as ContactField) ?? fieldLabel(f as ContactField)) : null;
    };
    const first = issues[0]!;
    const column = colFor(first.path);
    const reason = issues
      .map((iss, i) => (i === 0 ? iss.message : `${colFor(iss.path) ?? 'row'}: ${iss.message}`))
      .join('; ');
    return { ok: false, column, reason };
  }
  const v = parsed.data;
  const contact: Contact = { phone: v.phone, line, metadata: v.metadata };
  if (v.name !== undefined) contact.name = v.name;
  if (v.timezone !== undefined) contact.timezone = v.timezone;
  if (v.callAt !== undefined) contact.callAt = v.callAt;
  if (v.instructions !== undefined) contact.instructions = v.instructions;
  // The Contact schema is the boundary contract: check the result against it as well.
  const checked = contactSchema.safeParse(contact);
  if (!checked.success) {
    return { ok: false, column: null, reason: checked.error.issues.map((i) => i.message).join('; ') };
  }
  const bytes = Buffer.byteLength(JSON.stringify(contact));
  if (bytes > MAX_CONTACT_BYTES) {
    return {
      ok: false,
      column: null,
      reason: `row is ${bytes} bytes once converted; the limit is ${MAX_CONTACT_BYTES} bytes per contact`,
    };
  }
  return { ok: true, contact, bytes };
}
