/**
 * Activity options as a few named profiles, each stated once. The Unpod client never retries by itself: reads
 * are retried here (429 with nextRetryDelay from Retry-After), creates by the call-task workflow.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/** The retry of everything that may be tried again and again: 1 s, doubling, to one every 30 s. */
const BACKOFF_1S_TO_30S = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
};

/**
 * Placing a call: ONE try. Unpod has no idempotency key, so whether a second create is safe depends on how the
 * first failed (placed: 'no' | 'maybe'); the call-task workflow decides, looking first when it may have landed.
 */
export const PLACING: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
};

/** Looking for a call a lost create placed: waits for it to land (≤ the landing delay), then lists. */
export const FINDING: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * Waiting for a call's end through the worker's watcher: as long as a call can live, and longer. Heartbeats, so
 * a worker that dies hands it to another within 30 s; retried without limit (an outage only delays the end).
 */
export const WATCHING: ActivityOptions = {
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '30 seconds',
  retry: BACKOFF_1S_TO_30S,
};

/** Reading a call, hanging up, the preflight: idempotent, retried for up to an hour of outage. */
export const POLLING: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: BACKOFF_1S_TO_30S,
};

/**
 * Starting a chunk of tasks: heartbeats after each start, so a worker that dies holding it hands the chunk to
 * another within seconds (the run grants nothing new meanwhile), not after the minute an attempt may take.
 */
export const STARTING: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds',
  retry: BACKOFF_1S_TO_30S,
};

/** Bookkeeping against Temporal itself (loading a contact batch). */
export const BOOKKEEPING: ActivityOptions = { startToCloseTimeout: '1 minute', retry: BACKOFF_1S_TO_30S };

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
