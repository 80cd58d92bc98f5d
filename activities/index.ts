/**
 * Activities: thin, typed I/O over the Unpod client and Temporal, built by a factory over their dependencies
 * so tests hand in real ones pointed at the simulator and a test server.
 */
import { activityInfo, cancellationSignal } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { UnpodHttpError, UnpodRateLimitError, isUnpodError, type UnpodClient } from '../src/unpod';
import type { Call } from '../src/unpod/schemas';
import { METADATA_ATTEMPT, METADATA_RUN_ID, METADATA_TASK_WORKFLOW_ID } from '../src/unpod/paths';
import {
  batchContentsQuery,
  campaignLimitSettingsSignal,
  type CallSnapshot,
  type CampaignLimitSettings,
  type ContactBatchInput,
} from '../workflows/definitions';
import { contactBatchWorkflowId, limiterWorkflowId } from '../workflows/ids';
import type { Limits } from '../workflows/limiter-core';
import { capText, SUMMARY_MAX_CHARS, TRANSCRIPT_MAX_CHARS } from '../src/campaign/call-text';
import type { OutboundOptions } from '../src/net/outbound-url';
import { createCallbackActivities } from './callbacks';
import { createSourceActivities } from './sources';

/** Failure types, one const map, so workflows can tell them apart. */
export const FAILURE_TYPES = {
  rejected: 'UnpodRequestRejected',
  unpod: 'UnpodUnavailable',
  notFound: 'UnpodNotFound',
} as const;

export interface ActivityDeps {
  unpod: UnpodClient;
  temporal: Client;
  /** Signs the callbacks POSTed to a run's callback_url (CALLBACK_SIGNING_SECRET); unset: none are sent. */
  callbackSigningSecret?: string;
  /** The guard over user-given URLs (schedule sources, callbacks); default: public addresses only. */
  outbound?: OutboundOptions;
}

export interface CreateCallInput {
  idempotencyKey: string;
  taskWorkflowId: string;
  runId: string;
  attempt: number;
  pipeId: string;
  agentId?: string;
  fromNumber?: string;
  toNumber: string;
  instructions?: string;
  metadata: Record<string, string>;
}

export function toCallSnapshot(call: Call): CallSnapshot {
  return {
    callId: call.call_id,
    status: call.status,
    endReason: call.end_reason ?? null,
    startedAt: call.started_at ?? null,
    endedAt: call.ended_at ?? null,
    durationS: call.duration_s ?? null,
    // Free text from Unpod, capped (src/campaign/call-text.ts) before it enters a workflow's state.
    transcript: capText(call.transcript, TRANSCRIPT_MAX_CHARS),
    summary: capText(call.summary, SUMMARY_MAX_CHARS),
    recordingUrl: call.recording_url ?? null,
    cost: call.cost ?? null,
  };
}

/** Maps a client error onto Temporal's retry layer. */
function toFailure(err: unknown): unknown {
  if (!isUnpodError(err)) return err;
  if (err instanceof UnpodRateLimitError) {
    return ApplicationFailure.create({
      type: FAILURE_TYPES.unpod,
      message: err.message,
      nonRetryable: false,
      nextRetryDelay: err.retryAfterMs ?? undefined,
      cause: err,
    });
  }
  if (err instanceof UnpodHttpError && err.statusCode === 404) {
    return ApplicationFailure.create({
      type: FAILURE_TYPES.notFound,
      message: err.message,
      nonRetryable: true,
    });
  }
  return ApplicationFailure.create({
    type: err.retryable ? FAILURE_TYPES.unpod : FAILURE_TYPES.rejected,
    message: err.message,
    nonRetryable: !err.retryable,
    nextRetryDelay: err instanceof UnpodHttpError && err.retryAfterMs ? err.retryAfterMs : undefined,
  });
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const signal = cancellationSignal();
    // Cut off by cancellation (a worker past its drain grace): retryable, so the next worker sends the same
    // request again, never the non-retryable "aborted by the caller" the client reports.
    if (signal.aborted) {
      throw ApplicationFailure.create({
        type: FAILURE_TYPES.unpod,
        message: `request to Unpod cut off: activity cancelled (${String(signal.reason)})`,
        nonRetryable: false,
      });
    }
    throw toFailure(err);
  }
}

export function createActivities({ unpod, temporal, callbackSigningSecret, outbound }: ActivityDeps) {
  return {
    ...createCallbackActivities({ temporal, signingSecret: callbackSigningSecret, outbound }),
    ...createSourceActivities({ temporal, outbound }),
    async createCall(input: CreateCallInput): Promise<CallSnapshot> {
      const call = await mapped(() =>
        unpod.calls.create(
          {
            pipe_id: input.pipeId,
            to_number: input.toNumber,
            agent_id: input.agentId,
            from_number: input.fromNumber,
            instructions: input.instructions,
            metadata: {
              ...input.metadata,
              [METADATA_TASK_WORKFLOW_ID]: input.taskWorkflowId,
              [METADATA_RUN_ID]: input.runId,
              [METADATA_ATTEMPT]: input.attempt,
            },
          },
          // Cancellation (a draining worker past its grace, or the task giving up) aborts the request; the
          // retry carries the same idempotency key, so a call Unpod did place is found, not placed again.
          { idempotencyKey: input.idempotencyKey, signal: cancellationSignal() },
        ),
      );
      return toCallSnapshot(call);
    },

    async getCall(callId: string): Promise<CallSnapshot> {
      return toCallSnapshot(await mapped(() => unpod.calls.get(callId, { signal: cancellationSignal() })));
    },

    async hangupCall(callId: string): Promise<CallSnapshot> {
      return toCallSnapshot(await mapped(() => unpod.calls.hangup(callId, { signal: cancellationSignal() })));
    },

    /**
     * Makes sure the account's limiter runs (signal-with-start: workflows cannot start-or-signal themselves) and
     * tells it about a campaign. `limits` apply only when this starts the limiter; `unpod-campaigns limits` changes
     * a running one.
     */
    async ensureLimiter(
      accountId: string,
      settings: CampaignLimitSettings,
      limits?: Partial<Limits>,
    ): Promise<void> {
      const info = activityInfo();
      await temporal.workflow.signalWithStart('accountLimiterWorkflow', {
        workflowId: limiterWorkflowId(accountId),
        taskQueue: info.taskQueue,
        args: [{ accountId, limits }],
        signal: campaignLimitSettingsSignal,
        signalArgs: [settings],
      });
    },

    /** Reads one contact batch from the workflow that holds it (Temporal is the only store). */
    async loadBatch(runId: string, batchNo: number): Promise<ContactBatchInput> {
      return temporal.workflow.getHandle(contactBatchWorkflowId(runId, batchNo)).query(batchContentsQuery);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
