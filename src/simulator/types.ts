/** Public option and ledger types of the Unpod simulator. */

export interface SimulatorAccount {
  apiKey: string;
  accountId: string;
  /**
   * When set, `Token <key>` and `JWT <key>` requests must carry `Org-Handle: <orgHandle>` (the platform proxy,
   * unpod 0.5.0 `management/_auth.py`); `Bearer <key>` (direct mode) never needs it.
   */
  orgHandle?: string;
  callsPerMinute?: number;
  tasksPerDay?: number;
  concurrency?: number;
  /** IANA zone for the tasks/day midnight; default UTC. */
  timezone?: string;
}

export interface ScriptStep {
  /** null = stuck: rings, goes active and never ends until hung up (not even at the pipe's max duration). */
  endReason: string | null;
  /** Simulated ring time in ms (scaled by speed). */
  ringMs?: number;
  /** Simulated talk time in ms (scaled by speed). */
  talkMs?: number;
  /** 'drop' = the AgentRunner push (when on) is never sent for this call. Default 'send'. */
  push?: 'send' | 'drop';
}

export interface ApiFaults {
  /** Answer 503 before anything happens. */
  errorRate?: number;
  /** Hold the request timeoutMs, then answer 504; nothing happens. */
  timeoutRate?: number;
  timeoutMs?: number;
  /**
   * Creates only: the call IS placed (in the ledger, it rings and ends), then the connection is destroyed
   * without an answer.
   */
  lostAnswerRate?: number;
  /**
   * Creates only: the request is held slowCreateMs (real ms), then the call is placed and answered — placed even
   * if the client has gone.
   */
  slowCreateRate?: number;
  slowCreateMs?: number;
  /** URL path prefixes faults apply to; default all except /_sim. */
  paths?: string[];
  /** HTTP methods errorRate/timeoutRate apply to (e.g. ['POST']); default all. */
  methods?: string[];
}

/**
 * Account-wide failures (REAL-API.md, "Preconditions and errors seen in the SDK's recorded live run"), each until
 * cleared: `no_from_number` / `playbook_not_published` → 400 `{"detail": kind}` on creates; `no_worker_available`
 * → 503 `{"detail": "no_worker_available"}` on creates, nothing placed; `number_in_use` → 409
 * `{"detail": "number_in_use"}` on creates; `unauthorized` → 401 `{"detail"}` on every API request of the account.
 */
export const ACCOUNT_FAILURES = [
  'no_from_number',
  'playbook_not_published',
  'no_worker_available',
  'unauthorized',
  'number_in_use',
] as const;
export type AccountFailure = (typeof ACCOUNT_FAILURES)[number];

export type OutcomeMode = 'scripted' | { mix: Record<string, number> };

/**
 * 'new' (unpod 0.5.0 `models/call.py`): pending → dispatching → ringing → active → connected | notConnected |
 * failed. 'old' ("older servers"): pending → ringing → active → completed | not_connected | failed.
 */
export type StatusVocabulary = 'new' | 'old';

export interface SimPipe {
  pipeId: string;
  name?: string;
  agentId?: string | null;
  /** E.164 of the attached number; null = none attached (creates need from_number, else 400 no_from_number). */
  number?: string | null;
  numberId?: string | null;
  /** Unpod's own cap per call (default 3600 s, simulated): talk beyond it ends MAX_DURATION_REACHED. */
  maxCallDurationS?: number;
  status?: string;
}

export interface AgentPushOptions {
  /** Where the AgentRunner's `call_end` hook posts (our engine's push endpoint). */
  url: string;
  secret: string;
  /** Share of pushes never sent (0..1). */
  lossRate?: number;
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  speed?: number;
  accounts?: SimulatorAccount[];
  /**
   * The pipes that exist. Unset: any pipe id (and any agent id) resolves to a pipe made on first use, with a
   * number attached. Set: only these; other ids answer 404.
   */
  pipes?: SimPipe[];
  statusVocabulary?: StatusVocabulary;
  /** Honour `Idempotency-Key` on creates (replay / 422). Default false: Unpod documents none. */
  idempotency?: boolean;
  /** The answer to POST …/hangup: the call (default) or an empty 200 body (the SDK handles both). */
  hangupAnswer?: 'call' | 'empty';
  /** The AgentRunner push on each call's end; off by default. */
  agentPush?: AgentPushOptions;
  faults?: ApiFaults;
  accountFailures?: Record<string, AccountFailure>;
  outcomes?: OutcomeMode;
  scripts?: Record<string, ScriptStep[]>;
  /** Keep every API request that reached a route (method, path, query, headers, body): `requests()`. */
  recordRequests?: boolean;
  seed?: number;
  rateWindowMs?: number;
  dayMs?: number;
  logger?: boolean;
}

export interface AccountLimits {
  callsPerMinute?: number;
  tasksPerDay?: number;
  concurrency?: number;
}

export interface LedgerDial {
  call_id: string;
  account_id: string;
  pipe_id: string;
  to_number: string;
  from_number: string;
  /** The header as sent (recorded even when not honoured). */
  idempotency_key: string | null;
  /** `data.campaign_task_id` (DATA_TASK_ID) of the create. */
  task_workflow_id: string | null;
  /** `data.campaign_attempt` (DATA_ATTEMPT) if a positive integer. */
  attempt: number | null;
  created_at: string;
  /** Unpod's status word, in the configured vocabulary. */
  status: string;
  end_reason: string | null;
  /** When the call ended (null: still live). From created_at to here the call is in Unpod's hands. */
  ended_at: string | null;
}

export type ViolationKind = 'calls_per_minute' | 'tasks_per_day' | 'concurrency';

export interface LedgerViolation {
  kind: ViolationKind;
  account_id: string;
  at: string;
  detail: string;
}

/** Two or more calls placed for the same task and attempt: a double dial. */
export interface LedgerDuplicate {
  task_workflow_id: string;
  attempt: number | null;
  call_ids: string[];
}

export interface LedgerCounts {
  dials: number;
  violations: number;
  /** 503s and 504s injected (nothing happened). */
  faults_injected: number;
  /** Creates placed whose answer was destroyed. */
  answers_lost: number;
  /** Creates held slowCreateMs before they were placed. */
  creates_slowed: number;
  /** Requests refused by an account-wide failure. */
  account_failures: number;
  /** AgentRunner pushes answered 2xx. */
  pushes_sent: number;
  /** Pushes never sent on purpose: lossRate or a step's 'drop'. */
  pushes_dropped: number;
  /** Pushes that failed twice (receiver down or non-2xx). */
  pushes_failed: number;
}

export interface Ledger {
  dials: LedgerDial[];
  duplicates: LedgerDuplicate[];
  violations: LedgerViolation[];
  counts: LedgerCounts;
}

/** An API request as the simulator received it (header names lower-case). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

export interface RunningSimulator {
  url: string;
  /** The API requests received so far (with `recordRequests: true`; else []), oldest first; not /_sim. */
  requests(): RecordedRequest[];
  close(): Promise<void>;
  ledger(): Ledger;
  setFaults(f: SimulatorOptions['faults']): void;
  setLimits(accountId: string, l: AccountLimits): void;
  /** An account-wide failure until cleared with null. */
  setAccountFailure(accountId: string, kind: AccountFailure | null): void;
  /** Turn the AgentRunner push on (or off with undefined), e.g. once the receiver's port is known. */
  setAgentPush(p: AgentPushOptions | undefined): void;
  /** Add or replace a pipe (without `pipes` in the options, unknown ids still get a pipe made on first use). */
  setPipe(p: SimPipe): void;
  script(number: string, steps: ScriptStep[]): void;
  reset(): void;
}
