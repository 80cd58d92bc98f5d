/**
 * The console's only way to the server: the documented /api/v2 routes, with the API key the user signed in
 * with. The key lives in this tab's sessionStorage (gone when the tab closes), goes in the Authorization header
 * and nowhere else: never in a URL, never logged.
 */

import type { z } from 'zod';
import type { countsSchema, V2Run, V2Task } from '../../src/campaign/run-view-schemas';
import type {
  feedSampleSchema,
  limitsViewSchema,
  plannedContactSchema,
  previewSchema,
  scheduleSummarySchema,
  scheduleViewSchema,
} from '../../src/http/api-console-schemas';

const KEY = 'unpod-console.key';
const SPACE = 'unpod-console.space';

export interface Session {
  key: string;
  space: string;
}

export function loadSession(): Session | null {
  const key = sessionStorage.getItem(KEY);
  const space = sessionStorage.getItem(SPACE);
  return key && space ? { key, space } : null;
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, s.key);
  sessionStorage.setItem(SPACE, s.space);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(SPACE);
}

/** An API answer that is not 2xx, with the server's words and a sentence for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function explain(err: unknown, space?: string): string {
  if (err instanceof ApiError) {
    if (err.status === 401 && err.code === 'not_authenticated') return 'Enter an API key to sign in.';
    if (err.status === 401)
      return 'That API key was not accepted. Check that it is complete and still valid (keys are given per space).';
    if (err.status === 404 && err.code === 'space_not_found')
      return `That key is valid, but not for space “${space ?? ''}”. Enter the space the key was made for.`;
    if (err.status === 403) return 'This key may not do that (permission denied).';
    return err.message;
  }
  if (err instanceof TypeError) return 'The server cannot be reached. Is it running?';
  return (err as Error).message ?? String(err);
}

export interface Envelope<T> {
  count: number;
  status_code: number;
  message: string;
  data: T;
  next_page_token?: string | null;
  x_validation?: unknown;
}

let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

function base(s: Session): string {
  return `/api/v2/platform/spaces/${encodeURIComponent(s.space)}`;
}

async function toError(res: Response): Promise<ApiError> {
  let body: { errors?: string; message?: string; x_campaign?: Record<string, unknown> } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON
  }
  const details = body.x_campaign ?? {};
  return new ApiError(
    res.status,
    String(details.code ?? 'error'),
    body.errors ?? body.message ?? `HTTP ${res.status}`,
    details,
  );
}

export async function request<T>(
  s: Session,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<Envelope<T>> {
  const headers: Record<string, string> = { authorization: `Token ${s.key}`, accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(base(s) + path, { method, headers, body: payload, signal });
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401) onUnauthorized();
    throw err;
  }
  return (await res.json()) as Envelope<T>;
}

/** Checks a key and space before keeping them. */
export async function signIn(s: Session): Promise<void> {
  await request(s, 'GET', '/runs/?page_size=1');
}

/** Downloads an export with the key in a header (a plain link could not carry it). */
export async function download(s: Session, path: string, filename: string): Promise<void> {
  const res = await fetch(base(s) + path, { headers: { authorization: `Token ${s.key}` } });
  if (!res.ok) throw await toError(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Reads the run's server-sent events through fetch (EventSource cannot send the key in a header). Calls
 * `onSample` per sample; resolves when the stream ends (the run ended) or `signal` aborts.
 */
export async function streamFeed<T>(
  s: Session,
  runId: string,
  onSample: (sample: T) => void,
  signal: AbortSignal,
  intervalMs = 2000,
): Promise<void> {
  const res = await fetch(`${base(s)}/runs/${runId}/feed/?interval_ms=${intervalMs}`, {
    headers: { authorization: `Token ${s.key}`, accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok || !res.body) throw await toError(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'sample' && data) onSample(JSON.parse(data) as T);
      if (event === 'end') return;
    }
  }
}

// ---------- shapes the console reads: the server's own schemas (types only: nothing of them is bundled) ----------

export type Counts = z.output<typeof countsSchema>;
/** A run as the API answers it; a server in front of ours may name its pause reason otherwise. */
export type Run = V2Run & { x_campaign: { pause_reason?: string | null; status_reason?: string | null } };
export type Task = V2Task;
export type Attempt = Task['x_campaign']['attempt_history'][number];
export type FeedSample = z.output<typeof feedSampleSchema>;
export type PlannedContact = z.output<typeof plannedContactSchema>;
export type Preview = z.output<typeof previewSchema>;
export type LimitsView = z.output<typeof limitsViewSchema>;
export type ScheduleSummary = z.output<typeof scheduleSummarySchema>;
export type ScheduleView = z.output<typeof scheduleViewSchema>;
