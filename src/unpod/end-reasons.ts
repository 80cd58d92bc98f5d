/**
 * Unpod's call statuses and end reasons, and how the engine reads them.
 *
 * Statuses (unpod 0.5.0 `models/call.py`): in flight `scheduled / pending / dispatching / ringing / active`,
 * terminal `connected / notConnected / failed` ("older servers: completed / not_connected"). Anything else —
 * the SDK's synthetic `hangup_requested`, the list filter's `in_flight`, a status added later — is read as
 * still in progress, never as a parse error.
 *
 * End reasons: the documented ones and how each is retried are one table, OUTCOME_BY_END_REASON in
 * workflows/policy.ts; any other string is kept and read as a generic failure.
 */
import { normalizeReason } from '../../workflows/policy';

/** What the engine keeps of a call's status. */
export const CALL_STATES = ['pending', 'ringing', 'active', 'completed', 'failed'] as const;
export type CallState = (typeof CALL_STATES)[number];

const STATE_BY_STATUS: Record<string, CallState> = {
  scheduled: 'pending',
  pending: 'pending',
  queued: 'pending',
  dispatching: 'pending',
  in_flight: 'pending',
  hangup_requested: 'active',
  ringing: 'ringing',
  active: 'active',
  connected: 'completed',
  completed: 'completed',
  notconnected: 'failed',
  not_connected: 'failed',
  failed: 'failed',
};

/** The engine's reading of a status; `known` is false for one we have not seen documented (logged by callers). */
export function callState(status: string | null | undefined): { state: CallState; known: boolean } {
  const s = (status ?? '').trim();
  const state = STATE_BY_STATUS[s] ?? STATE_BY_STATUS[s.toLowerCase()];
  return state ? { state, known: true } : { state: 'pending', known: false };
}

export function isTerminalState(state: CallState): boolean {
  return state === 'completed' || state === 'failed';
}

/** `agent_end_call`, `customer-ended-call`, `No Answer` → AGENT_END_CALL, CUSTOMER_ENDED_CALL, NO_ANSWER. */
export function normalizeEndReason(reason: string | null | undefined): string | null {
  if (reason === null || reason === undefined) return null;
  const n = normalizeReason(reason);
  return n === '' ? null : n;
}
