/**
 * The retry policy as a pure table from end_reason to decision (README, "Retry policy"). Pure and
 * deterministic: used inside workflows, by the CLI to explain a policy, and by tests directly.
 */

export type Outcome = 'completed' | 'no_answer' | 'voicemail' | 'permanent' | 'failure';

/**
 * Every end reason we know of, and its outcome: the ten of Unpod's call-lifecycle page (LiveKit CallEndReason
 * codes), then those seen in Unpod's own material. Unpod says this is "not the full set".
 */
export const OUTCOME_BY_END_REASON: Readonly<Record<string, Outcome>> = {
  USER_HUNG_UP_IN_CALL: 'completed',
  AGENT_HUNG_UP_SILENCE_DETECTED: 'completed',
  MAX_DURATION_REACHED: 'completed',
  USER_DID_NOT_PICK_UP: 'no_answer',
  USER_HUNG_UP_RINGING: 'no_answer',
  VOICEMAIL_DETECTED_PRECONNECT: 'voicemail',
  AGENT_HUNG_UP_VOICEMAIL_DETECTED: 'voicemail',
  SIP_FAILED_WRONG_NUMBER: 'permanent',
  SIP_FAILED_NUMBER_BLOCKED: 'permanent',
  IDLE_TIMEOUT: 'failure',
  // Seen in Unpod's own material beside the lifecycle page's ten (session.end(), call logs, task outputs).
  AGENT_END_CALL: 'completed',
  CALLER_HANGUP: 'completed',
  CUSTOMER_ENDED_CALL: 'completed',
  NO_ANSWER: 'no_answer',
};

/** `agent_end_call`, `customer-ended-call` → AGENT_END_CALL, CUSTOMER_ENDED_CALL (as src/unpod/end-reasons.ts). */
export function normalizeReason(reason: string): string {
  return reason
    .trim()
    .replace(/[\s-]+/g, '_')
    .toUpperCase();
}

/** Unknown reasons are a generic failure (the docs: "treat unknown reasons as a generic failure and log them"). */
export function classifyEndReason(endReason: string | null | undefined): {
  outcome: Outcome;
  known: boolean;
} {
  const outcome = endReason ? OUTCOME_BY_END_REASON[normalizeReason(endReason)] : undefined;
  return outcome ? { outcome, known: true } : { outcome: 'failure', known: false };
}

export interface RetryRule {
  /** Retries allowed for this outcome (attempts after the first that ended this way). */
  maxRetries: number;
  delayMs: number;
}

export interface CampaignPolicy {
  /** Total attempts per contact, whatever the outcomes. */
  maxAttempts: number;
  noAnswer: RetryRule;
  voicemail: RetryRule & { retry: boolean };
  failure: RetryRule;
  /** Added to every retry delay, so a retry lands at another time of day than the failed attempt. */
  retryShiftMs: number;
  /**
   * End detection: how often the worker lists Unpod's live calls (one request for all the calls it watches; the
   * shortest interval among them wins, never under a second).
   */
  pollIntervalMs: number;
  /**
   * Hard cap from dial to end: a call still open then is hung up and counted as a failure. Unset: the pipe's own
   * `max_call_duration_s` (Unpod's cap, default 3600 s) plus ringing time, read before the run dials.
   */
  maxCallMs?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_POLICY: CampaignPolicy = {
  maxAttempts: 3,
  noAnswer: { maxRetries: 2, delayMs: 2 * HOUR },
  voicemail: { retry: true, maxRetries: 1, delayMs: 4 * HOUR },
  failure: { maxRetries: 1, delayMs: 30 * MINUTE },
  retryShiftMs: 0,
  pollIntervalMs: 1_000,
};

export type Decision =
  | { action: 'complete'; outcome: 'completed' }
  | { action: 'retry'; outcome: Outcome; delayMs: number }
  | { action: 'fail'; outcome: Outcome; reason: string };

/**
 * Decides what follows an attempt, given the outcomes of every attempt so far (the last one included).
 */
export function decide(policy: CampaignPolicy, outcomes: readonly Outcome[]): Decision {
  const last = outcomes[outcomes.length - 1];
  if (last === undefined) throw new Error('decide() needs at least one outcome');
  if (last === 'completed') return { action: 'complete', outcome: 'completed' };
  if (last === 'permanent')
    return { action: 'fail', outcome: last, reason: 'permanent failure: not retried' };

  const rule =
    last === 'no_answer' ? policy.noAnswer : last === 'voicemail' ? policy.voicemail : policy.failure;
  if (last === 'voicemail' && !policy.voicemail.retry) {
    return { action: 'fail', outcome: last, reason: 'voicemail: retries disabled by policy' };
  }
  const retriesOfThisKind = outcomes.filter((o) => o === last).length - 1;
  if (retriesOfThisKind >= rule.maxRetries) {
    return { action: 'fail', outcome: last, reason: `${last}: ${rule.maxRetries} retries used` };
  }
  if (outcomes.length >= policy.maxAttempts) {
    return { action: 'fail', outcome: last, reason: `attempt cap of ${policy.maxAttempts} reached` };
  }
  return { action: 'retry', outcome: last, delayMs: rule.delayMs + policy.retryShiftMs };
}
