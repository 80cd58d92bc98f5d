/**
 * Failure types of the call activities, one const map shared by activities (which throw them) and workflows
 * (which tell them apart), and what a failed create says about itself.
 */
export const FAILURE_TYPES = {
  /** Unpod refused this contact's call (a 4xx): nothing was dialed, and asking again will not change that. */
  rejected: 'UnpodRequestRejected',
  /** An outage, a timeout, a 429/5xx: worth asking again (after `retryAfterMs` when given). */
  unavailable: 'UnpodUnavailable',
  notFound: 'UnpodNotFound',
  /** A condition of the whole account (no number, agent unpublished, no runner, bad key): the run pauses. */
  accountBlocked: 'UnpodAccountBlocked',
  /** The campaign's permit ran out before the dial (lean protocol): nothing was sent; ask for another. */
  permitExpired: 'PermitExpired',
} as const;

export interface CreateFailureDetails {
  /** 'maybe': no answer came (or a 5xx after the body was sent) — a call may exist; look before creating again. */
  placed: 'no' | 'maybe';
  retryAfterMs?: number | undefined;
  /** For accountBlocked: which condition, and what to do about it in plain words. */
  block?: string;
  blockMessage?: string;
}
