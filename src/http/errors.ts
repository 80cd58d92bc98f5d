/**
 * HTTP errors: AppErrors (src/errors) with the status they answer. Each subclass takes only the codes whose
 * table status is its own, so a code and its status cannot disagree. Clients see the v2 error body on the
 * /api/v2 routes and `{ error: { code, message } }` on the rest (README, "Errors"); never a stack trace.
 */
import { AppError, type CodeWithStatus, type ErrorCode } from '../errors';

export class HttpError extends AppError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly statusCode: number,
    code: ErrorCode,
    message: string,
    /** Extra, client-safe fields placed beside code and message (e.g. zod issue paths). */
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, message, { details, cause: options?.cause });
  }
}

/** The class of the errors that answer `status`: it takes only the codes whose table status is that one. */
function errorWithStatus<S extends number>(status: S, name: string) {
  return class extends HttpError {
    override readonly name: string = name;
    constructor(code: CodeWithStatus<S>, message: string, details?: Record<string, unknown>) {
      super(status, code, message, details);
    }
  };
}

export const BadRequestError = errorWithStatus(400, 'BadRequestError');
export const UnauthorizedError = errorWithStatus(401, 'UnauthorizedError');
export const ForbiddenError = errorWithStatus(403, 'ForbiddenError');
export const NotFoundError = errorWithStatus(404, 'NotFoundError');
export const ConflictError = errorWithStatus(409, 'ConflictError');
export const PayloadTooLargeError = errorWithStatus(413, 'PayloadTooLargeError');

export class ServiceUnavailableError extends HttpError {
  override readonly name = 'ServiceUnavailableError';
  constructor(
    code: CodeWithStatus<503>,
    message: string,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(503, code, message, undefined, { cause: options?.cause });
    this.retryAfterS = options?.retryAfterS;
  }
  readonly retryAfterS: number | undefined;
}

export interface ErrorBody {
  error: { code: string; message: string; [extra: string]: unknown };
}

/**
 * Any error as an HttpError, or undefined for an unexpected one (the caller logs it and answers a bare 500):
 * an HttpError as it is; an AppError whose code has a status, with that status; fastify's own client errors
 * (a 4xx with its FST_ERR_* code) with the table's code for their status, fastify's code kept as `reason`.
 */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof AppError) {
    const status = err.status;
    return status === undefined ? undefined : new HttpError(status, err.code, err.message, err.details);
  }
  const e = err as { statusCode?: unknown; message?: unknown; code?: unknown } | null;
  if (
    e &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    typeof e.message === 'string'
  ) {
    const code: ErrorCode =
      e.statusCode === 413
        ? 'payload_too_large'
        : e.statusCode === 415
          ? 'unsupported_media_type'
          : 'bad_request';
    return new HttpError(
      e.statusCode,
      code,
      e.message,
      typeof e.code === 'string' ? { reason: e.code } : undefined,
    );
  }
  return undefined;
}
