/**
 * deliverCallback: POSTs one event (a task's end, or the run's end) to the run's callback_url, signed the way
 * Signed as an agent's push is (x-campaign-timestamp, x-campaign-signature: v1=HMAC-SHA256(secret, "<t>.<body>")), so a
 * receiver verifies it as we verify Unpod's. The timestamp is taken per attempt, so a late retry is still
 * within the receiver's tolerance. Any non-2xx answer or network error is a retryable failure: Temporal's
 * activity retries (the CALLBACK profile: many, over hours) are the one retry layer. `x-campaign-event-id`
 * is the same on every attempt of one event, for the receiver to de-duplicate.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import type { CallbackEvent } from '../src/http/api-schemas';
import { batchCount, loadRun, toV2Run, toV2Task, v2Time, type RunMode } from '../src/http/api-views';
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
  /** Per-attempt deadline, ms. Default 10000. */
  timeoutMs?: number;
  now?: () => number;
}

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
      let res;
      try {
        res = await request(i.url, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            [PUSH_TIMESTAMP_HEADER]: String(t),
            [PUSH_SIGNATURE_HEADER]: signWebhook(deps.signingSecret, t, body),
            [CALLBACK_EVENT_ID_HEADER]: event.event_id,
            'user-agent': 'unpod-campaigns-callbacks/1',
          },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (err) {
        throw ApplicationFailure.create({
          type: CALLBACK_FAILURE_TYPES.unreachable,
          message: `callback ${i.url} unreachable: ${(err as Error).message}`,
          nonRetryable: false,
        });
      }
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const retryAfter = Number(res.headers['retry-after']);
        throw ApplicationFailure.create({
          type: CALLBACK_FAILURE_TYPES.rejected,
          message: `callback ${i.url} answered HTTP ${res.statusCode}`,
          nonRetryable: false,
          ...(Number.isFinite(retryAfter) && retryAfter > 0
            ? { nextRetryDelay: Math.min(retryAfter, 3600) * 1000 }
            : {}),
        });
      }
      return { status: res.statusCode, eventId: event.event_id };
    },
  };
}
