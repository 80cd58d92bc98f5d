/**
 * Header normalisation and the aliases that map CSV headers / JSON keys onto contact fields.
 */
import { ContactFileError } from './errors';

/** The fields a row or JSON contact can carry: every other column goes to the call metadata. */
export const CONTACT_FIELDS = [
  'phone',
  'name',
  'timezone',
  'callAt',
  'instructions',
  'remindBefore',
  'appointmentAt',
] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

/** Normalised header names accepted for each field (see normaliseHeader). */
export const FIELD_ALIASES: Readonly<Record<ContactField, readonly string[]>> = {
  phone: ['phone', 'phone_number', 'contact_number', 'to_number', 'number', 'mobile'],
  name: ['name', 'full_name'],
  timezone: ['timezone', 'time_zone', 'tz'],
  callAt: ['call_at'],
  instructions: ['instructions'],
  remindBefore: ['remind_before', 'reminder_before'],
  appointmentAt: ['appointment_at', 'appointment_time'],
};

/** Fields whose column also stays in the call metadata: the agent reminds people of the appointment time. */
export const FIELDS_ALSO_IN_METADATA: ReadonlySet<ContactField> = new Set(['appointmentAt']);

/** The field as users name it (its first alias), for messages. */
export function fieldLabel(field: ContactField): string {
  return FIELD_ALIASES[field]?.[0] ?? field;
}

const ALIAS_TO_FIELD: ReadonlyMap<string, ContactField> = new Map(
  (Object.entries(FIELD_ALIASES) as [ContactField, readonly string[]][]).flatMap(([field, aliases]) =>
    aliases.map((a) => [a, field] as const),
  ),
);

/**
 * Case-insensitive, trimmed, runs of spaces/dashes → one underscore. camelCase is split too
 * (`phoneNumber` → `phone_number`, `callAt` → `call_at`) so JSON bodies written the JS way work.
 */
export function normaliseHeader(header: string): string {
  return header
    .replace(/^\uFEFF/, '')
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

export function fieldForHeader(header: string): ContactField | undefined {
  return ALIAS_TO_FIELD.get(normaliseHeader(header));
}

/** Which header each field came from (the header as written in the file). */
export type ColumnSources = { phone: string } & Partial<Record<Exclude<ContactField, 'phone'>, string>>;

export interface ColumnMap {
  /** Header text per column, as in the file (trimmed); unnamed columns become `column_<n>`. */
  headers: string[];
  /** Column index of each field present. */
  fieldIndex: Partial<Record<ContactField, number>>;
  sources: ColumnSources;
  /** Columns that go to metadata: index and normalised key. */
  metadata: { index: number; key: string }[];
}

export function resolveColumns(rawHeaders: readonly string[]): ColumnMap {
  const headers = rawHeaders.map((h, i) => {
    const t = h.replace(/^\uFEFF/, '').trim();
    return t === '' ? `column_${i + 1}` : t;
  });
  const seen = `headers seen: ${headers.map((h) => `'${h}'`).join(', ')}`;
  const fieldIndex: Partial<Record<ContactField, number>> = {};
  const metadata: { index: number; key: string }[] = [];
  const metaKeys = new Map<string, number>();
  headers.forEach((header, index) => {
    const key = normaliseHeader(header);
    const field = ALIAS_TO_FIELD.get(key);
    if (field) {
      const prev = fieldIndex[field];
      if (prev !== undefined) {
        throw new ContactFileError(
          'duplicate_column',
          `columns '${headers[prev]}' and '${header}' both map to the ${fieldLabel(field)} field; keep one of them (${seen})`,
          { headers, line: 1 },
        );
      }
      fieldIndex[field] = index;
      if (!FIELDS_ALSO_IN_METADATA.has(field)) return;
    }
    const prev = metaKeys.get(key);
    if (prev !== undefined) {
      throw new ContactFileError(
        'duplicate_column',
        `columns '${headers[prev]}' and '${header}' both become metadata key '${key}'; rename one of them (${seen})`,
        { headers, line: 1 },
      );
    }
    metaKeys.set(key, index);
    metadata.push({ index, key });
  });
  if (fieldIndex.phone === undefined) {
    // One header holding `|` (or another separator) is a list written with a delimiter we do not read.
    const other = headers.length === 1 ? /[|^~]/.exec(headers[0] ?? '')?.[0] : undefined;
    const hint = other
      ? `; the header looks separated by '${other}': write the list with ',', ';' or tab between columns`
      : '';
    throw new ContactFileError(
      'no_phone_column',
      `no phone column: expected a header named one of ${FIELD_ALIASES.phone.join(', ')} (case-insensitive); ${seen}${hint}`,
      { headers, line: 1 },
    );
  }
  const sources: ColumnSources = { phone: headers[fieldIndex.phone]! };
  for (const f of ['name', 'timezone', 'callAt', 'instructions', 'remindBefore', 'appointmentAt'] as const) {
    const i = fieldIndex[f];
    if (i !== undefined) sources[f] = headers[i]!;
  }
  return { headers, fieldIndex, sources, metadata };
}
