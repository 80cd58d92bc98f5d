/**
 * Client-side updates that survive a workflow's continue-as-new. An update that reaches a run just as it
 * continues as new is aborted by the server (the run's last workflow task fails with UnhandledCommand, or the
 * run is closing), and the client sees FAILED_PRECONDITION or NOT_FOUND. The update handlers here are idempotent
 * (keyed by batch number, or setting absolute values), so sending it again to the handle, which follows the
 * newest run, is safe. Seen for real: a 100,000-contact upload failed ~40 s in, when the campaign continued as
 * new while batches were still arriving.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';

/** gRPC FAILED_PRECONDITION: "unable to perform workflow execution update due to unexpected workflow task failure". */
const FAILED_PRECONDITION = 9;

/** Attempts in all (the first included), with pauses from 100 ms doubling up to 2 s: about 7 s before giving up. */
const ATTEMPTS = 8;

/** True for an update rejected because its run was continuing as new or its workflow task failed. */
function isUpdateRaceError(err: unknown): boolean {
  // A handler's own failure (validator rejection, thrown ApplicationFailure) is an answer, not a race.
  if (err instanceof WorkflowUpdateFailedError) return false;
  // The run closed under the update (continued as new); the handle's next call reaches the new run. A workflow
  // that really does not exist fails the same way after the last attempt.
  if (err instanceof WorkflowNotFoundError) return true;
  return (
    err instanceof ServiceError && isGrpcServiceError(err.cause) && err.cause.code === FAILED_PRECONDITION
  );
}

export async function executeUpdateRetrying<Ret, Args extends [unknown, ...unknown[]]>(
  /** A handle without a run id (`client.workflow.getHandle(id)`): it follows continue-as-new. */
  handle: WorkflowHandle,
  def: UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<Ret> {
  for (let attempt = 1, pauseMs = 100; ; attempt++, pauseMs = Math.min(pauseMs * 2, 2_000)) {
    try {
      return await handle.executeUpdate(def, { args });
    } catch (err) {
      if (attempt >= ATTEMPTS || !isUpdateRaceError(err)) throw err;
      await sleep(pauseMs);
    }
  }
}
