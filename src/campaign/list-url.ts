/**
 * A contact list (or a do-not-call list) at a URL: one fetch for every caller. POST …/runs/ and its preview spool
 * the body (src/http/source-url.ts), a schedule's firing streams it (activities/sources.ts); all go through the
 * outbound-URL guard (src/net/outbound-url.ts: no internal addresses unless allowlisted, the checked address
 * pinned, one deadline, a size cap). Its errors are in the vocabulary (src/errors) and say whether a retry may
 * help; they never quote what the source sent.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../errors';
import { describeUrl, fetchOutbound, OutboundUrlError, type OutboundOptions } from '../net/outbound-url';

export type ListUrlErrorCode =
  'source_refused' | 'source_unreachable' | 'source_unavailable' | 'payload_too_large';

export class ListUrlError extends AppError<ListUrlErrorCode> {
  override readonly name = 'ListUrlError';
  constructor(
    code: ListUrlErrorCode,
    message: string,
    /** Whether the same fetch may succeed later (a timeout, a 5xx, a 429), or never will (a refusal, a 4xx). */
    readonly retryable: boolean,
    details?: Record<string, unknown>,
  ) {
    super(code, message, { details });
  }
}

export interface FetchListOptions {
  outbound?: OutboundOptions;
  /** The body's size cap, bytes (a larger one fails its stream with payload_too_large). */
  maxBytes?: number;
  signal?: AbortSignal;
  /** How messages name the URL (`source_url` over the API); default: the URL without its query. */
  label?: string;
}

/** The guard's refusal or failure in the vocabulary; `label` names the URL in the message. */
export function listUrlError(
  err: OutboundUrlError,
  o: { label?: string; maxBytes?: number } = {},
): ListUrlError {
  const message = o.label ? `${o.label}: ${err.message}` : err.message;
  if (err.code === 'too_large')
    return new ListUrlError('payload_too_large', err.message, false, {
      ...(o.maxBytes !== undefined ? { limit_bytes: o.maxBytes } : {}),
    });
  const refused = err.code === 'url_refused' || err.code === 'redirect_refused' || err.code === 'url_invalid';
  return new ListUrlError(refused ? 'source_refused' : 'source_unreachable', message, err.retryable, {
    reason: err.code,
  });
}

/** GETs `url` through the guard; resolves with the body of a 2xx answer, else a ListUrlError. */
export async function fetchList(url: string, o: FetchListOptions = {}): Promise<Readable> {
  let res;
  try {
    res = await fetchOutbound(
      url,
      { method: 'GET', signal: o.signal },
      { ...o.outbound, ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}) },
    );
  } catch (err) {
    if (err instanceof OutboundUrlError) throw listUrlError(err, o);
    throw err;
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    res.body.destroy();
    const retryable = res.statusCode >= 500 || res.statusCode === 429;
    throw new ListUrlError(
      'source_unavailable',
      `${o.label ?? describeUrl(url)} answered HTTP ${res.statusCode}`,
      retryable,
    );
  }
  return res.body;
}
