/**
 * A task's statuses, in a module of their own that imports nothing, so that the web console bundles the very
 * list the workflows use (definitions.ts re-exports it for everything else).
 */

/** The visible statuses of the docs (pending, ringing, active, completed, failed) plus ours. */
export const TASK_STATUSES = [
  'pending',
  'ringing',
  'active',
  'completed',
  'failed',
  'skipped',
  'expired',
  'canceled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = [
  'completed',
  'failed',
  'skipped',
  'expired',
  'canceled',
];
