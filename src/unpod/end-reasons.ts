/**
 * Unpod's documented end reasons (shared/unpod-docs/call-lifecycle.txt). The docs say the set is not
 * complete, so every schema accepts any string and the policy treats unknown ones as a generic failure.
 */
export const END_REASONS = [
  'USER_HUNG_UP_IN_CALL',
  'USER_DID_NOT_PICK_UP',
  'USER_HUNG_UP_RINGING',
  'AGENT_HUNG_UP_SILENCE_DETECTED',
  'AGENT_HUNG_UP_VOICEMAIL_DETECTED',
  'VOICEMAIL_DETECTED_PRECONNECT',
  'MAX_DURATION_REACHED',
  'IDLE_TIMEOUT',
  'SIP_FAILED_WRONG_NUMBER',
  'SIP_FAILED_NUMBER_BLOCKED',
] as const;

export type KnownEndReason = (typeof END_REASONS)[number];

/** Visible call statuses, in lifecycle order. */
export const CALL_STATUSES = ['pending', 'ringing', 'active', 'completed', 'failed'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export function isTerminalCallStatus(status: CallStatus): boolean {
  return status === 'completed' || status === 'failed';
}
