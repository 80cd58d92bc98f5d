/**
 * The one path from a contact list to a run, for every caller: the CLI's `start`, POST …/runs/ and a schedule's
 * firing (activities/sources.ts). The list's first batch is read before anything starts, so a list wrong as a
 * whole (empty, not CSV, no phone column) or with no valid row starts nothing (NoValidRowsError, with the
 * summary); then the run starts and the rest is delivered as it is read. A list that fails further in cancels
 * the run already started (calls hung up) and the error names it. Callers only map these errors.
 */
import type { Client } from '@temporalio/client';
import type { ContactBatch, IngestResult, IngestSummary } from '../contacts';
import { AppError } from '../errors';
import { cancelSignal, type RunSettings } from '../../workflows/definitions';
import { campaignWorkflowId } from '../../workflows/ids';
import { newRunId, startRun, type StartedRun } from './start-run';

/** Every row of the list was rejected (or it had none): no run was started. */
export class NoValidRowsError extends AppError<'no_valid_rows'> {
  override readonly name = 'NoValidRowsError';
  constructor(readonly summary: IngestSummary) {
    super('no_valid_rows', `no valid contact in ${summary.rows} rows: nothing was started`);
  }
}

async function* prepend(
  first: ContactBatch,
  rest: AsyncIterator<ContactBatch>,
): AsyncGenerator<ContactBatch> {
  yield first;
  for (;;) {
    const n = await rest.next();
    if (n.done) return;
    yield n.value;
  }
}

/**
 * Starts run `settings.runId` (a new id when unset) over the list `ingest` reads; resolves once every batch is
 * delivered, with the ingestion's summary. Safe to call again with the same run id (every step is idempotent).
 */
export async function startRunFromList(
  client: Client,
  taskQueue: string,
  settings: RunSettings,
  ingest: IngestResult,
): Promise<StartedRun & { summary: IngestSummary }> {
  const { batches, summary } = ingest;
  summary.catch(() => undefined); // awaited below; the batches carry the same error first
  const it = batches[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new NoValidRowsError(await summary);

  const runId = settings.runId ?? newRunId();
  let started: StartedRun;
  try {
    started = await startRun(
      client,
      taskQueue,
      { ...settings, runId },
      { [Symbol.asyncIterator]: () => prepend(first.value, it) },
    );
  } catch (err) {
    // The campaign may have started before the list failed: cancel it, so nothing half-read is dialed on.
    const canceled = await client.workflow
      .getHandle(campaignWorkflowId(runId))
      .signal(cancelSignal, { hangup: true })
      .then(() => true)
      .catch(() => false);
    if (canceled && err instanceof AppError)
      throw new AppError(err.code, `${err.message}; run ${runId} was canceled`, {
        details: { ...err.details, run_id: runId },
        cause: err,
      });
    throw err;
  }
  return { ...started, summary: await summary };
}
