/**
 * Typed errors of contact ingestion.
 *
 * Row-level problems never throw: they become RejectedRow entries (line, column, reason) and the
 * valid rows go ahead. A ContactFileError is a problem with the file as a whole — nothing in it can
 * be trusted or used — and is raised before any batch is yielded whenever that is knowable from
 * the header (empty file, binary junk, no phone column, ambiguous columns).
 */

import { AppError } from '../errors';

export type ContactFileErrorCode =
  /** No bytes, or only blank lines / a BOM. */
  | 'empty_file'
  /** A header but not a single data row (or an empty JSON array). */
  | 'no_data_rows'
  /** Binary content (NUL bytes, control characters, a ZIP/XLSX or gzip signature). */
  | 'not_csv'
  /** Not UTF-8 (e.g. UTF-16, or Latin-1 bytes): names would be garbled on the call. */
  | 'not_utf8'
  /** No header maps to the phone field. */
  | 'no_phone_column'
  /** Two headers map to the same field (e.g. `phone` and `mobile`) or to the same metadata key. */
  | 'duplicate_column'
  /** The CSV cannot be parsed past some point (e.g. a record larger than the limit: an unclosed quote). */
  | 'malformed_csv'
  /** A do-not-call list entry is not a phone number: refusing to guess which numbers must not be called. */
  | 'invalid_do_not_call';

export class ContactFileError extends AppError<ContactFileErrorCode> {
  override readonly name = 'ContactFileError';
  /** The headers as read from the file (empty when there is no header). */
  readonly headers: string[];
  /** Physical line of the problem, when there is one. */
  readonly line?: number;

  constructor(
    code: ContactFileErrorCode,
    message: string,
    details: { headers?: string[]; line?: number } = {},
  ) {
    super(code, message, {
      details: {
        headers: details.headers ?? [],
        ...(details.line !== undefined ? { line: details.line } : {}),
      },
    });
    this.headers = details.headers ?? [];
    if (details.line !== undefined) this.line = details.line;
  }
}

/** `summary` rejects with this when the consumer stopped pulling batches before the end of the input. */
export class IngestAbortedError extends AppError<'ingest_aborted'> {
  override readonly name = 'IngestAbortedError';
  constructor(readonly rowsRead: number) {
    super(
      'ingest_aborted',
      `contact ingestion stopped after ${rowsRead} rows: the batches were not read to the end`,
    );
  }
}
