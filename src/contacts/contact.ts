/**
 * A contact as it travels from ingestion (CSV, JSON body, URL source) into the campaign workflow.
 * One schema for that boundary; workflows import only the types.
 */
import { z } from 'zod';

export const contactSchema = z.object({
  /** E.164, normalised by libphonenumber-js. Unique within a run after de-duplication: it is the contact's key. */
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/),
  /** 1-based line number in the source file (the header is line 1), or index+1 for JSON sources. */
  line: z.number().int().positive(),
  name: z.string().optional(),
  /** IANA zone from the `timezone` column, validated. */
  timezone: z.string().optional(),
  /** ISO 8601 instant from the `call_at` column. */
  callAt: z.string().optional(),
  /** Per-call instruction override for the agent (docs: ctx.instructions). */
  instructions: z.string().optional(),
  /** Every other column, passed to the agent as call metadata (docs: metadata / ctx.data). */
  metadata: z.record(z.string(), z.string()).default({}),
});
export type Contact = z.infer<typeof contactSchema>;

export const SKIP_REASONS = ['duplicate', 'do_not_call'] as const;

/** A row that was valid but will not be called; it still shows in the run's status as `skipped`. */
export const skippedContactSchema = contactSchema.extend({
  skipReason: z.enum(SKIP_REASONS),
  /** Human-readable detail, e.g. "duplicate of line 4". */
  skipDetail: z.string(),
});
export type SkippedContact = z.infer<typeof skippedContactSchema>;

/** A row that could not be used at all: reported with its line, column and reason, written to the rejects CSV. */
export interface RejectedRow {
  line: number;
  column: string | null;
  reason: string;
  /** The raw row as read, so the rejects CSV can be fixed and re-uploaded. */
  raw: Record<string, string>;
}

/** Contacts are delivered to a campaign in batches of at most this many rows (keeps every payload far below 512 KB). */
export const DEFAULT_BATCH_SIZE = 250;

export interface ContactBatch {
  batchNo: number;
  contacts: Contact[];
  skipped: SkippedContact[];
}
