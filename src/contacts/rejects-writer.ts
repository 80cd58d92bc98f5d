/**
 * Streams rejected rows to a CSV file with csv-stringify: the original columns (so the file can be
 * fixed and re-uploaded as is) followed by line, column and reason. Honours backpressure: `write`
 * returns a promise only when the stream buffer is full, and the caller awaits it.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import type { RejectedRow } from './contact';
import { safeCsvRow } from './csv-cells';

export class RejectsWriter {
  private readonly done: Promise<void>;
  private failed: Error | undefined;
  private count = 0;
  private ended = false;

  private constructor(
    readonly path: string,
    private readonly columns: string[],
    private readonly stringifier: Stringifier,
    file: fs.WriteStream,
  ) {
    this.done = pipeline(stringifier, file).catch((err: Error) => {
      this.failed = err;
      throw err;
    });
    this.done.catch(() => undefined);
  }

  /** Opens (truncates) the file and writes the header. Fails fast if the path cannot be written. */
  static async open(path: string, columns: readonly string[]): Promise<RejectsWriter> {
    const file = fs.createWriteStream(path);
    await Promise.race([
      once(file, 'open'),
      once(file, 'error').then(([err]) => {
        throw err as Error;
      }),
    ]);
    const taken = new Set(columns);
    const extra = ['line', 'column', 'reason'].map((c) => {
      let name = c;
      while (taken.has(name)) name = `_${name}`;
      taken.add(name);
      return name;
    });
    const stringifier = stringify({ header: true, columns: [...columns, ...extra] });
    return new RejectsWriter(path, [...columns], stringifier, file);
  }

  get written(): number {
    return this.count;
  }

  /** Writes one row; returns a promise to await when the buffer is full (else undefined). */
  write(row: RejectedRow): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    // Cells a spreadsheet would run as formulas get a leading apostrophe (csv-cells.ts).
    const record = safeCsvRow([
      ...this.columns.map((c) => row.raw[c] ?? ''),
      String(row.line),
      row.column ?? '',
      row.reason,
    ]);
    this.count++;
    if (this.stringifier.write(record)) return undefined;
    return once(this.stringifier, 'drain').then(() => undefined);
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.stringifier.end();
    }
    await this.done;
  }

  /** Closes without waiting (on error paths). */
  abort(): void {
    if (this.ended) return;
    this.ended = true;
    this.stringifier.end();
    this.done.catch(() => undefined);
  }
}
