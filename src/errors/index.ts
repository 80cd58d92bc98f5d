/**
 * One error vocabulary, kept in one table as fastify's `lib/errors.js` keeps its own: every error a user, a
 * client or the environment can cause is an AppError with a stable snake_case `code` from ERROR_CODES, and the
 * table gives the HTTP status where the code has one. The HTTP layer maps `err.code` through this table
 * (src/http/api-context.ts, error-handler.ts), the CLI prints any AppError as one line (src/cli/errors.ts), and
 * /docs/openapi.json lists each status's codes from it (src/http/openapi-parts.ts). Status text comes from
 * node's http.STATUS_CODES. The lowest layer of src/: it imports nothing of the project.
 */
import { STATUS_CODES } from 'node:http';

interface CodeEntry {
  /** The HTTP status an error with this code answers; none: it never reaches a client as itself (500). */
  readonly status?: number;
  readonly description: string;
}

export const ERROR_CODES = {
  // ---- requests (HTTP) ----
  bad_request: { status: 400, description: 'the request cannot be read (fastify refused it)' },
  invalid_body: {
    status: 400,
    description: 'the JSON or form body fails its schema (`issues` names each field)',
  },
  invalid_query: { status: 400, description: 'a query parameter fails its schema' },
  invalid_path: { status: 400, description: 'a path parameter fails its schema' },
  invalid_options: { status: 400, description: 'a run option (timing, window, deadline …) is refused' },
  invalid_json: { status: 400, description: 'the body is not valid JSON' },
  invalid_page_token: { status: 400, description: 'the page token was not issued by this server' },
  invalid_agent_event: { status: 400, description: "an agent push's body is not an agent event" },
  invalid_limits: { status: 400, description: "an account's limits are refused" },
  invalid_dnc: { status: 400, description: 'the do-not-call list cannot be used' },
  no_file: { status: 400, description: 'a multipart upload without its `file` part' },
  no_valid_rows: { status: 400, description: 'no row of the list is a valid contact: nothing was started' },
  callbacks_not_configured: {
    status: 400,
    description: 'a callback_url without CALLBACK_SIGNING_SECRET set',
  },
  source_refused: { status: 400, description: 'the source_url is refused by the outbound-URL guard' },
  source_unreachable: { status: 400, description: 'the source_url could not be fetched' },
  source_unavailable: { status: 400, description: 'the source_url answered with an error status' },
  not_authenticated: { status: 401, description: 'no API token' },
  invalid_token: { status: 401, description: 'the API token is not known' },
  invalid_signature: { status: 401, description: "an agent push's signature is refused" },
  forbidden: { status: 403, description: 'a permission hook denied the request' },
  not_allowed: { status: 403, description: 'the API key may not use this account, pipe or agent' },
  not_found: { status: 404, description: 'no such route or asset' },
  space_not_found: { status: 404, description: 'the space is not the API key’s' },
  run_not_found: { status: 404, description: 'no such run in this space' },
  task_not_found: { status: 404, description: 'no such open task' },
  schedule_not_found: { status: 404, description: 'no such schedule' },
  run_state_conflict: {
    status: 409,
    description: "the run's state does not allow this (e.g. pausing a finished run)",
  },
  schedule_exists: { status: 409, description: 'a schedule with this id exists' },
  payload_too_large: { status: 413, description: 'over the body, part or source size limit' },
  unsupported_media_type: { status: 415, description: 'a content type the route does not read' },
  internal_error: { status: 500, description: 'anything unexpected (logged, never described to the client)' },
  temporal_unavailable: { status: 503, description: 'Temporal could not be reached; retry later' },

  // ---- contact lists (src/contacts) ----
  empty_file: { status: 400, description: 'no bytes, or only blank lines / a BOM' },
  no_data_rows: { status: 400, description: 'a header but not a single data row (or an empty JSON array)' },
  not_csv: { status: 400, description: 'binary content (NUL bytes, a ZIP/XLSX or gzip signature)' },
  not_utf8: { status: 400, description: 'not UTF-8 (e.g. UTF-16, or Latin-1 bytes)' },
  no_phone_column: { status: 400, description: 'no header maps to the phone field' },
  duplicate_column: { status: 400, description: 'two headers map to the same field or metadata key' },
  malformed_csv: {
    status: 400,
    description: 'the CSV cannot be parsed past some point (e.g. an unclosed quote)',
  },
  invalid_do_not_call: { status: 400, description: 'a do-not-call entry is not a phone number' },
  ingest_aborted: { description: 'the consumer stopped reading batches before the end of the list' },

  // ---- runs, policies, schedules (src/campaign, src/schedules) ----
  invalid_policy: { status: 400, description: 'the retry policy fails its schema or bounds' },
  invalid_schedule: { status: 400, description: "a schedule's spec, source or settings are refused" },
  invalid_argument: { status: 400, description: 'a command-line argument or filter value is refused' },

  // ---- the outbound-URL guard (src/net), wrapped as source_* by the HTTP layer ----
  url_invalid: { description: 'the URL cannot be parsed, or is not http(s), or has no host' },
  url_refused: { description: 'credentials in the URL, or an address outside the allowlist' },
  dns_failed: { description: 'the host name has no address' },
  unreachable: { description: 'the connection failed' },
  timeout: { description: 'no complete answer within the deadline' },
  too_large: { description: 'the body is larger than the limit' },
  redirect_refused: { description: 'a redirect to another origin, or too many' },

  // ---- the process ----
  invalid_config: { description: 'an environment variable is refused (each one named)' },
  exposed_without_keys: { description: 'the HTTP server would listen beyond loopback without API keys' },
  temporal_unreachable: { status: 503, description: 'Temporal does not answer at the address named' },
} as const satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose table status is S (BadRequestError takes only those with 400, …). */
export type CodeWithStatus<S extends number> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K] extends { status: S } ? K : never;
}[ErrorCode];

export interface AppErrorOptions {
  /** Client-safe fields shown beside code and message (zod issues, a line, the run's state). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The base of every error of this project's vocabulary. */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'AppError';
  readonly details: Record<string, unknown> | undefined;
  constructor(
    readonly code: C,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }

  /** The HTTP status of this error's code, if it has one. */
  get status(): number | undefined {
    return statusOf(this.code);
  }
}

export function statusOf(code: ErrorCode): number | undefined {
  return (ERROR_CODES[code] as CodeEntry).status;
}

/** `Not Found` for 404: node's http.STATUS_CODES. */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** The codes that answer with `status`, in table order (the OpenAPI document lists them). */
export function codesWithStatus(status: number): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => statusOf(c) === status);
}
