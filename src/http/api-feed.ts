/**
 * GET …/runs/{run_id}/feed/: the run's live numbers — counts, cumulative dial attempts, live calls, the
 * account's calls/minute and concurrency cap and their use now. One JSON sample, or with
 * `Accept: text/event-stream` a stream of `sample` events every `interval_ms` until the run has ended (then one
 * `end` event) or the client goes. Each sample costs one query of the campaign and one of the account limiter,
 * whatever the run's size. The console reads the stream with fetch (the API key stays in a header: EventSource
 * cannot send one, and a key never goes in a URL).
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { limiterState } from '../campaign/limits';
import { getProgress } from '../campaign/run-queries';
import { getRunInput, isEnded } from '../campaign/run-control';
import { RunNotFoundError } from '../campaign/run-queries';
import type { CampaignInput, CampaignProgress } from '../../workflows/definitions';
import { runParamsSchema } from './api-schemas';
import { type feedSampleSchema } from './api-console-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';

export const feedQuerySchema = z.object({
  interval_ms: z.coerce
    .number()
    .int()
    .min(250)
    .max(60_000)
    .default(2000)
    .describe('stream only: time between samples'),
});

export type FeedSample = z.output<typeof feedSampleSchema>;

/** Why a paused run is paused, from whichever field the campaign's progress carries it in. */
export function pausedReasonOf(p: CampaignProgress): string | null {
  if (p.state !== 'paused') return null;
  const x = p as CampaignProgress & { pausedReason?: unknown; pauseReason?: unknown; stateReason?: unknown };
  const r = x.pausedReason ?? x.pauseReason ?? x.stateReason;
  if (typeof r === 'string') return r;
  if (r && typeof r === 'object' && 'message' in r && typeof r.message === 'string') return r.message;
  return null;
}

export async function feedSample(client: Client, input: CampaignInput): Promise<FeedSample> {
  const [p, limiter] = await Promise.all([
    getProgress(client, input.runId),
    limiterState(client, input.accountId).catch(() => null),
  ]);
  const cap = Math.min(
    limiter ? limiter.capacity : Number.POSITIVE_INFINITY,
    input.concurrencyCap ?? Number.POSITIVE_INFINITY,
  );
  return {
    at: new Date().toISOString(),
    run_id: input.runId,
    state: p.state,
    total: p.total,
    counts: p.counts,
    attempts: p.attempts,
    live_calls: p.counts.ringing + p.counts.active,
    eta: p.eta,
    paused_reason: pausedReasonOf(p),
    limits: limiter
      ? {
          calls_per_minute: limiter.limits.callsPerMinute,
          concurrency_cap: Number.isFinite(cap) ? cap : limiter.capacity,
          in_use: limiter.inUse,
          dials_in_last_window: limiter.dialsInLastWindow,
        }
      : null,
  };
}

export const apiFeedRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, auth } = ctx;
  /** Open streams, ended when the server closes (else close would wait for each run to end). */
  const streams = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const stop of streams) stop();
  });

  app.get(
    '/runs/:run_id/feed/',
    { config: { v2ErrorMessage: 'Error reading run feed' } },
    async (request, reply) => {
      const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
      const q = parseWith(feedQuerySchema, request.query, 'query');
      await auth.authorize(request, 'canView', space_token, run_id);
      const input = await getRunInput(temporal, run_id);
      if (input.spaceToken !== space_token) throw new RunNotFoundError(run_id);
      const first = await feedSample(temporal, input);
      if (!String(request.headers.accept ?? '').includes('text/event-stream'))
        return sendEnvelope(reply, 200, 'Feed Sample', first, 1);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let open = true;
      let wake = () => undefined as void;
      const stop = () => {
        open = false;
        wake();
      };
      streams.add(stop);
      request.raw.on('close', stop);
      const send = (event: string, data: unknown) => {
        if (open) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      let sample = first;
      send('sample', sample);
      while (open && !isEnded(sample.state as CampaignProgress['state'])) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, q.interval_ms);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
        if (!open) break;
        try {
          sample = await feedSample(temporal, input);
          send('sample', sample);
        } catch (err) {
          request.log.warn({ err, runId: run_id }, 'feed sample failed');
          send('error', { message: 'reading the run failed; retrying' });
        }
      }
      if (open) send('end', { state: sample.state });
      streams.delete(stop);
      res.end();
    },
  );
};
