/**
 * contactBatchWorkflow: holds one batch of contacts (its input) until the campaign has read it, so that
 * Temporal is the only store and no campaign input, update or continue-as-new argument carries a whole list.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { batchContentsQuery, batchReleaseSignal, type ContactBatchInput } from './definitions';

/** A batch nobody reads (its campaign was terminated) closes by itself after this long. */
export const BATCH_MAX_LIFETIME = '90 days';

export async function contactBatchWorkflow(
  input: ContactBatchInput,
): Promise<{ contacts: number; skipped: number }> {
  let released = false;
  setHandler(batchContentsQuery, () => input);
  setHandler(batchReleaseSignal, () => void (released = true));
  await condition(() => released, BATCH_MAX_LIFETIME);
  return { contacts: input.contacts.length, skipped: input.skipped.length };
}
