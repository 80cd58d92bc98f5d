/**
 * How the CLI reports an error: one line on stderr naming the flag, row, address or id, exit code 1; the
 * stack only with `--debug` (or DEBUG set). Errors a user can cause are AppErrors (src/errors) and carry their
 * own message; anything else is
 * reduced to its innermost message (a failed update's validator, a gRPC status) with a hint.
 */
import { InvalidArgumentError } from 'commander';
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { AppError } from '../errors';

/** A command-line mistake: its message names the argument. */
export class CliError extends AppError<'invalid_argument'> {
  override readonly name = 'CliError';
  constructor(message: string) {
    super('invalid_argument', message);
  }
}

/** Temporal could not be reached (or was lost): names the address. */
export class TemporalUnreachableError extends AppError<'temporal_unreachable'> {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    detail: string,
  ) {
    super(
      'temporal_unreachable',
      `cannot reach Temporal at ${address} (${detail}): start the stack with \`npm start\`, or set TEMPORAL_ADDRESS`,
    );
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED: the server is not there. */
export function isUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 14 || e.code === 4) return true;
    if (
      e instanceof Error &&
      /UNAVAILABLE|ECONNREFUSED|Failed to connect before the deadline/.test(e.message)
    )
      return true;
  }
  return false;
}

/** One line for any error. `address`: the Temporal address the command used, if it connected. */
export function describeError(err: unknown, address?: string): string {
  // Every error of the vocabulary (src/errors) says what was wrong in its message; commander's own too.
  if (err instanceof AppError || err instanceof InvalidArgumentError) return err.message;
  if (err instanceof WorkflowNotFoundError) return firstLine(err.message);
  if (err instanceof WorkflowUpdateFailedError) {
    // The update's validator (or handler) refused: its message says what was wrong.
    const cause = err.cause as Error | undefined;
    return firstLine(cause?.message ?? err.message);
  }
  if (address && (err instanceof ServiceError || isUnreachable(err)) && isUnreachable(err))
    return new TemporalUnreachableError(address, 'connection lost').message;
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'ENOENT' && e.path) return `${e.path}: no such file`;
  if (e && e.code === 'EACCES' && e.path) return `${e.path}: permission denied`;
  if (err instanceof Error) return `${err.name}: ${firstLine(err.message)} (--debug shows the stack)`;
  return String(err);
}

export function debugRequested(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--debug') || Boolean(env.DEBUG);
}
