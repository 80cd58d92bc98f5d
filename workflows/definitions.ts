/**
 * Messages of every workflow (signals, queries, updates) and the types they carry. The CLI, the HTTP server
 * and the worker import these without importing workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Contact, SkippedContact } from '../src/contacts/contact';
import type { CampaignPolicy } from './policy';
import type { Limits, LimiterState } from './limiter-core';
import type { ShareState } from './account-shares';
import type { PermitPool } from './permits';
import type { CallingWindow, PastCallAt } from './calling-window';
import type { TaskStatus } from './task-statuses';

// ---------- shared shapes ----------

export { FINAL_TASK_STATUSES, TASK_STATUSES, type TaskStatus } from './task-statuses';
export interface CallSettings {
  pipeId: string;
  agentId?: string;
  fromNumber?: string;
}

/**
 * When contacts may be called: a calling window in each contact's zone, the campaign's zone, a deadline after
 * which tasks not yet reached end `expired`, and what to do with a call time already past. Every field optional:
 * absent = no window, UTC, no deadline, past call times called at once.
 */
export interface CampaignTiming {
  callingWindow?: CallingWindow;
  /** The campaign's IANA zone: for contacts whose list row and number give none. */
  timezone?: string;
  /** ISO instant after which tasks not yet reached end as `expired`. */
  deadline?: string;
  pastCallAt?: PastCallAt;
}

export interface CampaignInput extends CampaignTiming {
  runId: string;
  accountId: string;
  spaceToken: string;
  call: CallSettings;
  policy: CampaignPolicy;
  /** Most task workflows open at once (dialing, in a call, or waiting for a retry). */
  window: number;
  /** The account's limits, used only if this run starts the account's limiter. */
  limits?: Partial<Limits>;
  /** This run's share of the account's permits against other runs (default 1) and its own concurrency cap. */
  weight?: number;
  concurrencyCap?: number;
  /** ISO time the run was created (client clock; shown in status). */
  createdAt: string;
  /** Name of the source (file name or URL) for status and export. */
  source?: string;
  /** Told of each task's end and once when the run has finished (signed like Unpod's webhooks). */
  callbackUrl?: string;
  /** Who started the run (API key id or user), shown as the Runs API `user`. */
  user?: string;
  /** Carried across continue-as-new; absent on the first run. */
  state?: CampaignCarriedState;
}

/** What starting a run takes: a campaign's input less what the start itself sets (its id is optional). */
export type RunSettings = Omit<CampaignInput, 'runId' | 'state' | 'createdAt'> & { runId?: string };

export interface CampaignCounts {
  pending: number;
  ringing: number;
  active: number;
  completed: number;
  failed: number;
  skipped: number;
  expired: number;
  canceled: number;
}

export type CampaignState = 'running' | 'paused' | 'canceling' | 'canceled' | 'completed';

export interface CampaignProgress {
  runId: string;
  accountId: string;
  state: CampaignState;
  /** Contacts announced so far (valid and skipped); final once inputClosed. */
  total: number;
  inputClosed: boolean;
  counts: CampaignCounts;
  attempts: number;
  retriesWaiting: number;
  /** Tasks held back because the account's tasks/day budget is spent; they go on when it resets. */
  waitingForDailyBudget: number;
  startedAt: string;
  updatedAt: string;
  /** Estimated finish, from the rate of tasks finished so far; null until there is a rate. */
  eta: string | null;
  continuedAsNew: number;
  /** Set when the run paused itself (Unpod refused the account's dials): what happened and what to do. */
  pausedReason: string | null;
  unknownEndReasons: Record<string, number>;
  /** Lean protocol: finished tasks by their last end_reason (normalised), for the outcomes view. */
  endReasons?: Record<string, number>;
  /**
   * Runs of 0.3.1: the latest time an open contact waits for (its retry delay, calling window or call time);
   * null when none waits. With `limits`, all a reader needs for the ETA, without asking any task or limiter.
   */
  nextAttemptLatest?: string | null;
  /** Runs of 0.3.1: the account's limits in the run's last share (null before its first). */
  limits?: Limits | null;
}

/**
 * Compact per-open-task status carried across continue-as-new: [taskWorkflowId, status, retryWaiting 0|1,
 * waiting for the day 0|1 (0.2), when its next attempt is due in ms (0.3.1; 0: not waiting)].
 */
export type OpenTaskEntry = [string, 'pending' | 'ringing' | 'active', 0 | 1, (0 | 1)?, number?];

export interface CampaignCarriedState {
  announced: number[];
  totalBatches: number | null;
  totalAnnounced: number;
  cursorBatch: number;
  queue: Contact[];
  queueSkipped: SkippedContact[];
  open: OpenTaskEntry[];
  finals: Pick<CampaignCounts, 'completed' | 'failed' | 'skipped' | 'expired' | 'canceled'>;
  attempts: number;
  paused: boolean;
  /** Why the run is paused when it was not a person (Unpod refused the account's dials), in plain words. */
  pausedReason?: string | null;
  /** The hard cap on a call, from the policy or the pipe's max_call_duration_s (the preflight). */
  hardCapMs?: number;
  /** Open tasks not yet told the run's current pause / resume / cancel (sent in chunks by the main loop). */
  untold?: string[];
  /** end_reasons the policy table does not know, with how often each was seen (at most 20 kept). */
  unknownEndReasons?: Record<string, number>;
  cancel: { hangup: boolean } | null;
  startedAt: string;
  updatedAt: string;
  continuedAsNew: number;
  /** LEAN_PROTOCOL for runs started by 0.3 (absent: the 0.2 protocol). */
  protocol?: number;
  /** Lean: the run's share of the account's limits and the permits granted from it. */
  pool?: PermitPool;
  endReasons?: Record<string, number>;
}

export interface AttemptRecord {
  attempt: number;
  callId: string | null;
  createdAt: string;
  endedAt: string | null;
  status: 'pending' | 'ringing' | 'active' | 'completed' | 'failed';
  endReason: string | null;
  durationS: number | null;
  /**
   * How the end was learned: the watcher's list, an agent's push, the create's own answer, a read at the hard cap
   * (the call had ended; its watch was late), the hard cap itself (hung up), a cancel's hangup, or not at all.
   */
  endedBy: 'watch' | 'push' | 'create' | 'read' | 'hard-cap' | 'canceled' | 'unknown' | null;
  decision: string | null;
  /** When the account limiter granted this attempt's permit (epoch ms). */
  permitGrantedAt?: number;
}

export interface TaskInput {
  runId: string;
  campaignWorkflowId: string;
  accountId: string;
  contact: Contact;
  call: CallSettings;
  policy: CampaignPolicy;
  skip?: { reason: string; detail: string };
  paused?: boolean;
  callbackUrl?: string;
  /** The hard cap on one call (the policy's maxCallMs, else the pipe's cap plus ringing time). */
  hardCapMs?: number;
  /** The campaign's timing, and when the run was created (a call_at before it counts as past). */
  timing?: CampaignTiming & { runCreatedAt: string };
  /** LEAN_PROTOCOL for tasks of 0.3 runs (permits from the campaign, reports through the mailbox). */
  protocol?: number;
  /** Lean protocol: the first attempt's permit, granted by the campaign with the start. */
  permit?: LeanPermit;
}

export interface TaskState {
  taskId: string;
  runId: string;
  phone: string;
  name: string | null;
  line: number;
  status: TaskStatus;
  /** Why the task ended as it did (policy decision, skip reason, cancel). */
  reason: string | null;
  endReason: string | null;
  attempts: AttemptRecord[];
  nextAttemptAt: string | null;
  /** Why a task that wants to dial cannot yet (e.g. the day's task budget is spent). */
  waitingFor: string | null;
  transcript: string | null;
  summary: string | null;
  recordingUrl: string | null;
  cost: number | null;
  metadata: Record<string, string>;
  /** A call still open this long after its dial is hung up (the policy's maxCallMs, else the pipe's cap). */
  hardCapMs?: number;
  createdAt: string;
  updatedAt: string;
}

/** What a call looks like when it reaches a task: from the watcher, a push hint or a read. */
export interface CallSnapshot {
  callId: string;
  /** Unpod's status read into five states (src/unpod/end-reasons.ts). */
  status: 'pending' | 'ringing' | 'active' | 'completed' | 'failed';
  /** Unpod's own word (connected, notConnected, completed…), for display. */
  unpodStatus?: string;
  /** Normalised: upper case, underscores (agent_end_call → AGENT_END_CALL). */
  endReason: string | null;
  startedAt: string | null;
  endedAt: string | null;
  durationS: number | null;
  transcript: string | null;
  summary: string | null;
  recordingUrl: string | null;
  cost: number | null;
}

/** Task → campaign: a status change, or the final outcome. */
export interface TaskEvent {
  taskId: string;
  status: TaskStatus;
  retryWaiting?: boolean;
  /** Set when this event starts a new dial attempt. */
  attemptStarted?: number;
  /** Waiting for a limit that will not free up soon (the day's task budget). */
  waiting?: 'tasks_per_day';
  /** Unpod refused the dial for the whole account: the campaign pauses with this reason. */
  blocked?: { kind: string; message: string };
  /** On a final event: an end_reason the policy table does not know (counted in the run's status). */
  unknownEndReason?: string;
  final?: boolean;
}

// ---------- campaignWorkflow ----------
export interface AddBatchInput {
  batchNo: number;
  contacts: number;
  skipped: number;
}
/** Idempotent by batchNo: announcing a batch twice changes nothing. */
export const addBatchUpdate = defineUpdate<{ accepted: boolean; announced: number }, [AddBatchInput]>(
  'addBatch',
);
export const closeInputUpdate = defineUpdate<{ total: number }, [{ totalBatches: number }]>('closeInput');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal<[{ hangup: boolean }]>('cancel');
export const taskEventSignal = defineSignal<[TaskEvent]>('taskEvent');
export const progressQuery = defineQuery<CampaignProgress>('progress');
/**
 * Memo key under which a running campaign publishes its progress (at most every PROGRESS_MEMO_MS, at once on a
 * change of state): read by describe, so no reader sends the run a query. A query answered by a worker that
 * had just taken the run over from a dead one could leave that worker's state apart from its history (seen as
 * a nondeterminism error on the next replay, sdk 1.24); the memo needs no worker at all.
 */
export const MEMO_PROGRESS = 'progress';
/** Memo key under which a lean account limiter publishes its view (same rule; read by `limiterState`). */
export const MEMO_LIMITER_VIEW = 'limiterView';

// ---------- callTaskWorkflow ----------
/** An AgentRunner's call_end push (our HTTP endpoint): read the call now instead of at the watcher's next list. */
export const callEndHintSignal = defineSignal<[{ callId: string }]>('callEndHint');
export const taskPauseSignal = defineSignal<[{ paused: boolean }]>('taskPause');
export const taskCancelSignal = defineSignal<[{ hangup: boolean }]>('taskCancel');
export const taskStatusQuery = defineQuery<TaskState>('status');

// ---------- contactBatchWorkflow ----------
export interface ContactBatchInput {
  runId: string;
  batchNo: number;
  contacts: Contact[];
  skipped: SkippedContact[];
}
export const batchContentsQuery = defineQuery<ContactBatchInput>('contents');
export const batchReleaseSignal = defineSignal('release');

// ---------- accountLimiterWorkflow ----------
export interface LimiterInput {
  accountId: string;
  limits?: Partial<Limits>;
  /** Carried across continue-as-new (0.2 protocol). */
  state?: LimiterState;
  continuedAsNew?: number;
  /** Requests already told they wait for the next day (0.2 protocol), so a new run does not tell them again. */
  told?: string[];
  /** Carried across continue-as-new (lean protocol); a 0.2 limiter hands over with `demands` when idle. */
  shares?: ShareState;
  demands?: CampaignDemand[];
  /** Started anew while campaigns may hold shares of a limiter that is gone: hear from them before handing out. */
  settleMs?: number;
}
export interface PermitRequestMessage {
  id: string;
  taskId: string;
  campaign: string;
  firstAttempt: boolean;
  leaseTtlMs: number;
}
export interface PermitGrantMessage {
  id: string;
  grantedAt: number;
}
export interface PermitWaitingMessage {
  id: string;
  reason: 'tasks_per_day';
  resetsAt: number;
}
export interface CampaignLimitSettings {
  campaign: string;
  weight?: number;
  cap?: number | null;
  paused?: boolean;
  /** Finished or canceled: its queued requests go. */
  done?: boolean;
}
export interface LimiterView {
  accountId: string;
  limits: Limits;
  inUse: number;
  capacity: number;
  queued: number;
  queuedByCampaign: Record<string, number>;
  dialsInLastWindow: number;
  tasksToday: number;
  dayBlocked: { count: number; resetsAt: string } | null;
  campaigns: LimiterState['campaigns'];
  stats: LimiterState['stats'] & { meanWaitMs: number };
  continuedAsNew: number;
  /** Lean protocol: each campaign's share (slots, dials per window) and use. */
  shares?: { campaign: string; slots: number; rate: number; held: number; wants: number; dayQuota: number }[];
}
/** The 0.2 protocol's permit messages between a task and the account's limiter (runs of 0.2 only). */
export const permitSignals = {
  /** Task → limiter. */
  request: defineSignal<[PermitRequestMessage]>('permitRequest'),
  /** The task dialed on its permit (sent when createCall returns). */
  dialed: defineSignal<[{ id: string }]>('permitDialed'),
  /** `unused`: the permit was never dialed on, so its rate token can go back at once. */
  release: defineSignal<[{ id: string; unused?: boolean }]>('permitRelease'),
  withdraw: defineSignal<[{ id: string }]>('permitWithdraw'),
  /** Limiter → task. */
  granted: defineSignal<[PermitGrantMessage]>('permitGranted'),
  waiting: defineSignal<[PermitWaitingMessage]>('permitWaiting'),
};
export const campaignLimitSettingsSignal = defineSignal<[CampaignLimitSettings]>('campaignLimitSettings');
export const setLimitsUpdate = defineUpdate<Limits, [Partial<Limits>]>('setLimits');
export const limiterStateQuery = defineQuery<LimiterView>('state');

// ---------- the lean protocol (0.3): permits by the campaign, shares by the account ----------
/**
 * Runs started by 0.3 speak this protocol: the campaign grants its tasks' permits from a share of the account's
 * limits, and tasks report to it through the worker's mailbox (a batched signal). Runs of 0.2 keep the old one.
 */
export const LEAN_PROTOCOL = 3;

/** Task → campaign, batched by the worker's mailbox: one `taskReports` signal per campaign per flush. */
export type TaskReport =
  /** The task wants a permit for this attempt (a retry, or a first attempt that was not due at its start). */
  | { kind: 'want'; taskId: string; id: string; countedDay: string | null }
  /** The call was created at `at` (the worker's clock, after Unpod answered: at or after Unpod counted it). */
  | { kind: 'dialed'; taskId: string; id: string; at: number }
  /** The permit goes back: `unused` when nothing can have been dialed on it, else dialed at `dialedAt`. */
  | { kind: 'release'; taskId: string; id: string; unused?: boolean; dialedAt?: number }
  /** Unpod refused the whole account: the run pauses (the permit goes back unused). */
  | { kind: 'blocked'; taskId: string; id: string; block: string; message: string }
  /** An attempt ended and a retry waits: the permit goes back; `attempt` started a dial. */
  | {
      kind: 'attemptEnded';
      taskId: string;
      id: string;
      dialedAt?: number;
      endReason: string | null;
      /** When the next attempt is due (its delay, then its calling window), if the plan has one. */
      nextAt?: number;
    }
  /** The task ended: the permit it held (if any) goes back. */
  | {
      kind: 'final';
      taskId: string;
      id?: string;
      dialedAt?: number;
      status: TaskStatus;
      endReason: string | null;
      attempts: number;
      unknownEndReason?: string;
    };
export const taskReportsSignal = defineSignal<[TaskReport[]]>('taskReports');

/** A permit from the campaign (lean protocol): dial by `dialBy` or not at all on it. */
export interface LeanPermit {
  id: string;
  grantedAt: number;
  dialBy: number;
  /** The day this grant counted the task toward tasks/day (null: not counted: unlimited, or counted already). */
  dayKey: string | null;
}
export const leanPermitSignal = defineSignal<[LeanPermit]>('leanPermit');

/** Campaign → account limiter: what this run could use and holds now (a heartbeat too). */
export interface CampaignDemand {
  campaign: string;
  /** The campaign workflow's id, where allocations go. */
  workflowId: string;
  /** Slots it could use now: held + waiting for one + contacts it could start. */
  wants: number;
  held: number;
  /** Rate tokens held: permits not yet dialed and dials within the last window. */
  tokens: number;
  weight: number;
  cap: number | null;
  paused: boolean;
  done: boolean;
  /** The allocation seq it has applied (0: none yet), and that allocation's slots and rate. */
  seenSeq: number;
  allocSlots: number;
  allocRate: number;
  /** Tasks it counted today, by the limiter's day key; and how many more first attempts it could make now. */
  day: { key: string; used: number } | null;
  dayWants: number;
  /** The limits it last heard, so that a limiter started anew does not fall back to defaults. */
  limits?: Limits & { version: number };
  /** Permits it granted, got back, and took back unreleased (their task vanished), for the limiter's stats. */
  expired?: number;
  granted?: number;
  released?: number;
}
/** Account limiter → campaign: its share. `rate` dials per window; `day.quota` tasks it may count that day. */
export interface ShareAllocation {
  seq: number;
  slots: number;
  rate: number;
  /** `full`: the account's whole day is handed out (so a run at its quota waits for the next day). */
  day: { key: string; quota: number; resetAt: number; full: boolean } | null;
  limits: Limits & { version: number };
}
export const campaignDemandSignal = defineSignal<[CampaignDemand]>('campaignDemand');
export const shareAllocationSignal = defineSignal<[ShareAllocation]>('shareAllocation');
