/**
 * The typed Unpod API client: one pooled undici dispatcher, every response parsed with the zod schemas in
 * schemas.ts, every failure an UnpodError with a stable code and a `retryable` verdict.
 *
 * There is deliberately no retry loop here: Temporal's activity retries are the one retry layer, and they read
 * `retryable` / `retryAfterMs` off the error. The API key lives only in the request headers built per call; it
 * is never put on an error, and any echo of it in a response body is redacted before it reaches one.
 */
import { Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { CallStatus } from './end-reasons';
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
import { IDEMPOTENCY_HEADER, unpodPaths } from './paths';
import {
  agentListSchema,
  callListSchema,
  callLogListSchema,
  callSchema,
  errorBodySchema,
  sessionListSchema,
  sessionSchema,
  spaceListSchema,
  taskSchema,
  v1RunListSchema,
  v2EnvelopeSchema,
  v2ErrorSchema,
  v2RunSchema,
  v2RunTaskSchema,
  type Call,
  type CreateCallRequest,
  type CreateTaskRequest,
} from './schemas';

export interface UnpodClientOptions {
  /** e.g. https://api.unpod.ai or http://127.0.0.1:4010 (a path prefix is kept). */
  baseUrl: string;
  apiKey: string;
  /** Per-request deadline covering connect, headers and body. Default 10_000. */
  timeoutMs?: number;
  /** undici Pool size (connections to the origin). Default 32. Ignored when `dispatcher` is given. */
  connections?: number;
  /** Injected dispatcher (Agent, MockAgent, a shared Pool…). The client does not close one it did not create. */
  dispatcher?: Dispatcher;
}

export interface RequestOptions {
  signal?: AbortSignal;
}
export interface CreateOptions extends RequestOptions {
  /** Sent as the Idempotency-Key header: the same key never places a second call. */
  idempotencyKey?: string;
}

export type CallList = z.infer<typeof callListSchema>;
export type Session = z.infer<typeof sessionSchema>;
export type SessionList = z.infer<typeof sessionListSchema>;
export type SpaceList = z.infer<typeof spaceListSchema>;
export type AgentList = z.infer<typeof agentListSchema>;
export type Task = z.infer<typeof taskSchema>;
export type V1RunList = z.infer<typeof v1RunListSchema>;
export type CallLogList = z.infer<typeof callLogListSchema>;
export type V2Run = z.infer<typeof v2RunSchema>;
export type V2RunTask = z.infer<typeof v2RunTaskSchema>;
export interface V2Envelope<T> {
  count: number;
  status_code: number;
  message: string;
  data: T[];
}

export interface CallListQuery {
  status?: CallStatus;
  limit?: number;
  offset?: number;
}
export interface SessionListQuery {
  call_id?: string;
  limit?: number;
  offset?: number;
}
export interface V2Query {
  page?: number;
  page_size?: number;
  status?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECTIONS = 32;

const v2RunEnvelopeSchema = v2EnvelopeSchema(v2RunSchema);
const v2RunTaskEnvelopeSchema = v2EnvelopeSchema(v2RunTaskSchema);

type QueryValue = string | number | undefined;

interface SendOptions<S extends z.ZodTypeAny> {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue> | undefined;
  body?: unknown;
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
  schema: S;
}

export class UnpodClient {
  readonly calls: {
    create(req: CreateCallRequest, opts?: CreateOptions): Promise<Call>;
    get(callId: string, opts?: RequestOptions): Promise<Call>;
    list(q?: CallListQuery, opts?: RequestOptions): Promise<CallList>;
    hangup(callId: string, opts?: RequestOptions): Promise<Call>;
  };
  readonly sessions: {
    list(q?: SessionListQuery, opts?: RequestOptions): Promise<SessionList>;
    get(sessionId: string, opts?: RequestOptions): Promise<Session>;
  };
  readonly spaces: { list(opts?: RequestOptions): Promise<SpaceList> };
  readonly agents: { list(spaceToken: string, opts?: RequestOptions): Promise<AgentList> };
  readonly tasks: { create(req: CreateTaskRequest, opts?: CreateOptions): Promise<Task> };
  readonly runs: { list(q: { task_id?: string }, opts?: RequestOptions): Promise<V1RunList> };
  readonly callLogs: { list(q: { space_token: string }, opts?: RequestOptions): Promise<CallLogList> };
  readonly v2: {
    runs(spaceToken: string, q?: V2Query, opts?: RequestOptions): Promise<V2Envelope<V2Run>>;
    runTasks(
      spaceToken: string,
      runId: string,
      q?: V2Query,
      opts?: RequestOptions,
    ): Promise<V2Envelope<V2RunTask>>;
  };

  readonly #origin: string;
  readonly #basePath: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

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

    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#apiKey = opts.apiKey;
    this.#timeoutMs = timeoutMs;
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
        }),
      get: (callId, o) =>
        this.#send({ method: 'GET', path: unpodPaths.call(callId), signal: o?.signal, schema: callSchema }),
      list: (q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.calls(),
          query: { ...q },
          signal: o?.signal,
          schema: callListSchema,
        }),
      hangup: (callId, o) =>
        this.#send({
          method: 'POST',
          path: unpodPaths.callHangup(callId),
          body: {},
          signal: o?.signal,
          schema: callSchema,
        }),
    };
    this.sessions = {
      list: (q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.sessions(),
          query: { ...q },
          signal: o?.signal,
          schema: sessionListSchema,
        }),
      get: (sessionId, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.session(sessionId),
          signal: o?.signal,
          schema: sessionSchema,
        }),
    };
    this.spaces = {
      list: (o) =>
        this.#send({ method: 'GET', path: unpodPaths.spaces(), signal: o?.signal, schema: spaceListSchema }),
    };
    this.agents = {
      list: (spaceToken, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.agents(),
          query: { space_token: spaceToken },
          signal: o?.signal,
          schema: agentListSchema,
        }),
    };
    this.tasks = {
      create: (req, o) =>
        this.#send({
          method: 'POST',
          path: unpodPaths.tasks(),
          body: req,
          idempotencyKey: o?.idempotencyKey,
          signal: o?.signal,
          schema: taskSchema,
        }),
    };
    this.runs = {
      list: (q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.runs(),
          query: { ...q },
          signal: o?.signal,
          schema: v1RunListSchema,
        }),
    };
    this.callLogs = {
      list: (q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.callLogs(),
          query: { ...q },
          signal: o?.signal,
          schema: callLogListSchema,
        }),
    };
    this.v2 = {
      runs: (spaceToken, q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.v2Runs(spaceToken),
          query: { ...q },
          signal: o?.signal,
          schema: v2RunEnvelopeSchema,
        }),
      runTasks: (spaceToken, runId, q, o) =>
        this.#send({
          method: 'GET',
          path: unpodPaths.v2RunTasks(spaceToken, runId),
          query: { ...q },
          signal: o?.signal,
          schema: v2RunTaskEnvelopeSchema,
        }),
    };
  }

  /** Closes the pool this client created (waits for requests in flight). An injected dispatcher is left open. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #send<S extends z.ZodTypeAny>(o: SendOptions<S>): Promise<z.infer<S>> {
    const path = this.#basePath + o.path + buildQuery(o.query);
    const isV2 = o.path.startsWith('/api/v2/');
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `${isV2 ? 'Token' : 'Bearer'} ${this.#apiKey}`,
    };
    let body: string | undefined;
    if (o.body !== undefined) body = JSON.stringify(o.body);
    // The v2 docs list Content-Type as required even on GET.
    if (body !== undefined || isV2) headers['content-type'] = 'application/json';
    if (o.idempotencyKey !== undefined) headers[IDEMPOTENCY_HEADER] = o.idempotencyKey;

    const ctx = { method: o.method, path };
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

    if (statusCode < 200 || statusCode > 299) {
      throw this.#httpError(statusCode, responseHeaders, text, ctx, o.idempotencyKey !== undefined);
    }

    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new UnpodResponseError(
        `Unpod ${ctx.method} ${ctx.path} answered ${statusCode} with a body that is not JSON: ${excerpt(this.#redact(text), 80)}`,
        { ...ctx, statusCode, field: '', cause: err },
      );
    }

    // v2 signals business-logic failures with 206 and `{ message, errors }` instead of the envelope.
    if (isV2 && statusCode === 206) {
      const e = v2ErrorSchema.safeParse(json);
      const detail = e.success
        ? joinDetail(e.data.message, e.data.errors)
        : excerpt(this.#redact(text), MAX_DETAIL_CHARS);
      throw new UnpodHttpError(`Unpod ${ctx.method} ${ctx.path} failed (206): ${this.#redact(detail)}`, {
        ...ctx,
        statusCode,
        detail: excerpt(this.#redact(detail), MAX_DETAIL_CHARS),
      });
    }

    const parsed = o.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 10)
        .map((i) => ({ path: formatPath(i.path), message: i.message }));
      const first = issues[0] ?? { path: '', message: 'invalid' };
      const where = first.path === '' ? 'the body' : `"${first.path}"`;
      throw new UnpodResponseError(
        `Unpod ${ctx.method} ${ctx.path} answered ${statusCode} with an unexpected body: ${where}: ${first.message}`,
        { ...ctx, statusCode, field: first.path, issues },
      );
    }
    return parsed.data as z.infer<S>;
  }

  #httpError(
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
    ctx: { method: string; path: string },
    idempotent: boolean,
  ): UnpodHttpError {
    const detail = excerpt(this.#redact(errorDetail(text)), MAX_DETAIL_CHARS) || undefined;
    const retryAfter = headers['retry-after'];
    const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    const message = `Unpod ${ctx.method} ${ctx.path} failed with ${statusCode}${detail ? `: ${detail}` : ''}`;
    if (statusCode === 429)
      return new UnpodRateLimitError(message, { ...ctx, detail, retryAfterMs, idempotent });
    return new UnpodHttpError(message, { ...ctx, statusCode, detail, retryAfterMs, idempotent });
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
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.append(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The API's own error text: `detail`, `message`, `errors`, or the raw body. */
function errorDetail(text: string): string {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const d = parsed.data;
      const head = d.detail ?? d.message;
      if (head !== undefined || d.errors !== undefined) return joinDetail(head, d.errors);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim();
}

function joinDetail(head: string | undefined, errors: unknown): string {
  const tail =
    errors === undefined || errors === null
      ? ''
      : typeof errors === 'string'
        ? errors
        : JSON.stringify(errors);
  return [head, tail].filter((s) => s).join(': ');
}

function excerpt(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join('.');
}
