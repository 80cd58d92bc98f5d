/**
 * Client-side updates that survive a workflow's continue-as-new. An update that reaches a run just as it
 * continues as new is aborted by the server (the run's last workflow task fails with UnhandledCommand, or the
 * run is closing), and the client sees FAILED_PRECONDITION or NOT_FOUND. The update handlers here are idempotent
 * (keyed by batch number, or setting absolute values), so sending it again to the handle, which follows the
 * newest run, is safe. Seen for real: a 100,000-contact upload failed at batch ~150 when the campaign continued
 * as new while batches were still arriving.
 */
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

export interface UpdateRetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** First pause between attempts; it doubles up to 2 s. */
  initialDelayMs?: number;
}

/** True for an update rejected because its run was continuing as new or its workflow task failed. */
export function isUpdateRaceError(err: unknown): boolean {
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
  opts: UpdateRetryOptions = {},
): Promise<Ret> {
  const attempts = opts.attempts ?? 8;
  let delay = opts.initialDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(def, { args });
    } catch (err) {
      if (attempt >= attempts || !isUpdateRaceError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
