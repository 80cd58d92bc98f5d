/**
 * Contact sources read at the moment a schedule fires: a local file or an http(s) URL (undici, streamed), put
 * through the same ingestion and the same start as `unpod-campaigns start` (src/campaign/start-from-list.ts). Also the wait for a run's end
 * and its cancellation, for scheduledCampaignWorkflow.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context, activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { CountryCode } from 'libphonenumber-js';
import { describeUrl, type OutboundOptions } from '../src/net/outbound-url';
import { ingestContacts, loadDoNotCall, type ContactBatch, type IngestSummary } from '../src/contacts';
import { fetchList, ListUrlError } from '../src/campaign/list-url';
import { controlRun, RunStateError } from '../src/campaign/run-control';
import type { RunSettings } from '../src/campaign/start-run';
import { NoValidRowsError, startRunFromList } from '../src/campaign/start-from-list';
import { AppError } from '../src/errors';
import { isUrl, type ScheduledCampaignInput, type ScheduledRunResult } from '../workflows/scheduled-input';
import { campaignWorkflowId } from '../workflows/ids';

export const SOURCE_FAILURE_TYPES = {
  /** The file does not exist, the URL answers 4xx, or the list is unusable as a whole: not retried. */
  unusable: 'ContactSourceUnusable',
  /** The URL answers 5xx or the connection fails: retried. */
  unavailable: 'ContactSourceUnavailable',
} as const;

export interface SourceRunInput extends Omit<ScheduledCampaignInput, 'deadline'> {
  runId: string;
  /** Resolved by the workflow at the firing: an ISO instant. */
  deadline?: string | undefined;
}

const MAX_REPORTED_REJECTS = 10;

/**
 * Opens a source as a byte stream; failures are mapped onto Temporal's retry layer. A URL goes through the
 * outbound guard (no internal addresses unless allowlisted, pinned address, same-origin redirects only, one
 * total deadline, a size cap); a refusal is not retried.
 */
export async function openSource(
  source: string,
  signal?: AbortSignal,
  outbound: OutboundOptions = {},
): Promise<Readable> {
  if (isUrl(source)) {
    try {
      return await fetchList(source, { signal, outbound });
    } catch (err) {
      const retryable = err instanceof ListUrlError ? err.retryable : true;
      throw ApplicationFailure.create({
        type: retryable ? SOURCE_FAILURE_TYPES.unavailable : SOURCE_FAILURE_TYPES.unusable,
        message:
          err instanceof ListUrlError ? err.message : `${describeUrl(source)}: ${(err as Error).message}`,
        nonRetryable: !retryable,
      });
    }
  }
  try {
    await fs.promises.access(source, fs.constants.R_OK);
  } catch {
    throw ApplicationFailure.create({
      type: SOURCE_FAILURE_TYPES.unusable,
      message: `${source}: no such file, or not readable by the worker`,
      nonRetryable: true,
    });
  }
  return fs.createReadStream(source);
}

/** Yields the batches, heartbeating after each. */
async function* heartbeating(batches: AsyncIterable<ContactBatch>): AsyncGenerator<ContactBatch> {
  let n = 0;
  for await (const b of batches) {
    Context.current().heartbeat({ batches: ++n });
    yield b;
  }
}

export function createSourceActivities({
  temporal,
  outbound,
}: {
  temporal: Client;
  /** The guard over source URLs; default: public addresses only. */
  outbound?: OutboundOptions;
}) {
  return {
    /** Reads the source now and starts run `input.runId` over it (idempotent: a retry starts the same run). */
    async startRunFromSource(input: SourceRunInput): Promise<ScheduledRunResult> {
      const ctx = Context.current();
      const info = activityInfo();
      const beat = setInterval(() => ctx.heartbeat({ reading: input.source }), 10_000);
      try {
        const region = input.region as CountryCode;
        const doNotCall = input.doNotCall
          ? await loadDoNotCall(await openSource(input.doNotCall, ctx.cancellationSignal, outbound), region)
          : undefined;
        const { batches, summary } = ingestContacts(
          await openSource(input.source, ctx.cancellationSignal, outbound),
          {
            defaultRegion: region,
            doNotCall,
            maxReportedRejects: MAX_REPORTED_REJECTS,
            timezoneFromNumber: input.timezoneFromNumber ?? true,
            remindBefore: input.remindBeforeMs,
            defaultTimezone: input.settings.timezone,
          },
        );
        const sourceName = isUrl(input.source) ? input.source : path.basename(input.source);
        const settings: RunSettings = {
          ...input.settings,
          runId: input.runId,
          source: sourceName,
          ...(input.deadline ? { deadline: input.deadline } : {}),
        };
        let runId: string | null;
        let s: IngestSummary;
        try {
          ({ runId, summary: s } = await startRunFromList(temporal, info.taskQueue, settings, {
            batches: heartbeating(batches),
            summary,
          }));
        } catch (err) {
          // A firing over a list with no valid row starts no run: the result says so, with the rejects.
          if (!(err instanceof NoValidRowsError)) throw err;
          runId = null;
          s = err.summary;
        }
        return {
          runId,
          source: sourceName,
          rows: s.rows,
          valid: s.valid,
          skipped: s.skipped.duplicate + s.skipped.do_not_call,
          rejected: s.rejected,
          rejects: s.rejects.map((r) => ({ line: r.line, column: r.column, reason: r.reason })),
        };
      } catch (err) {
        // The list is unusable as a whole (a 4xx of the vocabulary): retrying reads the same list.
        if (err instanceof AppError && (err.status ?? 500) < 500) {
          throw ApplicationFailure.create({
            type: SOURCE_FAILURE_TYPES.unusable,
            message: `${input.source}: ${err.message}`,
            nonRetryable: true,
          });
        }
        throw err;
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Waits until the run's campaign workflow has closed; returns its status (COMPLETED, TERMINATED, …). Asks
     * after 1 s, 2 s, 4 s … up to every `pollMs`, so a short run is seen to end soon.
     */
    async awaitRunEnd(runId: string, pollMs: number): Promise<string> {
      const ctx = Context.current();
      const handle = temporal.workflow.getHandle(campaignWorkflowId(runId));
      for (let i = 0; ; i++) {
        const d = await handle.describe(); // the latest run: continue-as-new keeps it RUNNING
        if (d.status.name !== 'RUNNING') return d.status.name;
        ctx.heartbeat();
        await sleep(Math.min(pollMs, 1000 * 2 ** Math.min(i, 10)), undefined, {
          signal: ctx.cancellationSignal,
        });
      }
    },

    /** Cancels a run (calls in progress finish); a run already ended is left as it is. */
    async cancelRun(runId: string): Promise<void> {
      try {
        await controlRun(temporal, runId, 'cancel');
      } catch (err) {
        if (!(err instanceof RunStateError)) throw err;
      }
    },
  };
}

export type SourceActivities = ReturnType<typeof createSourceActivities>;
