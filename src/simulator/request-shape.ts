/**
 * The shape of a recorded request, independent of ids, keys and values: what test/sdk-compat.test.ts records from
 * Unpod's own SDK into test/fixtures/unpod-sdk-0.5.0-requests.json, so that a test without Python can hold our
 * client's requests (`recordRequests: true`, `requests()`) against the SDK's.
 */
import type { RecordedRequest } from './types';

export interface RequestShape {
  method: string;
  /** Call and pipe ids replaced by {id}. */
  path: string;
  /** Query parameter names, sorted. */
  query: string[];
  /** The Authorization scheme word (Bearer, Token, JWT). */
  auth: string;
  /** Request headers beyond the transport's own (host, accept, user-agent, …), sorted. */
  headers: string[];
  /** Field names of the JSON body, sorted; null without a body. */
  body: string[] | null;
}

const TRANSPORT_HEADERS = new Set([
  'host',
  'accept',
  'accept-encoding',
  'connection',
  'user-agent',
  'content-length',
]);

export function requestShape(r: RecordedRequest): RequestShape {
  return {
    method: r.method,
    path: r.path.replace(/\/(calls|pipes)\/[^/]+/, '/$1/{id}'),
    query: Object.keys(r.query).sort(),
    auth: (r.headers.authorization ?? '').split(' ')[0] ?? '',
    headers: Object.keys(r.headers)
      .filter((h) => !TRANSPORT_HEADERS.has(h))
      .sort(),
    body:
      r.body !== null && typeof r.body === 'object' && !Array.isArray(r.body)
        ? Object.keys(r.body as Record<string, unknown>).sort()
        : null,
  };
}

/** Distinct shapes, in first-seen order. */
export function distinctShapes(shapes: RequestShape[]): RequestShape[] {
  const seen = new Set<string>();
  return shapes.filter((s) => {
    const k = JSON.stringify(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
