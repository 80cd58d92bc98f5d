/**
 * The call engine: create (idempotency, limits), the pending → ringing → active → completed|failed state machine
 * with speed-scaled timers, the per-account concurrency cap (excess calls wait in pending, FIFO), and hangup.
 */
import { randomUUID } from 'node:crypto';
import { isTerminalCallStatus } from '../unpod/end-reasons';
import { METADATA_ATTEMPT, METADATA_RUN_ID, METADATA_TASK_WORKFLOW_ID } from '../unpod/paths';
import type { Call, CreateCallRequest } from '../unpod/schemas';
import { type AccountState, newAccountState, resetAccountState } from './accounts';
import type { LedgerBook } from './ledger';
import { dayWindow, retryAfterSeconds } from './limits';
import { planCall } from './outcomes';
import { between, type Rng } from './prng';
import { canonicalJson, type SimCall } from './sim-call';
import type { Timers } from './timers';
import type { AccountLimits, OutcomeMode, ScriptStep, SimulatorAccount } from './types';
import type { WebhookDispatcher } from './webhooks';

export const HANGUP_REASON = 'HANGUP_REQUESTED';

export type CreateResult =
  | { kind: 'created' | 'replay'; sim: SimCall }
  | { kind: 'conflict' }
  | { kind: 'limited'; retryAfterS: number; detail: string };

export interface EngineDeps {
  accounts: SimulatorAccount[];
  speed: number;
  rateWindowMs: number;
  dayMs: number | undefined;
  outcomes: OutcomeMode;
  scripts: Record<string, ScriptStep[]>;
  rng: Rng;
  timers: Timers;
  ledger: LedgerBook;
  webhooks: WebhookDispatcher;
}

const id = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
const iso = (ms = Date.now()) => new Date(ms).toISOString();

function positiveInt(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

export class CallEngine {
  readonly accounts = new Map<string, AccountState>();
  private readonly byKey = new Map<string, AccountState>();
  readonly calls = new Map<string, SimCall>();
  private readonly sessions = new Map<string, SimCall>();
  private readonly numberCounts = new Map<string, number>();
  readonly scripts = new Map<string, ScriptStep[]>();
  /** Fixed-length test days count from the Unix epoch, like the engine's limiter. */
  private epoch = 0;

  constructor(private readonly d: EngineDeps) {
    for (const a of d.accounts) {
      const s = newAccountState(a, d.rateWindowMs);
      this.accounts.set(s.id, s);
      this.byKey.set(a.apiKey, s);
    }
    for (const [num, steps] of Object.entries(d.scripts)) this.scripts.set(num, steps);
  }

  accountForKey(key: string): AccountState | undefined {
    return this.byKey.get(key);
  }

  callFor(acct: AccountState, callId: string): SimCall | undefined {
    const sim = this.calls.get(callId);
    return sim && sim.accountId === acct.id ? sim : undefined;
  }

  sessionFor(acct: AccountState, sessionId: string): SimCall | undefined {
    const sim = this.sessions.get(sessionId);
    return sim && sim.accountId === acct.id ? sim : undefined;
  }

  callsOf(acct: AccountState): SimCall[] {
    return [...this.calls.values()].filter((s) => s.accountId === acct.id);
  }

  private scaled(simMs: number): number {
    return simMs / this.d.speed;
  }

  create(acct: AccountState, req: CreateCallRequest, idempotencyKey: string | undefined): CreateResult {
    const now = Date.now();
    const bodyHash = canonicalJson(req);
    if (idempotencyKey) {
      const prev = acct.idem.get(idempotencyKey);
      if (prev) return prev.bodyHash === bodyHash ? { kind: 'replay', sim: prev } : { kind: 'conflict' };
    }
    const md = req.metadata ?? {};
    const wf = md[METADATA_TASK_WORKFLOW_ID];
    const taskWorkflowId = typeof wf === 'string' && wf.length > 0 ? wf : null;
    const attempt = positiveInt(md[METADATA_ATTEMPT]);
    const runId = typeof md[METADATA_RUN_ID] === 'string' ? (md[METADATA_RUN_ID] as string) : null;

    const rate = acct.rate.check(now, acct.limits.callsPerMinute);
    if (!rate.ok) {
      const detail = 'calls per minute limit exceeded';
      this.d.ledger.violation(
        'calls_per_minute',
        acct.id,
        `${detail} (${acct.limits.callsPerMinute} per ${this.d.rateWindowMs} ms) dialing ${req.to_number}`,
      );
      return { kind: 'limited', retryAfterS: retryAfterSeconds(rate.retryAfterMs), detail };
    }
    const day = dayWindow(now, { dayMs: this.d.dayMs, epoch: this.epoch, timezone: acct.timezone });
    if (acct.day.key !== day.key) acct.day = { key: day.key, tasks: new Set() };
    const callId = id('call');
    const taskKey = taskWorkflowId ?? callId;
    if (!acct.day.tasks.has(taskKey) && acct.day.tasks.size >= acct.limits.tasksPerDay) {
      const detail = 'tasks per day limit exceeded';
      this.d.ledger.violation(
        'tasks_per_day',
        acct.id,
        `${detail} (${acct.limits.tasksPerDay} per day) for task ${taskKey}`,
      );
      return { kind: 'limited', retryAfterS: retryAfterSeconds(day.resetAt - now), detail };
    }
    acct.rate.record(now);
    acct.day.tasks.add(taskKey);

    const nth = (this.numberCounts.get(req.to_number) ?? 0) + 1;
    this.numberCounts.set(req.to_number, nth);
    const plan = planCall({
      toNumber: req.to_number,
      attempt: attempt ?? nth,
      scripts: this.scripts,
      mode: this.d.outcomes,
      rng: this.d.rng,
    });
    const call: Call = {
      call_id: callId,
      pipe_id: req.pipe_id,
      agent_id: req.agent_id ?? null,
      direction: 'outbound',
      to_number: req.to_number,
      from_number: req.from_number ?? null,
      status: 'pending',
      end_reason: null,
      session_id: null,
      metadata: md,
      created_at: iso(now),
      started_at: null,
      answered_at: null,
      ended_at: null,
      duration_s: null,
      transcript: null,
      summary: null,
      recording_url: null,
      cost: null,
    };
    const sim: SimCall = {
      call,
      accountId: acct.id,
      idempotencyKey: idempotencyKey ?? null,
      bodyHash,
      taskWorkflowId,
      attempt,
      runId,
      taskId: `T${callId.slice(5)}`,
      plan,
      holdsSlot: false,
    };
    this.calls.set(callId, sim);
    if (idempotencyKey) acct.idem.set(idempotencyKey, sim);
    this.d.ledger.dial({
      call,
      accountId: acct.id,
      idempotencyKey: sim.idempotencyKey,
      taskWorkflowId,
      attempt,
    });

    if (acct.busy >= acct.limits.concurrency || acct.queue.length > 0) {
      this.d.ledger.violation(
        'concurrency',
        acct.id,
        `call ${callId} waits in pending: ${acct.busy}/${acct.limits.concurrency} slots busy, ${acct.queue.length} already waiting`,
      );
    }
    acct.queue.push(sim);
    this.pump(acct);
    return { kind: 'created', sim };
  }

  /** Start waiting calls while the account has free slots. */
  pump(acct: AccountState): void {
    while (acct.busy < acct.limits.concurrency && acct.queue.length > 0) {
      const sim = acct.queue.shift()!;
      acct.busy++;
      sim.holdsSlot = true;
      sim.timer = this.d.timers.after(this.scaled(between(this.d.rng, 300, 1500)), () => this.toRinging(sim));
    }
  }

  private emit(sim: SimCall, type: 'call.status_changed' | 'call.ended'): void {
    this.d.webhooks.emit(
      { event_id: id('evt'), type, occurred_at: iso(), call: structuredClone(sim.call) },
      sim.plan.webhook === 'drop',
    );
  }

  private toRinging(sim: SimCall): void {
    const c = sim.call;
    c.status = 'ringing';
    c.session_id = id('ses');
    c.started_at = iso();
    this.sessions.set(c.session_id, sim);
    this.emit(sim, 'call.status_changed');
    sim.timer = this.d.timers.after(this.scaled(sim.plan.ringMs), () =>
      sim.plan.connects ? this.toActive(sim) : this.end(sim, sim.plan.endReason ?? 'UNKNOWN', 'failed', 0),
    );
  }

  private toActive(sim: SimCall): void {
    sim.call.status = 'active';
    sim.answeredAtMs = Date.now();
    sim.call.answered_at = iso(sim.answeredAtMs);
    this.emit(sim, 'call.status_changed');
    const reason = sim.plan.endReason;
    if (reason === null) return; // stuck until hung up
    sim.timer = this.d.timers.after(this.scaled(sim.plan.talkMs), () =>
      this.end(sim, reason, 'completed', sim.plan.talkMs / 1000),
    );
  }

  private end(sim: SimCall, reason: string, status: 'completed' | 'failed', durationS: number): void {
    const c = sim.call;
    if (isTerminalCallStatus(c.status)) return;
    this.d.timers.cancel(sim.timer);
    sim.timer = undefined;
    c.status = status;
    c.end_reason = reason;
    c.ended_at = iso();
    c.duration_s = Math.round(durationS * 10) / 10;
    if (sim.answeredAtMs !== undefined) {
      c.transcript = `Agent: Hello, this is an automated call.\nUser: Hi.\nAgent: Thanks for your time. Goodbye.\n[ended: ${reason}]`;
      c.summary = `Simulated conversation with ${c.to_number}; ended with ${reason}.`;
      c.recording_url = `https://recordings.simulator.invalid/${c.call_id}.mp3`;
      c.cost = Math.round(c.duration_s * 0.002 * 10000) / 10000;
    }
    if (sim.holdsSlot) {
      sim.holdsSlot = false;
      const acct = this.accounts.get(sim.accountId);
      if (acct) {
        acct.busy--;
        this.pump(acct);
      }
    }
    this.emit(sim, 'call.ended');
  }

  /** Hang up through the API: terminal calls are left unchanged. */
  hangup(sim: SimCall): void {
    const c = sim.call;
    if (isTerminalCallStatus(c.status)) return;
    if (c.status === 'pending' && !sim.holdsSlot) {
      const acct = this.accounts.get(sim.accountId);
      if (acct) acct.queue = acct.queue.filter((s) => s !== sim);
    }
    if (c.status === 'active') {
      this.end(
        sim,
        HANGUP_REASON,
        'completed',
        ((Date.now() - (sim.answeredAtMs ?? Date.now())) * this.d.speed) / 1000,
      );
    } else {
      this.end(sim, HANGUP_REASON, 'failed', 0);
    }
  }

  setLimits(accountId: string, l: AccountLimits): void {
    const acct = this.accounts.get(accountId);
    if (!acct) throw new Error(`unknown account ${accountId}`);
    for (const k of ['callsPerMinute', 'tasksPerDay', 'concurrency'] as const) {
      const v = l[k];
      if (v !== undefined) acct.limits[k] = v;
    }
    this.pump(acct);
  }

  script(num: string, steps: ScriptStep[]): void {
    if (steps.length === 0) this.scripts.delete(num);
    else this.scripts.set(num, steps);
  }

  reset(): void {
    for (const sim of this.calls.values()) this.d.timers.cancel(sim.timer);
    this.calls.clear();
    this.sessions.clear();
    this.numberCounts.clear();
    for (const a of this.accounts.values()) resetAccountState(a);
    this.d.ledger.reset();
  }
}
