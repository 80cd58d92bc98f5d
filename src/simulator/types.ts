/** Public option and ledger types of the Unpod simulator. */
import type { CallStatus } from '../unpod/end-reasons';

export interface SimulatorAccount {
  apiKey: string;
  accountId: string;
  callsPerMinute?: number;
  tasksPerDay?: number;
  concurrency?: number;
  /** IANA zone for the tasks/day midnight; default UTC. */
  timezone?: string;
}

export interface ScriptStep {
  /** null = stuck: rings, goes active and never ends until hung up. */
  endReason: string | null;
  /** Simulated ring time in ms (scaled by speed). */
  ringMs?: number;
  /** Simulated talk time in ms (scaled by speed). */
  talkMs?: number;
  /** 'drop' = no webhook is ever sent for this call. Default 'send'. */
  webhook?: 'send' | 'drop';
}

export interface WebhookFaults {
  lossRate?: number;
  duplicateRate?: number;
  /** Real milliseconds [min, max] added before delivery. */
  delayMs?: [number, number];
  /** Shuffle delivery order within a short window. */
  reorder?: boolean;
}

export interface ApiFaults {
  errorRate?: number;
  timeoutRate?: number;
  timeoutMs?: number;
  /** URL prefixes faults apply to; default all except /_sim. */
  paths?: string[];
}

export type OutcomeMode = 'scripted' | { mix: Record<string, number> };

export interface SimulatorOptions {
  host?: string;
  port?: number;
  speed?: number;
  accounts?: SimulatorAccount[];
  webhookUrl?: string;
  webhookSecret?: string;
  webhookFaults?: WebhookFaults;
  faults?: ApiFaults;
  outcomes?: OutcomeMode;
  scripts?: Record<string, ScriptStep[]>;
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
  to_number: string;
  idempotency_key: string | null;
  task_workflow_id: string | null;
  attempt: number | null;
  created_at: string;
  status: CallStatus;
  end_reason: string | null;
}

export type ViolationKind = 'calls_per_minute' | 'tasks_per_day' | 'concurrency';

export interface LedgerViolation {
  kind: ViolationKind;
  account_id: string;
  at: string;
  detail: string;
}

export interface LedgerDuplicate {
  task_workflow_id: string;
  attempt: number | null;
  call_ids: string[];
}

export interface LedgerCounts {
  dials: number;
  violations: number;
  /** Webhook deliveries answered 2xx (each copy of a duplicate counts). */
  webhooks_sent: number;
  /** Events never delivered on purpose: loss rate or a number's 'drop' rule. */
  webhooks_dropped: number;
  webhooks_duplicated: number;
  /** Deliveries given up after retries (receiver down or non-2xx). */
  webhooks_failed: number;
  faults_injected: number;
}

export interface Ledger {
  dials: LedgerDial[];
  duplicates: LedgerDuplicate[];
  violations: LedgerViolation[];
  counts: LedgerCounts;
}

export interface RunningSimulator {
  url: string;
  close(): Promise<void>;
  ledger(): Ledger;
  setFaults(f: SimulatorOptions['faults']): void;
  setWebhookFaults(f: SimulatorOptions['webhookFaults']): void;
  setWebhookUrl(url: string | undefined): void;
  setLimits(accountId: string, l: AccountLimits): void;
  script(number: string, steps: ScriptStep[]): void;
  reset(): void;
}
