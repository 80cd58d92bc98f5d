/**
 * Do-not-call lists: one number per line, or a CSV with a phone column (same header aliases as
 * contact lists). Numbers are normalised to E.164 with the same default region as the contacts so
 * that both sides compare equal.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { readCsvRecords, type InputSource } from './csv-reader';
import { ContactFileError } from './errors';
import { fieldForHeader, FIELD_ALIASES } from './headers';

/**
 * Loads a do-not-call list into a Set of E.164 numbers. An entry that is not even a possible phone
 * number makes the whole list fail (ContactFileError 'invalid_do_not_call'): silently ignoring a
 * line of a do-not-call list could mean calling someone who asked not to be called.
 */
export async function loadDoNotCall(
  source: string | Readable | AsyncIterable<Buffer | string>,
  defaultRegion: CountryCode,
): Promise<Set<string>> {
  const input: InputSource = typeof source === 'string' ? fs.createReadStream(source) : source;
  const numbers = new Set<string>();
  const bad: string[] = [];
  let column: number | undefined;
  let first = true;
  const add = (value: string | undefined, line: number): void => {
    const v = (value ?? '').trim();
    if (v === '') return;
    const pn = parsePhoneNumberFromString(v, defaultRegion);
    if (!pn || !pn.isPossible()) bad.push(`line ${line}: '${v}'`);
    else numbers.add(pn.number);
  };
  for await (const item of readCsvRecords(input)) {
    if (item.kind !== 'record') {
      throw new ContactFileError(
        'malformed_csv',
        `do-not-call list: a quote opened on line ${item.line} is never closed`,
        {
          line: item.line,
        },
      );
    }
    if (first) {
      first = false;
      const idx = item.cells.findIndex((c) => fieldForHeader(c) === 'phone');
      if (idx !== -1) {
        column = idx;
        continue;
      }
      // No header: a plain list, one number per line.
      if (item.cells.length === 1) {
        column = 0;
        add(item.cells[0], item.line);
        continue;
      }
      throw new ContactFileError(
        'no_phone_column',
        `do-not-call list: no phone column (expected one of ${FIELD_ALIASES.phone.join(', ')}, or one number per line); headers seen: ${item.cells.map((c) => `'${c.trim()}'`).join(', ')}`,
        { headers: item.cells.map((c) => c.trim()), line: item.line },
      );
    }
    add(item.cells[column ?? 0], item.line);
  }
  if (bad.length) {
    throw new ContactFileError(
      'invalid_do_not_call',
      `do-not-call list: ${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not phone numbers for region ${defaultRegion} (${bad.slice(0, 5).join('; ')}${bad.length > 5 ? '; …' : ''}); fix the list so that no number is missed`,
    );
  }
  return numbers;
}
