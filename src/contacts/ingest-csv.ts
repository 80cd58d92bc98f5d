/**
 * The CSV front end of ingestion: a stream (src/contacts/csv-reader.ts: delimiter sniffed, BOM, CRLF, quoted
 * newlines) → the header's columns (headers.ts) → one row of values per record → the collector (collector.ts).
 */
import type { Readable } from 'node:stream';
import { ContactFileError } from './errors';
import { CONTACT_FIELDS, resolveColumns, type ColumnMap, type ContactField } from './headers';
import type { RowValues } from './validate';
import { readCsvRecords, type Delimiter, type InputSource } from './csv-reader';
import { Collector, nonEmpty, withSummary, type IngestOptions, type IngestResult } from './collector';

function cellMap(headers: readonly string[], cells: readonly string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  headers.forEach((h, i) => {
    raw[h] = cells[i] ?? '';
  });
  for (let i = headers.length; i < cells.length; i++)
    raw[`_extra_${i - headers.length + 1}`] = cells[i] ?? '';
  return raw;
}

function rowValues(map: ColumnMap, cells: readonly string[]): RowValues {
  const values: RowValues = { metadata: {} };
  for (const f of CONTACT_FIELDS) {
    const i = map.fieldIndex[f];
    if (i === undefined) continue;
    // instructions keep inner formatting; everything is trimmed at the ends.
    const v = nonEmpty(cells[i]);
    if (v !== undefined) values[f] = v;
  }
  for (const { index, key } of map.metadata) {
    const v = nonEmpty(cells[index]);
    if (v !== undefined) values.metadata[key] = v;
  }
  return values;
}

/**
 * Ingests a CSV contact list from a stream. See the file comment for the streaming contract.
 */
export function ingestContacts(
  input: Readable | AsyncIterable<Buffer | string>,
  opts: IngestOptions,
): IngestResult {
  return withSummary(async function* (settle, progress) {
    let delimiter: Delimiter = ',';
    const records = readCsvRecords(input as InputSource, {
      delimiter: opts.delimiter ?? 'auto',
      onDelimiter: (d) => {
        delimiter = d;
      },
    });
    let map: ColumnMap | undefined;
    let collector: Collector | undefined;
    let columnOf: (f: ContactField) => string | null = () => null;
    try {
      for await (const item of records) {
        if (!map) {
          if (item.kind !== 'record') {
            throw new ContactFileError(
              'malformed_csv',
              `the header starting at line ${item.line} opens a quote (") that is never closed`,
              { line: item.line },
            );
          }
          map = resolveColumns(item.cells);
          const m = map;
          columnOf = (f) => {
            const i = m.fieldIndex[f];
            return i === undefined ? null : m.headers[i]!;
          };
          collector = new Collector(
            opts,
            map.sources,
            map.metadata.map((x) => x.key),
          );
          collector.summary.delimiter = delimiter;
          await collector.openRejects(map.headers);
          continue;
        }
        const c = collector!;
        progress();
        if (item.kind === 'unclosed_quote') {
          await c.reject({
            line: item.line,
            column: null,
            reason: `a quote (") opened on line ${item.line} is never closed, so lines ${item.line}–${item.endLine} (to the end of the file) could not be read as rows; fix the quote and upload those lines again`,
            raw: { [map.headers[0]!]: item.raw },
          });
          continue;
        }
        const { cells, line } = item;
        if (cells.length !== map.headers.length) {
          const raw = cellMap(map.headers, cells);
          const extra =
            cells.length > map.headers.length
              ? ` (extra: ${cells
                  .slice(map.headers.length)
                  .map((x) => `'${x}'`)
                  .join(', ')}) — is there an unquoted '${delimiter}' in a field?`
              : '';
          await c.reject({
            line,
            column: null,
            reason: `expected ${map.headers.length} columns, found ${cells.length}${extra}`,
            raw,
          });
          continue;
        }
        const m = map;
        const batch = await c.row(rowValues(map, cells), line, () => cellMap(m.headers, cells), columnOf);
        if (batch) yield batch;
      }
      if (!collector || !map)
        throw new ContactFileError('empty_file', 'the file is empty: no header and no rows');
      if (collector.summary.rows === 0) {
        throw new ContactFileError(
          'no_data_rows',
          `the file has a header but no data rows (headers seen: ${map.headers.map((h) => `'${h}'`).join(', ')})`,
          {
            headers: map.headers,
          },
        );
      }
      const last = collector.take();
      if (last) yield last;
      await collector.writer?.close();
      settle(collector.summary);
    } finally {
      collector?.writer?.abort();
      await records.return(undefined);
    }
  });
}
