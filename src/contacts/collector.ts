/**
 * The collector every list format feeds (ingest-csv.ts, ingest-json.ts): each row validated (zod +
 * libphonenumber-js → E.164), de-duplicated and checked against the do-not-call list, filed into batches, and
 * counted for the summary, with a per-row reject report (and the rejects CSV).
 *
 * Streaming: `batches` is a pull-based async generator. The input is read only as the consumer asks for the next
 * batch; besides the batch being filled, at most the stream buffers (a few hundred rows) are held. A
 * 1,000,000-row file is never in memory whole.
 *
 * Memory that does grow with the list: the set of E.164 numbers already seen (for de-duplication, with the line
 * each was first seen on). A Map of 1M short strings → numbers is ~100 MB at worst; that is acceptable for the
 * sizes the plans allow (Pro: 5,000 tasks/day) and far below a list that would need an external store. Rejects
 * beyond `maxReportedRejects` go only to the rejects file.
 */
import type { CountryCode } from 'libphonenumber-js';
import {
  DEFAULT_BATCH_SIZE,
  type Contact,
  type ContactBatch,
  type RejectedRow,
  type SkippedContact,
} from './contact';
import { IngestAbortedError } from './errors';
import type { ColumnSources, ContactField } from './headers';
import { makeRowSchema, validateRow, type RowSchema, type RowValues } from './validate';
import type { Delimiter } from './csv-reader';
import { RejectsWriter } from './rejects-writer';

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
export class Collector {
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
export function withSummary(
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

/** A cell or value trimmed at both ends; undefined when nothing is left. */
export function nonEmpty(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}
