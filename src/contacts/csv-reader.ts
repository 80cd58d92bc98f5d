/**
 * Streaming CSV record reader shared by contact and do-not-call ingestion.
 *
 * - sniffs the delimiter from the header line (`,` `;` or tab) unless one is given;
 * - refuses binary / non-UTF-8 / empty input with a ContactFileError before parsing;
 * - yields records one at a time with the physical line on which each record STARTS (blank lines
 *   and quoted newlines counted), so an operator can find the row in an editor;
 * - is pull-based end to end: nothing is read from the input beyond what the parser's and the
 *   streams' small buffers hold (a few hundred rows) until the consumer asks for more.
 *
 * Line numbers: csv-parse's `info.lines` is the line where a record ENDS and double-counts CRLF
 * inside quoted fields, so we count line breaks ourselves in each record's `raw` text (which also
 * carries the blank lines skipped before it).
 */
import { Readable, pipeline } from 'node:stream';
import { parse, type Parser } from 'csv-parse';
import { Utf8Guard } from './encoding-guard';
import { ContactFileError } from './errors';

export type Delimiter = ',' | ';' | '\t';
export type InputSource = Readable | AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

export interface CsvRecord {
  kind: 'record';
  cells: string[];
  line: number;
}
/** A quoted field opened at `line` and never closed: everything to `endLine` (end of file) is unusable. */
export interface CsvUnclosedQuote {
  kind: 'unclosed_quote';
  line: number;
  endLine: number;
  raw: string;
}
export type CsvItem = CsvRecord | CsvUnclosedQuote;

export interface CsvReadOptions {
  delimiter?: Delimiter | 'auto';
  /** Called once, before the first record, with the delimiter in use. */
  onDelimiter?: (d: Delimiter) => void;
  /** A record larger than this (bytes) is a file-level error: almost always an unclosed quote. */
  maxRecordBytes?: number;
}

const HEAD_LIMIT = 64 * 1024;
const DEFAULT_MAX_RECORD = 1024 * 1024;

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
}

function iteratorOf(input: InputSource): AsyncIterator<Buffer | string> | Iterator<Buffer | string> {
  if (Symbol.asyncIterator in input) return (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  return (input as Iterable<Buffer | string>)[Symbol.iterator]();
}

/** Counts line breaks: CRLF, lone CR and lone LF each count once. */
export function countLineBreaks(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      n++;
      if (s.charCodeAt(i + 1) === 10) i++;
    }
  }
  return n;
}

function leadingBreaks(s: string): number {
  const m = /^[\r\n]*/.exec(s);
  return m ? countLineBreaks(m[0]) : 0;
}

/** Picks the delimiter that occurs most often outside quotes in the first non-blank line. */
export function sniffDelimiter(text: string): Delimiter {
  const body = text.replace(/^\uFEFF/, '').replace(/^[\s]*\n/, '');
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let inQuotes = false;
  for (const ch of body) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (ch === '\n' || ch === '\r')) break;
    else if (!inQuotes && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  let best: Delimiter = ',';
  for (const d of [';', '\t'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

function checkHead(head: Buffer, complete: boolean): void {
  if (
    head.length >= 2 &&
    ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
  ) {
    throw new ContactFileError(
      'not_utf8',
      'the file is UTF-16 encoded; save it as "CSV UTF-8" and upload again',
    );
  }
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    throw new ContactFileError(
      'not_csv',
      'the file is a ZIP archive (an .xlsx workbook?), not CSV; export the sheet as CSV',
    );
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    throw new ContactFileError('not_csv', 'the file is gzip-compressed, not CSV; decompress it first');
  }
  const nul = head.indexOf(0);
  if (nul !== -1) {
    throw new ContactFileError('not_csv', `the file is binary, not CSV (NUL byte at offset ${nul})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete });
  } catch {
    throw new ContactFileError(
      'not_utf8',
      'the file is not valid UTF-8 text (binary data, or a legacy encoding such as Windows-1252); save it as "CSV UTF-8"',
    );
  }
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 127) control++;
  }
  if (control > 0 && control / Math.max(1, text.length) > 0.01) {
    throw new ContactFileError(
      'not_csv',
      `the file is binary, not CSV (${control} control characters in the first ${head.length} bytes)`,
    );
  }
}

/** True once the head holds a complete first non-blank line. */
function headHasLine(head: Buffer): boolean {
  const text = head.toString('utf8');
  return /[^\s\uFEFF][^\n\r]*[\r\n]/.test(text);
}

/**
 * Reads CSV records from `input`. Throws ContactFileError('empty_file') when there is not a single
 * non-blank record. Rows whose cells are all empty or whitespace are skipped like blank lines.
 */
export async function* readCsvRecords(
  input: InputSource,
  opts: CsvReadOptions = {},
): AsyncGenerator<CsvItem> {
  const it = iteratorOf(input);
  const headChunks: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const buf = toBuffer(r.value);
    if (buf.length === 0) continue;
    headChunks.push(buf);
    headLen += buf.length;
    if (headLen >= HEAD_LIMIT || headHasLine(Buffer.concat(headChunks))) break;
  }
  const head = Buffer.concat(headChunks);
  checkHead(head.subarray(0, HEAD_LIMIT), ended && head.length <= HEAD_LIMIT);
  if (
    ended &&
    head
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trim() === ''
  ) {
    throw new ContactFileError('empty_file', 'the file is empty: no header and no rows');
  }
  const delimiter: Delimiter =
    opts.delimiter && opts.delimiter !== 'auto' ? opts.delimiter : sniffDelimiter(head.toString('utf8'));
  opts.onDelimiter?.(delimiter);

  let fatal: Error | undefined;
  const unclosed: string[] = [];
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD;
  const parser: Parser = parse({
    delimiter,
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: maxRecordBytes,
    on_skip: (err, raw) => {
      if (err?.code === 'CSV_QUOTE_NOT_CLOSED') {
        unclosed.push(raw ?? '');
      } else if (!fatal) {
        const near =
          typeof (err as { lines?: unknown } | undefined)?.lines === 'number'
            ? (err as unknown as { lines: number }).lines
            : undefined;
        fatal =
          err?.code === 'CSV_MAX_RECORD_SIZE'
            ? new ContactFileError(
                'malformed_csv',
                `a record near line ${near ?? '?'} is larger than ${maxRecordBytes} bytes; most likely a quote (") is opened and never closed`,
                near !== undefined ? { line: near } : {},
              )
            : new ContactFileError(
                'malformed_csv',
                `cannot parse the CSV near line ${near ?? '?'}: ${err?.message ?? 'unknown error'}`,
                near !== undefined ? { line: near } : {},
              );
        parser.destroy(fatal);
      }
      return undefined;
    },
  });

  // Every chunk is checked, not only the head: a NUL or a Latin-1 byte further in is refused as well.
  const guard = new Utf8Guard();
  async function* feed(): AsyncGenerator<Buffer> {
    for (const c of headChunks) {
      guard.check(c);
      yield c;
    }
    headChunks.length = 0;
    if (!ended) {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        const buf = toBuffer(r.value);
        guard.check(buf);
        yield buf;
      }
    }
    guard.end();
  }
  const source = Readable.from(feed());
  // pipeline() propagates source errors into the parser (and so into the loop below) and
  // tears both down on early exit.
  pipeline(source, parser, () => {});

  let cursor = 1; // physical line where the next raw text begins
  let any = false;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const raw = rec.raw;
      const line = cursor + leadingBreaks(raw);
      cursor += countLineBreaks(raw);
      const cells = rec.record;
      if (cells.every((c) => c.trim() === '')) continue;
      any = true;
      yield { kind: 'record', cells, line };
    }
    if (fatal) throw fatal;
    for (const raw of unclosed) {
      const line = cursor + leadingBreaks(raw);
      cursor += countLineBreaks(raw);
      const endLine = Math.max(line, cursor - (/[\r\n]$/.test(raw) ? 1 : 0));
      any = true;
      yield { kind: 'unclosed_quote', line, endLine, raw };
    }
  } catch (err) {
    if (fatal) throw fatal;
    throw err;
  } finally {
    if (!parser.destroyed) parser.destroy();
    if (!source.destroyed) source.destroy();
    if (!ended) {
      const ret = (it as AsyncIterator<unknown>).return;
      if (ret) await Promise.resolve(ret.call(it)).catch(() => undefined);
    }
  }
  if (!any) throw new ContactFileError('empty_file', 'the file is empty: no header and no rows');
}
