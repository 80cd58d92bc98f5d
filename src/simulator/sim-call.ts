/** The simulator's record of one call: the public Call object plus what the engine needs to drive it. */
import type { Call } from '../unpod/schemas';
import type { CallPlan } from './outcomes';

export interface SimCall {
  call: Call;
  accountId: string;
  idempotencyKey: string | null;
  /** Canonical JSON of the create body, to detect an idempotency key reused with a different body. */
  bodyHash: string;
  taskWorkflowId: string | null;
  attempt: number | null;
  runId: string | null;
  taskId: string;
  plan: CallPlan;
  timer?: NodeJS.Timeout;
  holdsSlot: boolean;
  /** Real time (ms) the call was answered, for durations of hung-up calls. */
  answeredAtMs?: number;
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
