/**
 * Contact-list ingestion: CSV stream (or JSON rows) → header aliases → zod + libphonenumber-js
 * validation → E.164 → de-duplication and do-not-call → batches, with a per-row reject report.
 *
 * Streaming: `batches` is a pull-based async generator. The input is read only as the consumer
 * asks for the next batch; besides the batch being filled, at most the stream buffers (a few
 * hundred rows) are held. A 1,000,000-row file is never in memory whole.
 *
 * Memory that does grow with the list: the set of E.164 numbers already seen (for de-duplication,
 * with the line each was first seen on). A Map of 1M short strings → numbers is ~100 MB at worst;
 * that is acceptable for the sizes the plans allow (Pro: 5,000 tasks/day) and far below a list that
 * would need an external store. Rejects beyond `maxReportedRejects` go only to the rejects file.
 */
import type { Readable } from 'node:stream';
import type { CountryCode } from 'libphonenumber-js';
import {
  DEFAULT_BATCH_SIZE,
  type Contact,
  type ContactBatch,
  type RejectedRow,
  type SkippedContact,
} from './contact';
import { ContactFileError, IngestAbortedError } from './errors';
import {
  FIELDS_ALSO_IN_METADATA,
  fieldLabel,
  normaliseHeader,
  fieldForHeader,
  resolveColumns,
  type ColumnMap,
  type ColumnSources,
  type ContactField,
} from './headers';
import { makeRowSchema, validateRow, type RowSchema, type RowValues } from './validate';
import { readCsvRecords, type Delimiter, type InputSource } from './csv-reader';
import { RejectsWriter } from './rejects-writer';

export { loadDoNotCall } from './do-not-call';

export interface IngestOptions {
  /** libphonenumber-js region for numbers without +, e.g. 'US', 'IN'. */
  defaultRegion: CountryCode;
  /** Max contacts + skipped per batch (default DEFAULT_BATCH_SIZE). */
  batchSize?: number | undefined;
  /** E.164 numbers never to call. */
  doNotCall?: ReadonlySet<string> | undefined;
  /** Default 'auto': sniffed from the header line. Tab is accepted too. */
  delimiter?: ',' | ';' | '\t' | 'auto' | undefined;
  /** If set, every rejected row is streamed here as CSV (original columns + line, column, reason). */
  rejectsPath?: string | undefined;
  /** How many RejectedRow objects the summary keeps in memory (default 100); the file has them all. */
  maxReportedRejects?: number | undefined;
  /** How many valid contacts the summary keeps for a --dry-run preview (default 10). */
  previewSize?: number | undefined;
  /**
   * Also close a batch before its serialised contacts exceed this many bytes (default 256 KiB), so
   * each batch stays well below Temporal's 512 KB payload warning even with long instructions.
   */
  maxBatchBytes?: number | undefined;
  /**
   * When a row has no timezone, store the zone derived from its number (a country with one zone, or a US/CA
   * area code in one zone: src/contacts/phone-zone.ts). Off by default: rows then keep only the zone they gave.
   */
  timezoneFromNumber?: boolean | undefined;
  /** remind_before (ms) for rows without a remind_before cell: their call_at is appointment_at minus this. */
  remindBefore?: number | undefined;
  /** The campaign's IANA zone: reads appointment_at values written without an offset in rows with no zone. */
  defaultTimezone?: string | undefined;
}

export interface IngestSummary {
  /** Data rows read (blank lines not counted) = valid + skipped + rejected. */
  rows: number;
  /** Contacts that will be called. */
  valid: number;
  skipped: { duplicate: number; do_not_call: number };
  rejected: number;
  /** The first `maxReportedRejects` rejects. */
  rejects: RejectedRow[];
  /** The first `previewSize` valid contacts. */
  preview: Contact[];
  batches: number;
  /** Where the rejects CSV was written (set whenever `rejectsPath` was given and the header was read). */
  rejectsPath?: string;
  /** Which header each field came from. */
  columns: ColumnSources;
  /** Normalised keys of the columns that go to metadata. */
  metadataColumns: string[];
  /** CSV only: the delimiter used. */
  delimiter?: Delimiter;
}

export interface IngestResult {
  /** Read once, to the end, for `summary` to resolve. */
  batches: AsyncIterable<ContactBatch>;
  /**
   * Resolves after the last batch; rejects with ContactFileError on a file-level problem, or with
   * IngestAbortedError if the consumer stopped reading `batches` early.
   */
  summary: Promise<IngestSummary>;
}

export const DEFAULT_MAX_REPORTED_REJECTS = 100;
export const DEFAULT_PREVIEW_SIZE = 10;
export const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

/** Accumulates rows into batches and counts everything for the summary. */
class Collector {
  private readonly schema: RowSchema;
  private readonly batchSize: number;
  private readonly maxBatchBytes: number;
  private readonly maxRejects: number;
  private readonly previewSize: number;
  /** E.164 → line first seen (see the memory note at the top of the file). */
  private readonly seen = new Map<string, number>();
  private contacts: Contact[] = [];
  private skipped: SkippedContact[] = [];
  private bytes = 0;
  private batchNo = 0;
  readonly summary: IngestSummary;
  writer: RejectsWriter | undefined;

  constructor(
    private readonly opts: IngestOptions,
    columns: ColumnSources,
    metadataColumns: string[],
  ) {
    this.schema = makeRowSchema(opts.defaultRegion, {
      remindBeforeMs: opts.remindBefore,
      defaultTimezone: opts.defaultTimezone,
      timezoneFromNumber: opts.timezoneFromNumber,
    });
    this.batchSize = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_BATCH_SIZE));
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxRejects = opts.maxReportedRejects ?? DEFAULT_MAX_REPORTED_REJECTS;
    this.previewSize = opts.previewSize ?? DEFAULT_PREVIEW_SIZE;
    this.summary = {
      rows: 0,
      valid: 0,
      skipped: { duplicate: 0, do_not_call: 0 },
      rejected: 0,
      rejects: [],
      preview: [],
      batches: 0,
      columns,
      metadataColumns,
    };
  }

  async openRejects(columns: readonly string[]): Promise<void> {
    if (!this.opts.rejectsPath) return;
    this.writer = await RejectsWriter.open(this.opts.rejectsPath, columns);
    this.summary.rejectsPath = this.opts.rejectsPath;
  }

  /** Rejects a row; awaits only when the rejects file needs to drain. */
  async reject(row: RejectedRow): Promise<void> {
    this.summary.rows++;
    this.summary.rejected++;
    if (this.summary.rejects.length < this.maxRejects) this.summary.rejects.push(row);
    const wait = this.writer?.write(row);
    if (wait) await wait;
  }

  /** Validates and files one row; returns a full batch when one is ready. */
  async row(
    values: RowValues,
    line: number,
    raw: () => Record<string, string>,
    columnOf: (f: ContactField) => string | null,
  ): Promise<ContactBatch | undefined> {
    const result = validateRow(this.schema, values, line, columnOf);
    if (!result.ok) {
      await this.reject({ line, column: result.column, reason: result.reason, raw: raw() });
      return undefined;
    }
    this.summary.rows++;
    const c = result.contact;
    const size = result.bytes + 64;
    let out: ContactBatch | undefined;
    if (this.contacts.length + this.skipped.length > 0 && this.bytes + size > this.maxBatchBytes)
      out = this.take();
    this.bytes += size;
    if (this.opts.doNotCall?.has(c.phone)) {
      this.summary.skipped.do_not_call++;
      this.skipped.push({
        ...c,
        skipReason: 'do_not_call',
        skipDetail: `${c.phone} is on the do-not-call list`,
      });
    } else {
      const first = this.seen.get(c.phone);
      if (first !== undefined) {
        this.summary.skipped.duplicate++;
        this.skipped.push({ ...c, skipReason: 'duplicate', skipDetail: `duplicate of line ${first}` });
      } else {
        this.seen.set(c.phone, line);
        this.summary.valid++;
        this.contacts.push(c);
        if (this.summary.preview.length < this.previewSize) this.summary.preview.push(c);
      }
    }
    if (!out && this.contacts.length + this.skipped.length >= this.batchSize) out = this.take();
    return out;
  }

  /** The batch in progress, if it holds anything. */
  take(): ContactBatch | undefined {
    if (this.contacts.length + this.skipped.length === 0) return undefined;
    const batch: ContactBatch = { batchNo: ++this.batchNo, contacts: this.contacts, skipped: this.skipped };
    this.contacts = [];
    this.skipped = [];
    this.bytes = 0;
    this.summary.batches = this.batchNo;
    return batch;
  }
}

/**
 * Wraps a batch generator so that `summary` settles exactly once: resolved at the end, rejected
 * with the error, or with IngestAbortedError when the consumer stops early.
 */
function withSummary(
  run: (settle: (s: IngestSummary) => void, progress: () => number) => AsyncGenerator<ContactBatch>,
): IngestResult {
  let resolve!: (s: IngestSummary) => void;
  let reject!: (e: unknown) => void;
  const summary = new Promise<IngestSummary>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  summary.catch(() => undefined); // the caller may only read `batches`; avoid an unhandled rejection
  let settled = false;
  let rowsRead = 0;
  const settle = (s: IngestSummary): void => {
    settled = true;
    resolve(s);
  };
  async function* batches(): AsyncGenerator<ContactBatch> {
    try {
      yield* run(settle, () => rowsRead++);
    } catch (err) {
      if (!settled) {
        settled = true;
        reject(err);
      }
      throw err;
    } finally {
      if (!settled) {
        settled = true;
        reject(new IngestAbortedError(rowsRead));
      }
    }
  }
  return { batches: batches(), summary };
}

function cellMap(headers: readonly string[], cells: readonly string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  headers.forEach((h, i) => {
    raw[h] = cells[i] ?? '';
  });
  for (let i = headers.length; i < cells.length; i++)
    raw[`_extra_${i - headers.length + 1}`] = cells[i] ?? '';
  return raw;
}

function nonEmpty(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function rowValues(map: ColumnMap, cells: readonly string[]): RowValues {
  const values: RowValues = { metadata: {} };
  for (const f of [
    'phone',
    'name',
    'timezone',
    'callAt',
    'instructions',
    'remindBefore',
    'appointmentAt',
  ] as const) {
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

function jsonCell(v: unknown): string | undefined | { invalid: string } {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return {
    invalid: Array.isArray(v) ? 'an array' : `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`,
  };
}

function jsonMeta(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v as number | boolean);
}

/**
 * Ingests contacts given as JSON objects (an HTTP body, or a retry of earlier contacts), with the
 * same aliases and validation as CSV; `line` = index + 1. A `metadata` object is merged into the
 * metadata; a numeric `line` key (from an earlier ingestion) is ignored. Keys are mapped per row;
 * two keys aliasing the same field in one row reject that row.
 */
export function ingestJsonContacts(rows: readonly unknown[], opts: IngestOptions): IngestResult {
  return withSummary(async function* (settle, progress) {
    // Pre-scan (the rows are in memory already): columns for the summary and the rejects file.
    const headers: string[] = [];
    const headerSet = new Set<string>();
    const sources: Partial<ColumnSources> = {};
    const metaKeys = new Set<string>();
    for (const r of rows) {
      if (!r || typeof r !== 'object' || Array.isArray(r)) continue;
      for (const k of Object.keys(r)) {
        if (!headerSet.has(k)) {
          headerSet.add(k);
          headers.push(k);
        }
        const f = fieldForHeader(k);
        if (f) {
          if (sources[f] === undefined) sources[f] = k;
          if (FIELDS_ALSO_IN_METADATA.has(f)) metaKeys.add(normaliseHeader(k));
        } else if (k === 'metadata') {
          const m = (r as Record<string, unknown>)[k];
          if (m && typeof m === 'object') for (const mk of Object.keys(m)) metaKeys.add(normaliseHeader(mk));
        } else if (k !== 'line') {
          metaKeys.add(normaliseHeader(k));
        }
      }
    }
    if (rows.length === 0) throw new ContactFileError('no_data_rows', 'no contacts: the list is empty');
    if (sources.phone === undefined) {
      throw new ContactFileError(
        'no_phone_column',
        `no phone field: expected a key named one of phone, phone_number, contact_number, to_number, number, mobile; keys seen: ${headers.map((h) => `'${h}'`).join(', ') || 'none'}`,
        { headers },
      );
    }
    const collector = new Collector(opts, { ...sources, phone: sources.phone }, [...metaKeys]);
    try {
      await collector.openRejects(headers);
      for (let i = 0; i < rows.length; i++) {
        progress();
        const line = i + 1;
        const r = rows[i];
        if (!r || typeof r !== 'object' || Array.isArray(r)) {
          await collector.reject({
            line,
            column: null,
            reason: `row ${line} is not an object`,
            raw: { [headers[0] ?? 'value']: jsonMeta(r) ?? '' },
          });
          continue;
        }
        const obj = r as Record<string, unknown>;
        const raw: Record<string, string> = {};
        for (const [k, v] of Object.entries(obj)) raw[k] = jsonMeta(v) ?? '';
        const values: RowValues = { metadata: {} };
        const from: Partial<Record<ContactField, string>> = {};
        let problem: { column: string; reason: string } | undefined;
        for (const [k, v] of Object.entries(obj)) {
          const f = fieldForHeader(k);
          if (f) {
            const cell = jsonCell(v);
            if (cell !== undefined && typeof cell === 'object') {
              problem ??= { column: k, reason: `'${k}' must be a string, got ${cell.invalid}` };
              continue;
            }
            const val = nonEmpty(cell);
            if (from[f] !== undefined && val !== undefined && values[f] !== undefined) {
              problem ??= {
                column: k,
                reason: `'${from[f]}' and '${k}' both give the ${fieldLabel(f)} field; keep one`,
              };
              continue;
            }
            if (val !== undefined) {
              values[f] = val;
              from[f] = k;
              if (FIELDS_ALSO_IN_METADATA.has(f)) values.metadata[normaliseHeader(k)] = val;
            }
          } else if (k === 'metadata' && v && typeof v === 'object' && !Array.isArray(v)) {
            for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
              const val = nonEmpty(jsonMeta(mv));
              if (val !== undefined) values.metadata[normaliseHeader(mk)] = val;
            }
          } else if (k === 'line' && typeof v === 'number') {
            // the line of an earlier ingestion: not metadata
          } else {
            const val = nonEmpty(jsonMeta(v));
            if (val !== undefined) values.metadata[normaliseHeader(k)] = val;
          }
        }
        if (problem) {
          await collector.reject({ line, column: problem.column, reason: problem.reason, raw });
          continue;
        }
        const batch = await collector.row(
          values,
          line,
          () => raw,
          (f) => from[f] ?? null,
        );
        if (batch) yield batch;
      }
      const last = collector.take();
      if (last) yield last;
      await collector.writer?.close();
      settle(collector.summary);
    } finally {
      collector.writer?.abort();
    }
  });
}
