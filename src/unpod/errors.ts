/**
 * Errors thrown by the Unpod client, in the style of undici's lib/core/errors.js: one base class with a stable
 * `code`, one subclass per kind. Every error says whether retrying the same request can help (`retryable`);
 * the client itself never retries — Temporal's activity retries are the one retry layer, and they read
 * `retryable` and `retryAfterMs` from here.
 *
 * No error holds request headers or the API key: `toJSON()` lists exactly what is safe to log.
 */

/** Stable error codes, one per kind. Activities map these to ApplicationFailure types. */
export const UNPOD_ERROR_CODES = {
  ERROR: 'UNPOD_ERROR',
  HTTP_ERROR: 'UNPOD_HTTP_ERROR',
  RATE_LIMITED: 'UNPOD_RATE_LIMITED',
  TIMEOUT: 'UNPOD_TIMEOUT',
  NETWORK: 'UNPOD_NETWORK',
  RESPONSE_INVALID: 'UNPOD_RESPONSE_INVALID',
  ABORTED: 'UNPOD_ABORTED',
} as const;
export type UnpodErrorCode = (typeof UNPOD_ERROR_CODES)[keyof typeof UNPOD_ERROR_CODES];

const kUnpodError = Symbol.for('unpod-campaigns.error');

/** Longest response-body excerpt kept on an error (characters). */
export const MAX_DETAIL_CHARS = 500;

export interface UnpodErrorOptions {
  cause?: unknown;
  method?: string;
  path?: string;
}

export class UnpodError extends Error {
  override readonly name: string = 'UnpodError';
  readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.ERROR;
  readonly retryable: boolean = false;
  /** HTTP method of the request that failed, when there was one. */
  readonly method: string | undefined;
  /** Path (with query) of the request that failed, when there was one. Never contains credentials. */
  readonly path: string | undefined;

  constructor(message: string, options: UnpodErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.method = options.method;
    this.path = options.path;
  }

  get [kUnpodError](): true {
    return true;
  }

  /** What is safe to log: no headers, no key; the cause reduced to name, code and message. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      method: this.method,
      path: this.path,
      cause: summarizeCause(this.cause),
    };
  }
}

export interface UnpodHttpErrorOptions extends UnpodErrorOptions {
  statusCode: number;
  method: string;
  path: string;
  /** The error text the API gave (`detail`, `message`, `errors`, or the raw body), truncated. */
  detail?: string | undefined;
  retryAfterMs?: number | null;
  /** Whether the request carried an idempotency key (makes 409 "same key in flight" retryable). */
  idempotent?: boolean;
}

/** A non-2xx answer, or a v2 206 "business logic error". */
export class UnpodHttpError extends UnpodError {
  override readonly name: string = 'UnpodHttpError';
  override readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.HTTP_ERROR;
  override readonly retryable: boolean;
  override readonly method: string;
  override readonly path: string;
  readonly statusCode: number;
  readonly detail: string | undefined;
  /** From Retry-After (429, 503, …) when the server sent one; null otherwise. */
  readonly retryAfterMs: number | null;

  constructor(message: string, options: UnpodHttpErrorOptions) {
    super(message, options);
    this.method = options.method;
    this.path = options.path;
    this.statusCode = options.statusCode;
    this.detail = options.detail;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.retryable = isRetryableStatus(options.statusCode, options.idempotent ?? false);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      statusCode: this.statusCode,
      detail: this.detail,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

/** 429: the account's calls-per-minute (or similar) limit. Always retryable; honour `retryAfterMs`. */
export class UnpodRateLimitError extends UnpodHttpError {
  override readonly name: string = 'UnpodRateLimitError';
  override readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.RATE_LIMITED;

  constructor(message: string, options: Omit<UnpodHttpErrorOptions, 'statusCode'>) {
    super(message, { ...options, statusCode: 429 });
  }
}

/** No answer (connect, headers or body) within the client's timeout. Retryable. */
export class UnpodTimeoutError extends UnpodError {
  override readonly name: string = 'UnpodTimeoutError';
  override readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.TIMEOUT;
  override readonly retryable: boolean = true;
  readonly timeoutMs: number;

  constructor(message: string, options: UnpodErrorOptions & { timeoutMs: number }) {
    super(message, options);
    this.timeoutMs = options.timeoutMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), timeoutMs: this.timeoutMs };
  }
}

/** The connection failed (refused, reset, DNS, socket closed). Retryable. */
export class UnpodNetworkError extends UnpodError {
  override readonly name: string = 'UnpodNetworkError';
  override readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.NETWORK;
  override readonly retryable: boolean = true;
  /** The system or undici code behind it, e.g. ECONNREFUSED, UND_ERR_SOCKET. */
  readonly errno: string | undefined;

  constructor(message: string, options: UnpodErrorOptions & { errno?: string | undefined }) {
    super(message, options);
    this.errno = options.errno;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), errno: this.errno };
  }
}

/** A 2xx whose body is not JSON or does not match the schema: the API's shape changed. Not retryable. */
export class UnpodResponseError extends UnpodError {
  override readonly name: string = 'UnpodResponseError';
  override readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.RESPONSE_INVALID;
  override readonly retryable: boolean = false;
  readonly statusCode: number;
  /** Dotted path of the first field that failed (`results.0.status`); '' for the whole body (e.g. not JSON). */
  readonly field: string;
  readonly issues: ReadonlyArray<{ path: string; message: string }>;

  constructor(
    message: string,
    options: UnpodErrorOptions & {
      statusCode: number;
      field: string;
      issues?: ReadonlyArray<{ path: string; message: string }>;
    },
  ) {
    super(message, options);
    this.statusCode = options.statusCode;
    this.field = options.field;
    this.issues = options.issues ?? [];
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), statusCode: this.statusCode, field: this.field, issues: this.issues };
  }
}

/** The caller's AbortSignal fired. Not retryable (the caller asked to stop). */
export class UnpodAbortError extends UnpodError {
  override readonly name: string = 'UnpodAbortError';
  override readonly code: UnpodErrorCode = UNPOD_ERROR_CODES.ABORTED;
  override readonly retryable: boolean = false;
}

export function isUnpodError(e: unknown): e is UnpodError {
  return typeof e === 'object' && e !== null && (e as { [kUnpodError]?: unknown })[kUnpodError] === true;
}

/**
 * Whether an HTTP status is worth retrying with the same request: 408, 425, 429 and 5xx (except 501/505,
 * which will not change). 409 only for idempotent requests, where it means "a request with this key is
 * still in flight". Every other 4xx (validation, auth, not found) is final.
 */
export function isRetryableStatus(statusCode: number, idempotent = false): boolean {
  if (statusCode === 408 || statusCode === 425 || statusCode === 429) return true;
  if (statusCode === 409) return idempotent;
  if (statusCode >= 500 && statusCode <= 599) return statusCode !== 501 && statusCode !== 505;
  return false;
}

/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds from `nowMs`: delta-seconds ("7") or an HTTP-date. A date in
 * the past gives 0. Absent or unparseable gives null.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : null;
  }
  // Only date-like strings: Date.parse accepts bare numbers like "-1" or "1.5", which are not valid here.
  if (!/[a-z]/i.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

function summarizeCause(cause: unknown): Record<string, unknown> | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return { name: cause.name, code: typeof code === 'string' ? code : undefined, message: cause.message };
  }
  return { message: String(cause) };
}

/**
 * Conditions of the whole account, not of one contact (REAL-API, "Preconditions and errors seen in the SDK's
 * recorded live run"): every further dial fails the same way until someone acts, so a run pauses on them.
 */
export const ACCOUNT_BLOCKS = {
  unauthorized: 'Unpod refused the API key (401/403): check UNPOD_API_KEY, the auth scheme and Org-Handle',
  no_from_number:
    'the pipe has no phone number attached and no from-number was given: attach one or set from_number',
  playbook_not_published: "the pipe's agent is not published: publish it in Unpod",
  no_worker_available: "no AgentRunner is connected for the pipe's agent: start the agent's runner",
} as const;
export type AccountBlockKind = keyof typeof ACCOUNT_BLOCKS;

/** The account-wide condition behind an error, if it is one. */
export function accountBlock(err: unknown): AccountBlockKind | null {
  if (!(err instanceof UnpodHttpError)) return null;
  if (err.statusCode === 401 || err.statusCode === 403) return 'unauthorized';
  const d = (err.detail ?? '').toLowerCase();
  for (const kind of ['no_from_number', 'playbook_not_published', 'no_worker_available'] as const) {
    if (d.includes(kind)) return kind;
  }
  return null;
}

/** `409 number_in_use`: the from-number is busy; the same create succeeds later. */
export function isNumberInUse(err: unknown): boolean {
  return err instanceof UnpodHttpError && err.statusCode === 409 && /number_in_use/i.test(err.detail ?? '');
}

/**
 * Whether a failed create may still have placed a call: no answer came (timeout, reset, cut off), or a 5xx
 * came after the body was sent. Unpod has no idempotency key, so such a create is reconciled by listing before
 * any second create. A refused connection never reached Unpod; a 4xx or 429 is a definite no.
 */
export function createMayHavePlaced(err: unknown): boolean {
  if (err instanceof UnpodHttpError) return err.statusCode >= 500;
  if (err instanceof UnpodNetworkError) {
    return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(
      err.errno ?? '',
    );
  }
  return true; // a timeout, a cut-off request, even a 2xx we could not read
}
