/**
 * deliverCallback: POSTs one event (a task's end, or the run's end) to the run's callback_url, signed as an
 * agent's push is (x-campaign-timestamp, x-campaign-signature: v1=HMAC-SHA256(secret,
 * "<t>.<body>")), so a receiver verifies it as we verify a push. Each space has its own signing secret, derived from
 * CALLBACK_SIGNING_SECRET (callbackSecretFor; `unpod-campaigns callback-secret <space>` prints it), so one tenant
 * cannot forge another's callbacks. The timestamp is taken per attempt, so a late retry is still within the
 * receiver's tolerance. The URL goes through the outbound guard (no internal addresses unless allowlisted; a
 * refusal is not retried). A 5xx, 408, 429 or network error is retried by Temporal's activity retries (the
 * CALLBACK profile, bounded), the one retry layer; another 4xx is final. `x-campaign-event-id` is the same on
 * every attempt of one event, for the receiver to de-duplicate.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { createHmac } from 'node:crypto';
import { describeUrl, fetchOutbound, OutboundUrlError, type OutboundOptions } from '../src/net/outbound-url';
import type { CallbackEvent } from '../src/campaign/run-view-schemas';
import { batchCount, loadRun, toV2Run, toV2Task, v2Time, type RunMode } from '../src/campaign/run-views';
import { getRunInput } from '../src/campaign/run-control';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER } from '../src/unpod/paths';
import { signWebhook } from '../src/unpod/webhook-signature';
import type { CampaignInput, CampaignProgress, TaskState } from '../workflows/definitions';

export const CALLBACK_FAILURE_TYPES = {
  rejected: 'CallbackRejected',
  unreachable: 'CallbackUnreachable',
  notConfigured: 'CallbackNotConfigured',
} as const;

export const CALLBACK_EVENT_ID_HEADER = 'x-campaign-event-id';

export interface CallbackDeps {
  temporal: Client;
  /** CALLBACK_SIGNING_SECRET; without it nothing is sent (a non-retryable failure, logged by the workflow). */
  signingSecret?: string;
  runMode?: RunMode;
  /** Per-attempt deadline (connect, headers, body), ms. Default 10000. */
  timeoutMs?: number;
  now?: () => number;
  /** The guard over callback URLs; default: public addresses only. */
  outbound?: OutboundOptions;
}

/** The secret that signs one space's callbacks: HMAC-SHA256(CALLBACK_SIGNING_SECRET, "callback:<space>"), hex. */
export function callbackSecretFor(signingSecret: string, spaceToken: string): string {
  return createHmac('sha256', signingSecret).update(`callback:${spaceToken}`).digest('hex');
}

/** Answers worth another attempt; any other non-2xx is final. */
const RETRYABLE_STATUS = (s: number) => s >= 500 || s === 408 || s === 425 || s === 429;

export type DeliverCallbackInput =
  | { url: string; type: 'task.finished'; runId: string; task: TaskState }
  | { url: string; type: 'run.finished'; runId: string; progress: CampaignProgress };

export function createCallbackActivities(deps: CallbackDeps) {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const inputs = new Map<string, CampaignInput>();

  async function runInput(runId: string): Promise<CampaignInput> {
    let input = inputs.get(runId);
    if (!input) {
      input = await getRunInput(deps.temporal, runId);
      if (inputs.size > 1000) inputs.clear();
      inputs.set(runId, input);
    }
    return input;
  }

  async function eventOf(i: DeliverCallbackInput): Promise<CallbackEvent> {
    const input = await runInput(i.runId);
    const base = {
      created: v2Time(new Date(now()).toISOString()),
      run_id: i.runId,
      space_id: input.spaceToken,
    };
    if (i.type === 'task.finished') {
      return { ...base, event_id: `${i.task.taskId}:finished`, type: i.type, data: toV2Task(i.task, input) };
    }
    const snap = await loadRun(deps.temporal, i.runId).catch(async () => ({
      input,
      progress: i.progress,
      executionStatus: 'RUNNING',
      batchCount: await batchCount(deps.temporal, i.runId),
    }));
    // The campaign is still open while it delivers this: its final progress is the one it handed in.
    return {
      ...base,
      event_id: `${i.runId}:finished`,
      type: i.type,
      data: toV2Run({ ...snap, progress: i.progress }, deps.runMode ?? 'prod'),
    };
  }

  return {
    async deliverCallback(i: DeliverCallbackInput): Promise<{ status: number; eventId: string }> {
      if (!deps.signingSecret) {
        throw ApplicationFailure.create({
          type: CALLBACK_FAILURE_TYPES.notConfigured,
          message: 'no CALLBACK_SIGNING_SECRET on this worker: callbacks are not sent',
          nonRetryable: true,
        });
      }
      const event = await eventOf(i);
      const body = JSON.stringify(event);
      const t = Math.floor(now() / 1000);
      const secret = callbackSecretFor(deps.signingSecret, event.space_id);
      const where = describeUrl(i.url);
      let res;
      try {
        res = await fetchOutbound(
          i.url,
          {
            method: 'POST',
            body,
            headers: {
              'content-type': 'application/json',
              [PUSH_TIMESTAMP_HEADER]: String(t),
              [PUSH_SIGNATURE_HEADER]: signWebhook(secret, t, body),
              [CALLBACK_EVENT_ID_HEADER]: event.event_id,
              'user-agent': 'unpod-campaigns-callbacks/1',
            },
          },
          { maxBytes: 64 * 1024, ...deps.outbound, timeoutMs },
        );
      } catch (err) {
        const refused = err instanceof OutboundUrlError && !err.retryable;
        throw ApplicationFailure.create({
          type: refused ? CALLBACK_FAILURE_TYPES.rejected : CALLBACK_FAILURE_TYPES.unreachable,
          message:
            err instanceof OutboundUrlError
              ? `callback ${err.message}`
              : `callback ${where} unreachable: ${(err as Error).message}`,
          nonRetryable: refused,
        });
      }
      res.body.destroy(); // the answer's body is not read: only its status counts
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const retryAfter = Number(res.headers['retry-after']);
        const retryable = RETRYABLE_STATUS(res.statusCode);
        throw ApplicationFailure.create({
          type: CALLBACK_FAILURE_TYPES.rejected,
          message: `callback ${where} answered HTTP ${res.statusCode}`,
          nonRetryable: !retryable,
          ...(retryable && Number.isFinite(retryAfter) && retryAfter > 0
            ? { nextRetryDelay: Math.min(retryAfter, 3600) * 1000 }
            : {}),
        });
      }
      return { status: res.statusCode, eventId: event.event_id };
    },
  };
}
