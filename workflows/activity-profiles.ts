/**
 * Activity options as a few named profiles, each stated once. Activity retries are the one retry layer: the
 * Unpod client never retries by itself. 429 and 5xx come back retryable (429 with nextRetryDelay from
 * Retry-After); 4xx validation errors come back non-retryable.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/** Placing a call: safe to retry because every attempt carries the same idempotency key. */
export const PLACING: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  scheduleToCloseTimeout: '6 hours',
};

/** Reading a call's state, and hanging up: idempotent. */
export const POLLING: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
};

/** Bookkeeping against Temporal itself (loading a contact batch). */
export const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/**
 * Telling a run's callback_url (a task ended, the run ended): the receiver may be down for a while, so it is
 * retried, but boundedly: at most 12 attempts (2 s doubling to one every 10 minutes: about an hour in all) and
 * never past 2 hours. A refused URL or a final 4xx is not retried at all. An event that still fails is logged
 * and dropped.
 */
export const CALLBACK: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 12,
  },
  scheduleToCloseTimeout: '2 hours',
};
