/** The simulator's record of one call: what Unpod would hold, plus what the engine needs to drive it. */
import type { CallPlan } from './outcomes';

export type Phase = 'pending' | 'dispatching' | 'ringing' | 'active' | 'ended';
export type Outcome = 'connected' | 'notConnected' | 'failed';

export interface Turn {
  role: 'agent' | 'user';
  content: string;
  timestamp: string;
}

export interface SimCall {
  id: string;
  accountId: string;
  pipeId: string;
  agentId: string | null;
  numberId: string | null;
  fromNumber: string;
  toNumber: string;
  instructions: string | null;
  /** The create's `data`, as sent (the agent's `ctx.data`). */
  data: Record<string, unknown>;
  phase: Phase;
  outcome: Outcome | null;
  endReason: string | null;
  sessionId: string | null;
  roomName: string | null;
  createdMs: number;
  modifiedMs: number;
  dialedMs: number | null;
  connectedMs: number | null;
  endedMs: number | null;
  /** Simulated seconds of talk. */
  durationS: number | null;
  transcript: Turn[];
  recordingUrl: string | null;
  /** The pipe's cap, simulated seconds. */
  maxCallDurationS: number;

  idempotencyKey: string | null;
  /** Canonical JSON of the create body, to detect an idempotency key reused with a different body. */
  bodyHash: string;
  taskWorkflowId: string | null;
  attempt: number | null;
  plan: CallPlan;
  timer?: NodeJS.Timeout;
  holdsSlot: boolean;
}

/** JSON with sorted object keys. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
