/**
 * The call activities: place a call, find one whose create lost its answer, wait for a call's end through the
 * worker's watcher, read, hang up, and the preflight of a run's pipe. Each maps the client's errors onto
 * failure types the call-task workflow tells apart (FAILURE_TYPES) — the workflow, not Temporal's retry policy,
 * decides what follows a failed create, because only it may decide that a second create is safe.
 */
import { activityInfo, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  ACCOUNT_BLOCKS,
  UnpodHttpError,
  UnpodRateLimitError,
  accountBlock,
  createMayHavePlaced,
  isNumberInUse,
  isUnpodError,
  type UnpodClient,
} from '../src/unpod';
import { capText, SUMMARY_MAX_CHARS, TRANSCRIPT_MAX_CHARS } from '../src/campaign/call-text';
import type { CallWatcher } from '../src/unpod/call-watcher';
import type { CampaignMailbox } from '../src/temporal/mailbox';
import { DATA_ATTEMPT, DATA_RUN_ID, DATA_TASK_ID } from '../src/unpod/paths';
import type { TranscriptTurn, UnpodCall } from '../src/unpod/schemas';
import type { CallSnapshot, CallSettings } from '../workflows/definitions';
import { FAILURE_TYPES, type CreateFailureDetails } from '../workflows/failures';

export interface CallActivityDeps {
  unpod: UnpodClient;
  watcher: CallWatcher;
  /** How long after an unanswered create a call it placed is sure to be listed. Default 15_000. */
  landingDelayMs?: number;
  /** Where a dial is reported to its campaign (lean protocol), batched with other reports. */
  mailbox?: CampaignMailbox;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface CreateCallInput {
  taskWorkflowId: string;
  runId: string;
  attempt: number;
  pipeId: string;
  agentId?: string;
  fromNumber?: string;
  toNumber: string;
  instructions?: string;
  data: Record<string, string>;
  /** Sent under the configured idempotency header, if any (nothing depends on it). */
  idempotencyKey: string;
  /** Lean protocol: the permit may be dialed on only until then (epoch ms); the dial is told to the campaign. */
  permit?: { id: string; dialBy: number; campaignWorkflowId: string };
}

export interface FindPlacedCallInput {
  taskWorkflowId: string;
  attempt: number;
  pipeId: string;
  toNumber: string;
  /** Epoch ms the unanswered create was sent (at the latest). */
  sentAtMs: number;
}

/** The turns as `role: content` lines, capped (src/campaign/call-text.ts); Unpod's record keeps all of it. */
export function renderTranscript(turns: TranscriptTurn[] | null): string | null {
  if (turns === null) return null;
  const text = turns
    .map((t) => (t.role ? `${t.role}: ${t.content ?? ''}` : (t.content ?? '')))
    .join('\n')
    .trim();
  return capText(text === '' ? null : text, TRANSCRIPT_MAX_CHARS);
}

export function toCallSnapshot(call: UnpodCall): CallSnapshot {
  return {
    callId: call.callId,
    status: call.state,
    unpodStatus: call.status,
    endReason: call.endReason,
    startedAt: call.startedAt,
    endedAt: call.endedAt,
    durationS: call.durationS,
    transcript: renderTranscript(call.transcript),
    // Free text from Unpod, capped before it enters a workflow's state.
    summary: capText(call.summary, SUMMARY_MAX_CHARS),
    recordingUrl: call.recordingUrl,
    cost: call.cost,
  };
}

/** Whether a call in a list is the one this task's attempt placed: the markers the engine put in `data`. */
export function isAttemptCall(call: UnpodCall, taskId: string, attempt: number): boolean {
  return call.data[DATA_TASK_ID] === taskId && String(call.data[DATA_ATTEMPT]) === String(attempt);
}

function createFailure(err: unknown): ApplicationFailure {
  const message = err instanceof Error ? err.message : String(err);
  const block = accountBlock(err);
  if (block) {
    const details: CreateFailureDetails = { block, blockMessage: ACCOUNT_BLOCKS[block], placed: 'no' };
    return ApplicationFailure.create({
      type: FAILURE_TYPES.accountBlocked,
      message,
      details: [details],
      nonRetryable: true,
    });
  }
  const retryAfterMs =
    err instanceof UnpodHttpError && err.retryAfterMs !== null
      ? err.retryAfterMs
      : isNumberInUse(err)
        ? 5_000
        : undefined;
  const placed = createMayHavePlaced(err) ? 'maybe' : 'no';
  const details: CreateFailureDetails = { placed, retryAfterMs };
  const refused =
    isUnpodError(err) &&
    !err.retryable &&
    !(err instanceof UnpodRateLimitError) &&
    !isNumberInUse(err) &&
    placed === 'no';
  return ApplicationFailure.create({
    type: refused ? FAILURE_TYPES.rejected : FAILURE_TYPES.unavailable,
    message,
    details: [details],
  });
}

/** Errors of reads and hangups: retried by Temporal (404 is final). */
function readFailure(err: unknown): unknown {
  if (!isUnpodError(err)) return err;
  if (err instanceof UnpodHttpError && err.statusCode === 404) {
    return ApplicationFailure.create({
      type: FAILURE_TYPES.notFound,
      message: err.message,
      nonRetryable: true,
    });
  }
  return ApplicationFailure.create({
    type: FAILURE_TYPES.unavailable,
    message: err.message,
    nonRetryable: false,
    nextRetryDelay: err instanceof UnpodHttpError && err.retryAfterMs ? err.retryAfterMs : undefined,
  });
}

/** A request cut off by cancellation (a worker past its drain grace) is retryable: the next worker asks again. */
function cutOff(): ApplicationFailure | undefined {
  const signal = cancellationSignal();
  if (!signal.aborted) return undefined;
  return ApplicationFailure.create({
    type: FAILURE_TYPES.unavailable,
    message: `request to Unpod cut off: activity cancelled (${String(signal.reason)})`,
    details: [{ placed: 'maybe' } satisfies CreateFailureDetails],
  });
}

async function read<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw cutOff() ?? readFailure(err);
  }
}

export function createCallActivities({
  unpod,
  watcher,
  landingDelayMs = 15_000,
  mailbox,
  log,
}: CallActivityDeps) {
  return {
    /** One create, never retried here: the workflow decides, knowing whether the call may have been placed. */
    async createCall(input: CreateCallInput): Promise<CallSnapshot> {
      const permit = input.permit;
      if (permit && Date.now() > permit.dialBy) {
        // Too late for this permit's rate token (or its day): nothing is sent; the task asks for another.
        throw ApplicationFailure.create({
          type: FAILURE_TYPES.permitExpired,
          message: `the permit expired ${Date.now() - permit.dialBy} ms before the dial`,
          details: [{ placed: 'no' } satisfies CreateFailureDetails],
          nonRetryable: true,
        });
      }
      try {
        const call = await unpod.calls.create(
          {
            to_number: input.toNumber,
            pipe_id: input.pipeId,
            agent_id: input.agentId,
            from_number: input.fromNumber,
            instructions: input.instructions,
            data: {
              ...input.data,
              [DATA_TASK_ID]: input.taskWorkflowId,
              [DATA_RUN_ID]: input.runId,
              [DATA_ATTEMPT]: input.attempt,
            },
          },
          { idempotencyKey: input.idempotencyKey, signal: cancellationSignal() },
        );
        if (!call.statusKnown) log?.('unknown call status, read as in progress', { status: call.status });
        if (permit && mailbox) {
          // Unpod answered, so it counted the call before now: the campaign's rate window may run from here.
          // Not awaited: an unreported dial counts as made at dialBy, which is only later.
          const at = Date.now();
          mailbox
            .post(permit.campaignWorkflowId, [
              { kind: 'dialed', taskId: input.taskWorkflowId, id: permit.id, at },
            ])
            .catch(() => undefined);
        }
        return toCallSnapshot(call);
      } catch (err) {
        throw cutOff() ?? createFailure(err);
      }
    },

    /**
     * After a create whose answer never came: waits until a call it placed must be listed, then looks for it by
     * the markers in `data` — live calls of the pipe first, then every call of the pipe. null: none was placed.
     */
    async findPlacedCall(input: FindPlacedCallInput): Promise<CallSnapshot | null> {
      const waitMs = input.sentAtMs + landingDelayMs - Date.now();
      if (waitMs > 0) {
        heartbeat();
        await sleep(waitMs);
      }
      const match = (rows: UnpodCall[]) =>
        rows.find((c) => isAttemptCall(c, input.taskWorkflowId, input.attempt));
      const live = await read(() => unpod.calls.listInFlight(input.pipeId, { signal: cancellationSignal() }));
      const found =
        match(live) ??
        match(await read(() => unpod.calls.list({ pipeId: input.pipeId }, { signal: cancellationSignal() })));
      if (!found) return null;
      log?.('adopted a call whose create lost its answer', {
        callId: found.callId,
        task: input.taskWorkflowId,
      });
      // A list row has no transcript: read the call itself when it has already ended.
      const full =
        found.state === 'completed' || found.state === 'failed'
          ? await read(() => unpod.calls.get(found.callId))
          : found;
      return toCallSnapshot(full);
    },

    /**
     * Resolves when the call has ended, with its final record: the worker's watcher lists live calls for every
     * call it watches at once. Heartbeats, so a worker that dies hands the watch to another within the
     * heartbeat timeout; never gives up by itself (Unpod down for an hour only delays the answer).
     */
    /**
     * Waits for the call's end through the watcher. `until` (epoch ms): answers null then if the call is still
     * live (the task's hard cap), so the workflow needs no timer beside it.
     */
    async awaitCallEnd(input: {
      callId: string;
      pipeId?: string;
      intervalMs?: number;
      until?: number;
    }): Promise<CallSnapshot | null> {
      const cancelled = cancellationSignal();
      const stop = new AbortController();
      const onCancel = () => stop.abort(cancelled.reason);
      cancelled.addEventListener('abort', onCancel);
      const beat = setInterval(() => heartbeat(), 5_000);
      heartbeat();
      let capTimer: NodeJS.Timeout | undefined;
      const cap =
        input.until === undefined
          ? new Promise<never>(() => undefined)
          : new Promise<null>((resolve) => {
              capTimer = setTimeout(() => resolve(null), Math.max(0, input.until! - Date.now()));
            });
      try {
        const call = await Promise.race([
          watcher.watch(input.callId, {
            pipeId: input.pipeId,
            intervalMs: input.intervalMs,
            signal: stop.signal,
          }),
          cap,
        ]);
        return call ? toCallSnapshot(call) : null;
      } catch (err) {
        throw cutOff() ?? readFailure(err);
      } finally {
        clearInterval(beat);
        clearTimeout(capTimer);
        cancelled.removeEventListener('abort', onCancel);
        stop.abort('the watch is over'); // stops watching the call if the cap came first
      }
    },

    async getCall(callId: string): Promise<CallSnapshot> {
      return toCallSnapshot(await read(() => unpod.calls.get(callId, { signal: cancellationSignal() })));
    },

    /** Hangs up; the answer may be empty (`calls.py`), then the call is read back. */
    async hangupCall(callId: string): Promise<CallSnapshot> {
      const hung = await read(() => unpod.calls.hangup(callId, { signal: cancellationSignal() }));
      return toCallSnapshot(
        hung ?? (await read(() => unpod.calls.get(callId, { signal: cancellationSignal() }))),
      );
    },

    /**
     * Before a run dials: the pipe exists and has a number (or the run gives a from-number). Returns the pipe's
     * own cap on a call; throws an account block naming the setting when the run cannot dial at all.
     */
    async preflight(call: CallSettings): Promise<{ maxCallDurationS: number | null; warnings: string[] }> {
      const attempt = activityInfo().attempt;
      let pipe;
      try {
        pipe = await unpod.pipes.get(call.pipeId, { signal: cancellationSignal() });
      } catch (err) {
        if (err instanceof UnpodHttpError && err.statusCode === 404) {
          throw ApplicationFailure.create({
            type: FAILURE_TYPES.accountBlocked,
            nonRetryable: true,
            message: `pipe "${call.pipeId}" does not exist in this Unpod account (UNPOD_PIPE_ID / pipe_id)`,
            details: [
              {
                block: 'no_pipe',
                blockMessage: `pipe "${call.pipeId}" does not exist in this Unpod account: check UNPOD_PIPE_ID / pipe_id`,
                placed: 'no',
              } satisfies CreateFailureDetails,
            ],
          });
        }
        const block = accountBlock(err);
        if (block) throw createFailure(err);
        throw cutOff() ?? readFailure(err);
      }
      const warnings: string[] = [];
      if (!pipe.number && !pipe.number_id && !call.fromNumber) {
        throw ApplicationFailure.create({
          type: FAILURE_TYPES.accountBlocked,
          nonRetryable: true,
          message: ACCOUNT_BLOCKS.no_from_number,
          details: [
            {
              block: 'no_from_number',
              blockMessage: ACCOUNT_BLOCKS.no_from_number,
              placed: 'no',
            } satisfies CreateFailureDetails,
          ],
        });
      }
      if (pipe.status && pipe.status !== 'active') warnings.push(`pipe status is "${pipe.status}"`);
      if (attempt > 1) log?.('preflight succeeded after retries', { attempt });
      return { maxCallDurationS: pipe.max_call_duration_s ?? null, warnings };
    },
  };
}
