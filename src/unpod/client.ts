/**
 * The typed Unpod client, speaking what Unpod's own Python SDK sends (unpod 0.5.0, `management/_http.py`,
 * `_auth.py`, `calls.py`; docs/unpod-contract.md): host-root `/api/…` paths, `Authorization: Bearer <key>` by
 * default (or `Token` / `JWT` with `Org-Handle` for the platform proxy), a fresh `X-Request-Id` per request,
 * answers unwrapped from their envelopes and read tolerantly.
 *
 * There is deliberately no retry loop here: Temporal's activity retries are the one retry layer, and they read
 * `retryable` / `retryAfterMs` off the error. What the client does honour by itself is the account's rate-limit
 * window: after an answer saying `X-RateLimit-Remaining: 0`, the next request waits for `X-RateLimit-Reset`.
 * The API key lives only in the headers built per request; any echo of it in a body is redacted.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  UnpodAbortError,
  UnpodError,
  UnpodHttpError,
  UnpodNetworkError,
  UnpodRateLimitError,
  UnpodResponseError,
  UnpodTimeoutError,
  MAX_DETAIL_CHARS,
  isUnpodError,
  parseRetryAfter,
} from './errors';
import { IN_FLIGHT_FILTER, unpodPaths } from './paths';
import {
  callListSchema,
  callSchema,
  errorBodySchema,
  pipeSchema,
  unwrapData,
  type CreateCallRequest,
  type Pipe,
  type UnpodCall,
} from './schemas';

/** The SDK's three auth strategies (`_auth.py`). */
export type UnpodAuthScheme = 'bearer' | 'token' | 'jwt';

export interface UnpodClientOptions {
  /** e.g. https://api.unpod.ai (the SDK's default host) or http://127.0.0.1:4010; `/api/…` paths go from its origin. */
  baseUrl: string;
  apiKey: string;
  /** Default 'bearer' (the SDK's direct mode); 'token' / 'jwt' for the backend-core proxy. */
  authScheme?: UnpodAuthScheme;
  /** Sent as `Org-Handle` when set (the proxy modes need it on most v2 endpoints). */
  orgHandle?: string;
  /** Sent as `Product-ID` when set (telephony endpoints). */
  productId?: string;
  /**
   * Header to carry an idempotency key on creates, when set. Unpod documents none; the engine never depends on
   * it (a lost create is found again by listing), so this is off unless configured.
   */
  idempotencyHeader?: string;
  /** Per-request deadline covering connect, headers and body. Default 10_000. */
  timeoutMs?: number;
  /** undici Pool size (connections to the origin). Default 32. Ignored when `dispatcher` is given. */
  connections?: number;
  /** Injected dispatcher (Agent, MockAgent, a shared Pool…). The client does not close one it did not create. */
  dispatcher?: Dispatcher;
  /** Longest wait for an exhausted rate-limit window before a request goes anyway. Default 60_000. */
  maxRateWaitMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}
export interface CreateOptions extends RequestOptions {
  /** Sent under `idempotencyHeader` when the client has one; ignored otherwise. */
  idempotencyKey?: string;
}

export interface CallListQuery {
  /** `call_status`: a status, or `in_flight` (IN_FLIGHT_FILTER) for every call not yet ended. */
  status?: string;
  pipeId?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECTIONS = 32;
const SCHEME_WORD: Record<UnpodAuthScheme, string> = { bearer: 'Bearer', token: 'Token', jwt: 'JWT' };

type QueryValue = string | number | undefined;

interface SendOptions<S extends z.ZodTypeAny> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, QueryValue> | undefined;
  body?: unknown;
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
  schema: S;
  /** An empty 2xx body is a success with this value (hangup may answer with nothing). */
  empty?: () => z.infer<S>;
  /** A create: it waits out a spent calls-per-minute window (reads and hangups never do). */
  placesCall?: boolean;
}

export class UnpodClient {
  readonly calls: {
    create(req: CreateCallRequest, opts?: CreateOptions): Promise<UnpodCall>;
    get(callId: string, opts?: RequestOptions): Promise<UnpodCall>;
    list(q?: CallListQuery, opts?: RequestOptions): Promise<UnpodCall[]>;
    /** Every call not yet ended (`?call_status=in_flight`), optionally for one pipe. */
    listInFlight(pipeId?: string, opts?: RequestOptions): Promise<UnpodCall[]>;
    hangup(callId: string, opts?: RequestOptions): Promise<UnpodCall | null>;
  };
  /** `pipes.get` (pipes.py; deprecated in 0.5.0 in favour of `agents.voice`, same path): the preflight's read. */
  readonly pipes: { get(pipeId: string, opts?: RequestOptions): Promise<Pipe> };

  readonly #origin: string;
  readonly #basePath: string;
  readonly #apiKey: string;
  readonly #authHeaders: Record<string, string>;
  readonly #idempotencyHeader: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxRateWaitMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  /** Epoch ms until which the account's rate-limit window is spent (X-RateLimit-Remaining: 0). */
  #rateBlockedUntil = 0;

  constructor(opts: UnpodClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new TypeError(`UnpodClient: baseUrl is not a URL: ${JSON.stringify(opts.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`UnpodClient: baseUrl must be http(s), got ${url.protocol}`);
    }
    if (url.username || url.password) throw new TypeError('UnpodClient: baseUrl must not carry credentials');
    if (!opts.apiKey) throw new TypeError('UnpodClient: apiKey is required');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
      throw new TypeError('UnpodClient: timeoutMs must be > 0');
    const scheme = opts.authScheme ?? 'bearer';
    if (!(scheme in SCHEME_WORD)) throw new TypeError(`UnpodClient: authScheme must be bearer, token or jwt`);

    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#apiKey = opts.apiKey;
    this.#authHeaders = { authorization: `${SCHEME_WORD[scheme]} ${opts.apiKey}` };
    if (opts.orgHandle) this.#authHeaders['org-handle'] = opts.orgHandle;
    if (opts.productId) this.#authHeaders['product-id'] = opts.productId;
    this.#idempotencyHeader = opts.idempotencyHeader?.toLowerCase() || undefined;
    this.#timeoutMs = timeoutMs;
    this.#maxRateWaitMs = opts.maxRateWaitMs ?? 60_000;
    if (opts.dispatcher) {
      this.#dispatcher = opts.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      this.#dispatcher = new Pool(this.#origin, {
        connections: opts.connections ?? DEFAULT_CONNECTIONS,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        connect: { timeout: timeoutMs },
      });
      this.#ownsDispatcher = true;
    }

    this.calls = {
      create: (req, o) =>
        this.#send({
          method: 'POST',
          path: unpodPaths.calls(),
          body: req,
          idempotencyKey: o?.idempotencyKey,
          signal: o?.signal,
          schema: callSchema,
          placesCall: true,
        }),
      get: (callId, o) =>
        this.#send({ method: 'GET', path: unpodPaths.call(callId), signal: o?.signal, schema: callSchema }),
      list: (q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.calls(),
          query: { call_status: q?.status, pipe_id: q?.pipeId },
          signal: o?.signal,
          schema: callListSchema,
        }),
      listInFlight: (pipeId, o) => this.calls.list({ status: IN_FLIGHT_FILTER, pipeId }, o),
      // `calls.py` hangup: POST with no body; "the answer may be empty".
      hangup: (callId, o) =>
        this.#send({
          method: 'POST',
          path: unpodPaths.callHangup(callId),
          signal: o?.signal,
          schema: callSchema.nullable(),
          empty: () => null,
        }),
    };
    this.pipes = {
      get: (pipeId, o) =>
        this.#send({ method: 'GET', path: unpodPaths.pipe(pipeId), signal: o?.signal, schema: pipeSchema }),
    };
  }

  /** Closes the pool this client created (waits for requests in flight). An injected dispatcher is left open. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** `/api/…` from the origin, as `_http.py` `_url` does; anything else under the base URL's path. */
  #target(path: string, query: Record<string, QueryValue> | undefined): string {
    return (path.startsWith('/api/') ? path : this.#basePath + path) + buildQuery(query);
  }

  async #waitForRateWindow(signal: AbortSignal | undefined): Promise<void> {
    const waitMs = Math.min(this.#rateBlockedUntil - Date.now(), this.#maxRateWaitMs);
    if (waitMs > 0) await sleep(waitMs, undefined, signal ? { signal } : undefined).catch(() => undefined);
  }

  #noteRateHeaders(headers: Record<string, string | string[] | undefined>): void {
    const remaining = Number(first(headers['x-ratelimit-remaining']));
    const reset = Number(first(headers['x-ratelimit-reset']));
    if (remaining === 0 && Number.isFinite(reset) && reset > 0) {
      this.#rateBlockedUntil = Math.max(this.#rateBlockedUntil, reset * 1000);
    }
  }

  async #send<S extends z.ZodTypeAny>(o: SendOptions<S>): Promise<z.infer<S>> {
    const path = this.#target(o.path, o.query);
    const headers: Record<string, string> = {
      ...this.#authHeaders,
      accept: 'application/json',
      'content-type': 'application/json',
      'x-request-id': randomUUID(),
    };
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (o.idempotencyKey !== undefined && this.#idempotencyHeader)
      headers[this.#idempotencyHeader] = o.idempotencyKey;

    const ctx = { method: o.method, path };
    // The window the headers speak of is the plan's calls per minute: it holds back calls, never the reads that
    // learn how calls ended (holding those would keep every slot busy until the window resets).
    if (o.placesCall) await this.#waitForRateWindow(o.signal);
    const timeoutSignal = AbortSignal.timeout(this.#timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeoutSignal]) : timeoutSignal;

    let statusCode: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method: o.method,
        headers,
        body,
        signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      statusCode = res.statusCode;
      responseHeaders = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw this.#transportError(err, ctx, o.signal, timeoutSignal);
    }
    this.#noteRateHeaders(responseHeaders);

    if (statusCode < 200 || statusCode > 299) {
      throw this.#httpError(statusCode, responseHeaders, text, ctx);
    }
    if (text.trim() === '' && o.empty) return o.empty();

    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new UnpodResponseError(
        `Unpod ${ctx.method} ${ctx.path} answered ${statusCode} with a body that is not JSON: ${excerpt(this.#redact(text), 80)}`,
        { ...ctx, statusCode, field: '', cause: err },
      );
    }
    const payload = unwrapData(json);
    if (o.empty && isEmptyObject(payload)) return o.empty();

    const parsed = o.schema.safeParse(payload);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 10)
        .map((i) => ({ path: i.path.map((p) => String(p)).join('.'), message: i.message }));
      const firstIssue = issues[0] ?? { path: '', message: 'invalid' };
      const where = firstIssue.path === '' ? 'the body' : `"${firstIssue.path}"`;
      throw new UnpodResponseError(
        `Unpod ${ctx.method} ${ctx.path} answered ${statusCode} with an unexpected body: ${where}: ${firstIssue.message}`,
        { ...ctx, statusCode, field: firstIssue.path, issues },
      );
    }
    return parsed.data as z.infer<S>;
  }

  #httpError(
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
    ctx: { method: string; path: string },
  ): UnpodHttpError {
    const detail = excerpt(this.#redact(errorDetail(text)), MAX_DETAIL_CHARS) || undefined;
    let retryAfterMs = parseRetryAfter(first(headers['retry-after']));
    if (retryAfterMs === null && statusCode === 429) {
      const reset = Number(first(headers['x-ratelimit-reset']));
      if (Number.isFinite(reset) && reset > 0) retryAfterMs = Math.max(0, reset * 1000 - Date.now());
    }
    const message = `Unpod ${ctx.method} ${ctx.path} failed with ${statusCode}${detail ? `: ${detail}` : ''}`;
    if (statusCode === 429) return new UnpodRateLimitError(message, { ...ctx, detail, retryAfterMs });
    return new UnpodHttpError(message, { ...ctx, statusCode, detail, retryAfterMs });
  }

  #transportError(
    err: unknown,
    ctx: { method: string; path: string },
    callerSignal: AbortSignal | undefined,
    timeoutSignal: AbortSignal,
  ): UnpodError {
    if (isUnpodError(err)) return err;
    if (callerSignal?.aborted) {
      return new UnpodAbortError(`Unpod ${ctx.method} ${ctx.path} aborted by the caller`, {
        ...ctx,
        cause: callerSignal.reason,
      });
    }
    const code = errorCode(err);
    if (
      timeoutSignal.aborted ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT' ||
      code === 'ETIMEDOUT'
    ) {
      return new UnpodTimeoutError(`Unpod ${ctx.method} ${ctx.path} timed out after ${this.#timeoutMs}ms`, {
        ...ctx,
        timeoutMs: this.#timeoutMs,
        cause: err,
      });
    }
    if (code !== undefined && (NETWORK_CODES.has(code) || /^E[A-Z]+$/.test(code))) {
      return new UnpodNetworkError(`Unpod ${ctx.method} ${ctx.path} network error: ${code}`, {
        ...ctx,
        errno: code,
        cause: err,
      });
    }
    const msg = err instanceof Error ? err.message : String(err);
    return new UnpodError(`Unpod ${ctx.method} ${ctx.path} failed: ${this.#redact(msg)}`, {
      ...ctx,
      cause: err,
    });
  }

  #redact(s: string): string {
    return s.split(this.#apiKey).join('[redacted]');
  }
}

const NETWORK_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function first(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** The error's code, looking inside an AggregateError (happy-eyeballs connects fail with one). */
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0]);
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err ? errorCode(cause) : undefined;
}

function buildQuery(q: Record<string, QueryValue> | undefined): string {
  if (!q) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.append(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The API's own error text, from any of the shapes Unpod uses, or the raw body. */
function errorDetail(text: string): string {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const d = parsed.data;
      const err = typeof d.error === 'string' ? { message: d.error } : d.error;
      const parts = [
        typeof d.detail === 'string'
          ? d.detail
          : d.detail === undefined
            ? undefined
            : JSON.stringify(d.detail),
        err?.code,
        err?.message,
        d.message,
        d.errors === undefined || d.errors === null
          ? undefined
          : typeof d.errors === 'string'
            ? d.errors
            : JSON.stringify(d.errors),
      ].filter((s): s is string => typeof s === 'string' && s !== '');
      if (parts.length > 0) return parts.join(': ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim();
}

function excerpt(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
