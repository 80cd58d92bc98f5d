/**
 * One error vocabulary, kept in one table as fastify's `lib/errors.js` keeps its own: every error a user, a
 * client or the environment can cause is an AppError with a stable snake_case `code` from ERROR_CODES, and the
 * table gives the HTTP status where the code has one. The HTTP layer maps `err.code` through this table
 * (src/http/api-context.ts, error-handler.ts), the CLI prints any AppError as one line (src/cli/errors.ts), and
 * /docs/openapi.json lists each status's codes from it (src/http/openapi-parts.ts). Status text comes from
 * node's http.STATUS_CODES. The lowest layer of src/: it imports nothing of the project.
 */
import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';

interface CodeEntry {
  /** The HTTP status an error with this code answers; none: it never reaches a client as itself (500). */
  readonly status?: number;
  readonly description: string;
}

/**
 * Every code, under the HTTP status it answers (`none`: it never reaches a client as itself, so a 500), with
 * what it means. A code's concern is said where the group changes.
 */
const CODES_BY_STATUS = {
  400: {
    // requests (HTTP)
    bad_request: 'the request cannot be read (fastify refused it)',
    invalid_body: 'the JSON or form body fails its schema (`issues` names each field)',
    invalid_query: 'a query parameter fails its schema',
    invalid_path: 'a path parameter fails its schema',
    invalid_options: 'a run option (timing, window, deadline …) is refused',
    invalid_json: 'the body is not valid JSON',
    invalid_page_token: 'the page token was not issued by this server',
    invalid_agent_event: "an agent push's body is not an agent event",
    invalid_limits: "an account's limits are refused",
    invalid_dnc: 'the do-not-call list cannot be used',
    no_file: 'a multipart upload without its `file` part',
    no_valid_rows: 'no row of the list is a valid contact: nothing was started',
    callbacks_not_configured: 'a callback_url without CALLBACK_SIGNING_SECRET set',
    source_refused: 'the source_url is refused by the outbound-URL guard',
    source_unreachable: 'the source_url could not be fetched',
    source_unavailable: 'the source_url answered with an error status',
    // contact lists (src/contacts)
    empty_file: 'no bytes, or only blank lines / a BOM',
    no_data_rows: 'a header but not a single data row (or an empty JSON array)',
    not_csv: 'binary content (NUL bytes, a ZIP/XLSX or gzip signature)',
    not_utf8: 'not UTF-8 (e.g. UTF-16, or Latin-1 bytes)',
    no_phone_column: 'no header maps to the phone field',
    duplicate_column: 'two headers map to the same field or metadata key',
    malformed_csv: 'the CSV cannot be parsed past some point (e.g. an unclosed quote)',
    invalid_do_not_call: 'a do-not-call entry is not a phone number',
    // runs, policies, schedules (src/campaign, src/schedules)
    invalid_policy: 'the retry policy fails its schema or bounds',
    invalid_schedule: "a schedule's spec, source or settings are refused",
    invalid_argument: 'a command-line argument or filter value is refused',
  },
  401: {
    not_authenticated: 'no API token',
    invalid_token: 'the API token is not known',
    invalid_signature: "an agent push's signature is refused",
  },
  403: {
    forbidden: 'a permission hook denied the request',
    not_allowed: 'the API key may not use this account, pipe or agent',
  },
  404: {
    not_found: 'no such route or asset',
    space_not_found: 'the space is not the API key’s',
    run_not_found: 'no such run in this space',
    task_not_found: 'no such open task',
    schedule_not_found: 'no such schedule',
  },
  409: {
    run_state_conflict: "the run's state does not allow this (e.g. pausing a finished run)",
    schedule_exists: 'a schedule with this id exists',
  },
  413: {
    payload_too_large: 'over the body, part or source size limit',
  },
  415: {
    unsupported_media_type: 'a content type the route does not read',
  },
  500: {
    internal_error: 'anything unexpected (logged, never described to the client)',
  },
  503: {
    // requests (HTTP)
    temporal_unavailable: 'Temporal could not be reached; retry later',
    // the process
    temporal_unreachable: 'Temporal does not answer at the address named',
  },
  none: {
    // contact lists (src/contacts)
    ingest_aborted: 'the consumer stopped reading batches before the end of the list',
    // the outbound-URL guard (src/net), wrapped as source_* by the HTTP layer
    url_invalid: 'the URL cannot be parsed, or is not http(s), or has no host',
    url_refused: 'credentials in the URL, or an address outside the allowlist',
    dns_failed: 'the host name has no address',
    unreachable: 'the connection failed',
    timeout: 'no complete answer within the deadline',
    too_large: 'the body is larger than the limit',
    redirect_refused: 'a redirect to another origin, or too many',
    // the process
    invalid_config: 'an environment variable is refused (each one named)',
    exposed_without_keys: 'the HTTP server would listen beyond loopback without API keys',
  },
} as const;

type ByStatus = typeof CODES_BY_STATUS;
export type ErrorCode = { [S in keyof ByStatus]: Extract<keyof ByStatus[S], string> }[keyof ByStatus];

/** The codes whose status is S (BadRequestError takes only those with 400, …). */
export type CodeWithStatus<S extends number> = S extends keyof ByStatus
  ? Extract<ErrorCode, keyof ByStatus[S]>
  : never;

/** The table by code: the status it answers (none for `none`) and its description. */
export const ERROR_CODES = Object.fromEntries(
  Object.entries(CODES_BY_STATUS).flatMap(([status, codes]) =>
    Object.entries(codes).map(([code, description]) => [
      code,
      status === 'none' ? { description } : { status: Number(status), description },
    ]),
  ),
) as Record<ErrorCode, CodeEntry>;

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
  return ERROR_CODES[code].status;
}

/** `Not Found` for 404: node's http.STATUS_CODES. */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** The codes that answer with `status`, in table order (the OpenAPI document lists them). */
export function codesWithStatus(status: number): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => statusOf(c) === status);
}

/** One issue of a zod error, client-safe: the dotted path ('' for the root) and zod's message. */
export interface Issue {
  path: string;
  message: string;
}

/** A zod error's issues, as an error's details carry them. */
export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/**
 * Issues as text, `field: what is wrong` each, one line by default (`; ` between them). Not z.prettifyError:
 * its two lines an issue (✖ message, → at field) would change every message users and tests read.
 */
export function issuesText(issues: Issue[], separator = '; '): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join(separator);
}
