/**
 * HTTP errors with stable codes. Every error a route throws is one of these (or is mapped to one by the error
 * handler), and every client sees `{ error: { code, message } }` — never a stack trace.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra, client-safe fields placed beside code and message (e.g. zod issue paths). */
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class BadRequestError extends HttpError {
  override readonly name = 'BadRequestError';
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends HttpError {
  override readonly name = 'UnauthorizedError';
  constructor(code: string, message: string) {
    super(401, code, message);
  }
}

export class ServiceUnavailableError extends HttpError {
  override readonly name = 'ServiceUnavailableError';
  constructor(code: string, message: string, options?: { cause?: unknown; retryAfterS?: number }) {
    super(503, code, message, undefined, { cause: options?.cause });
    this.retryAfterS = options?.retryAfterS;
  }
  readonly retryAfterS: number | undefined;
}

export interface ErrorBody {
  error: { code: string; message: string; [extra: string]: unknown };
}

export class ConflictError extends HttpError {
  override readonly name = 'ConflictError';
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, details);
  }
}

export class PayloadTooLargeError extends HttpError {
  override readonly name = 'PayloadTooLargeError';
  constructor(message: string, details?: Record<string, unknown>) {
    super(413, 'payload_too_large', message, details);
  }
}

export class ForbiddenError extends HttpError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class NotAuthenticatedError extends HttpError {
  override readonly name = 'NotAuthenticatedError';
  constructor(code: 'not_authenticated' | 'invalid_token', message: string) {
    super(401, code, message);
  }
}
