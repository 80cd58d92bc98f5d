/**
 * The call engine: create (limits, optional idempotency), the pending → dispatching → ringing → active → terminal
 * state machine with speed-scaled timers, the per-account concurrency cap (excess calls wait in pending, FIFO),
 * the pipe's max call duration, hangup, and the AgentRunner push when a call ends.
 */
import { randomUUID } from 'node:crypto';
import { DATA_ATTEMPT, DATA_TASK_ID } from '../unpod/paths';
import type { CreateCallRequest } from '../unpod/schemas';
import { type AccountState, newAccountState, resetAccountState } from './accounts';
import type { AgentPusher } from './agent-push';
import type { LedgerBook } from './ledger';
import { dayWindow, retryAfterSeconds } from './limits';
import { outcomeOf, planCall } from './outcomes';
import type { PipeState } from './pipes';
import { between, type Rng } from './prng';
import { canonicalJson, type Outcome, type SimCall, type Turn } from './sim-call';
import type { Timers } from './timers';
import type {
  AccountFailure,
  AccountLimits,
  OutcomeMode,
  ScriptStep,
  SimulatorAccount,
  StatusVocabulary,
} from './types';

export const HANGUP_REASON = 'HANGUP_REQUESTED';

export type CreateResult =
  | { kind: 'created' | 'replay'; sim: SimCall }
  | { kind: 'conflict' }
  | { kind: 'limited'; retryAfterS: number; detail: string };

export interface EngineDeps {
  accounts: SimulatorAccount[];
  accountFailures: Record<string, AccountFailure>;
  speed: number;
  rateWindowMs: number;
  dayMs: number | undefined;
  outcomes: OutcomeMode;
  scripts: Record<string, ScriptStep[]>;
  vocabulary: StatusVocabulary;
  idempotency: boolean;
  rng: Rng;
  timers: Timers;
  ledger: LedgerBook;
  push: AgentPusher;
}

export interface PlacedCreate {
  body: CreateCallRequest;
  pipe: PipeState;
  fromNumber: string;
  idempotencyKey: string | undefined;
}

const id = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 24)}`;

function positiveInt(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

function conversation(sim: SimCall, startMs: number, endMs: number): Turn[] {
  const lines: Array<[Turn['role'], string]> = [
    ['agent', 'Hello, this is an automated call.'],
    ['user', 'Hi.'],
    ['agent', 'Thanks for your time. Goodbye.'],
  ];
  const step = Math.max(1, Math.floor((endMs - startMs) / lines.length));
  return lines.map(([role, content], i) => ({
    role,
    content: i === 0 && sim.instructions ? `${content} (${sim.instructions.slice(0, 40)})` : content,
    timestamp: new Date(startMs + i * step).toISOString(),
  }));
}

export class CallEngine {
  readonly accounts = new Map<string, AccountState>();
  private readonly byKey = new Map<string, AccountState>();
  readonly calls = new Map<string, SimCall>();
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
    this.applyConfiguredFailures();
    for (const [num, steps] of Object.entries(d.scripts)) this.scripts.set(num, steps);
  }

  get vocabulary(): StatusVocabulary {
    return this.d.vocabulary;
  }

  private applyConfiguredFailures(): void {
    for (const [accountId, kind] of Object.entries(this.d.accountFailures)) this.setFailure(accountId, kind);
  }

  accountForKey(key: string): AccountState | undefined {
    return this.byKey.get(key);
  }

  callFor(acct: AccountState, callId: string): SimCall | undefined {
    const sim = this.calls.get(callId);
    return sim && sim.accountId === acct.id ? sim : undefined;
  }

  /** The live call using this from-number, if any (numbers list `in_call`). */
  activeCallOn(fromNumber: string | null): SimCall | undefined {
    if (fromNumber === null) return undefined;
    for (const a of this.accounts.values())
      for (const s of a.live) if (s.fromNumber === fromNumber && s.phase !== 'pending') return s;
    return undefined;
  }

  private scaled(simMs: number): number {
    return simMs / this.d.speed;
  }

  create(acct: AccountState, p: PlacedCreate): CreateResult {
    const now = Date.now();
    const { body } = p;
    const bodyHash = canonicalJson(body);
    if (this.d.idempotency && p.idempotencyKey) {
      const prev = acct.idem.get(p.idempotencyKey);
      if (prev) return prev.bodyHash === bodyHash ? { kind: 'replay', sim: prev } : { kind: 'conflict' };
    }
    const data = body.data ?? {};
    const task = data[DATA_TASK_ID];
    const taskWorkflowId = typeof task === 'string' && task.length > 0 ? task : null;
    const attempt = positiveInt(data[DATA_ATTEMPT]);

    const rate = acct.rate.check(now, acct.limits.callsPerMinute);
    if (!rate.ok) {
      const detail = 'calls per minute limit exceeded';
      this.d.ledger.violation(
        'calls_per_minute',
        acct.id,
        `${detail} (${acct.limits.callsPerMinute} per ${this.d.rateWindowMs} ms) dialing ${body.to_number}`,
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

    const nth = (this.numberCounts.get(body.to_number) ?? 0) + 1;
    this.numberCounts.set(body.to_number, nth);
    const plan = planCall({
      toNumber: body.to_number,
      attempt: attempt ?? nth,
      scripts: this.scripts,
      mode: this.d.outcomes,
      rng: this.d.rng,
    });
    const sim: SimCall = {
      id: callId,
      accountId: acct.id,
      pipeId: p.pipe.pipeId,
      agentId: body.agent_id ?? p.pipe.agentId,
      numberId: p.fromNumber === p.pipe.number ? p.pipe.numberId : null,
      fromNumber: p.fromNumber,
      toNumber: body.to_number,
      instructions: body.instructions ?? null,
      data,
      phase: 'pending',
      outcome: null,
      endReason: null,
      sessionId: null,
      roomName: null,
      createdMs: now,
      modifiedMs: now,
      dialedMs: null,
      connectedMs: null,
      endedMs: null,
      durationS: null,
      transcript: [],
      recordingUrl: null,
      maxCallDurationS: p.pipe.maxCallDurationS,
      idempotencyKey: p.idempotencyKey ?? null,
      bodyHash,
      taskWorkflowId,
      attempt,
      plan,
      holdsSlot: false,
    };
    this.calls.set(callId, sim);
    acct.calls.push(sim);
    acct.live.add(sim);
    if (this.d.idempotency && p.idempotencyKey) acct.idem.set(p.idempotencyKey, sim);
    this.d.ledger.dial(sim);

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

  /** Start waiting calls while the account has free slots (they stay `pending` until the dispatch timer). */
  pump(acct: AccountState): void {
    while (acct.busy < acct.limits.concurrency && acct.queue.length > 0) {
      const sim = acct.queue.shift()!;
      acct.busy++;
      sim.holdsSlot = true;
      sim.timer = this.d.timers.after(this.scaled(between(this.d.rng, 50, 300)), () =>
        this.toDispatching(sim),
      );
    }
  }

  private touch(sim: SimCall): void {
    sim.modifiedMs = Date.now();
  }

  private toDispatching(sim: SimCall): void {
    sim.phase = 'dispatching';
    this.touch(sim);
    sim.timer = this.d.timers.after(this.scaled(between(this.d.rng, 300, 1500)), () => this.toRinging(sim));
  }

  private toRinging(sim: SimCall): void {
    sim.phase = 'ringing';
    sim.sessionId = id('ses');
    sim.roomName = `room_${sim.id}`;
    sim.dialedMs = Date.now();
    this.touch(sim);
    sim.timer = this.d.timers.after(this.scaled(sim.plan.ringMs), () =>
      sim.plan.connects ? this.toActive(sim) : this.end(sim, sim.plan.endReason ?? 'UNKNOWN', 0),
    );
  }

  private toActive(sim: SimCall): void {
    sim.phase = 'active';
    sim.connectedMs = Date.now();
    this.touch(sim);
    const planned = sim.plan.endReason;
    if (planned === null) return; // stuck until hung up
    const capMs = sim.maxCallDurationS * 1000;
    const [talkMs, reason] =
      sim.plan.talkMs > capMs ? [capMs, 'MAX_DURATION_REACHED'] : [sim.plan.talkMs, planned];
    sim.timer = this.d.timers.after(this.scaled(talkMs), () => this.end(sim, reason, talkMs / 1000));
  }

  private end(sim: SimCall, reason: string, durationS: number): void {
    if (sim.phase === 'ended') return;
    this.d.timers.cancel(sim.timer);
    sim.timer = undefined;
    const answered = sim.connectedMs !== null;
    const outcome: Outcome = outcomeOf(reason, answered);
    sim.phase = 'ended';
    sim.outcome = outcome;
    sim.endReason = reason;
    sim.endedMs = Date.now();
    this.touch(sim);
    sim.durationS = Math.round(durationS * 10) / 10;
    if (answered) {
      sim.transcript = conversation(sim, sim.connectedMs!, sim.endedMs);
      sim.recordingUrl = `https://recordings.simulator.invalid/${sim.id}.mp3`;
    }
    const acct = this.accounts.get(sim.accountId);
    if (acct) {
      acct.live.delete(sim);
      if (sim.holdsSlot) {
        sim.holdsSlot = false;
        acct.busy--;
        this.pump(acct);
      }
    }
    // The runner's call_end fires only for a call that reached it (here: one that was dialed), "ended" when the
    // entrypoint returned and "failed" when it raised (connectivity/bridge_server.py) — here, the failed outcome.
    if (sim.dialedMs !== null)
      this.d.push.callEnded(
        {
          event: 'call_end',
          call_id: sim.id,
          final_state: outcome === 'failed' ? 'failed' : 'ended',
          data: sim.data,
        },
        sim.plan.push === 'drop',
      );
  }

  /** Hang up through the API: terminal calls are left unchanged. */
  hangup(sim: SimCall): void {
    if (sim.phase === 'ended') return;
    if (!sim.holdsSlot) {
      const acct = this.accounts.get(sim.accountId);
      if (acct) acct.queue = acct.queue.filter((s) => s !== sim);
    }
    const talkS = sim.connectedMs === null ? 0 : ((Date.now() - sim.connectedMs) * this.d.speed) / 1000;
    this.end(sim, HANGUP_REASON, talkS);
  }

  setLimits(accountId: string, l: AccountLimits): void {
    const acct = this.account(accountId);
    for (const k of ['callsPerMinute', 'tasksPerDay', 'concurrency'] as const) {
      const v = l[k];
      if (v !== undefined) acct.limits[k] = v;
    }
    this.pump(acct);
  }

  setFailure(accountId: string, kind: AccountFailure | null): void {
    this.account(accountId).failure = kind;
  }

  private account(accountId: string): AccountState {
    const acct = this.accounts.get(accountId);
    if (!acct) throw new Error(`unknown simulator account ${accountId}`);
    return acct;
  }

  script(num: string, steps: ScriptStep[]): void {
    if (steps.length === 0) this.scripts.delete(num);
    else this.scripts.set(num, steps);
  }

  reset(): void {
    for (const sim of this.calls.values()) this.d.timers.cancel(sim.timer);
    this.calls.clear();
    this.numberCounts.clear();
    for (const a of this.accounts.values()) resetAccountState(a);
    this.applyConfiguredFailures();
    this.d.ledger.reset();
  }
}
