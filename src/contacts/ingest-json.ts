/**
 * The JSON front end of ingestion: objects (an HTTP body) → each key mapped to a field by the same header aliases
 * as a CSV column (headers.ts) → one row of values per object → the collector (collector.ts).
 */
import { ContactFileError } from './errors';
import {
  FIELDS_ALSO_IN_METADATA,
  fieldLabel,
  normaliseHeader,
  fieldForHeader,
  type ColumnSources,
  type ContactField,
} from './headers';
import type { RowValues } from './validate';
import { Collector, nonEmpty, withSummary, type IngestOptions, type IngestResult } from './collector';

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
