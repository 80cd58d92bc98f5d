/**
 * What a schedule's action carries: the contact source, read again at every firing, and the settings of the
 * runs it starts. Pure (types, two constants, isUrl): the workflow, the activity and the CLI share it.
 */
import type { CampaignTiming, RunSettings } from './definitions';

/** A deadline as given: absolute, or relative to the run's start (resolved when the run starts). */
export type DeadlineSpec = { at: string } | { afterMs: number };

/** The settings of each run a schedule starts (its run id and deadline are made per firing). */
export type ScheduledRunSettings = Omit<RunSettings, 'runId' | 'source'> & Omit<CampaignTiming, 'deadline'>;

export interface ScheduledCampaignInput {
  scheduleId: string;
  /** An absolute file path, or an http(s) URL fetched with undici and streamed through ingestion. */
  source: string;
  /** Region for numbers written without +country code. */
  region: string;
  /** Do-not-call list (path or URL), read at every firing too. */
  doNotCall?: string;
  settings: ScheduledRunSettings;
  /** Absolute, or counted from the firing. */
  deadline?: DeadlineSpec;
  /** remind_before for rows without one (ms). */
  remindBeforeMs?: number;
  /** Derive a contact's zone from its number when the list gives none (default true). */
  timezoneFromNumber?: boolean;
  /** Keep the scheduled workflow open until its run ends, so the overlap policy applies to runs (default true). */
  waitForRun?: boolean;
  /** How often the wait asks Temporal whether the run has ended (default 30 s; tests use less). */
  waitPollMs?: number;
}

export interface ScheduledRunResult {
  /** null when the list had no contact to call (no run started). */
  runId: string | null;
  source: string;
  rows: number;
  valid: number;
  skipped: number;
  rejected: number;
  /** The first rejects: line, column, reason. */
  rejects: { line: number; column: string | null; reason: string }[];
  /** The run's final state when the workflow waited for it. */
  runState?: string;
}

/** Memo key on each scheduled workflow holding the campaign run id it started. */
export const MEMO_CAMPAIGN_RUN_ID = 'campaignRunId';
/** Memo on schedules created by `unpod-campaigns schedule create`, so `schedule list` shows only those. */
export const MEMO_SCHEDULE_KIND = 'unpodCampaignSchedule';

/** An http(s) URL source (else a file path). */
export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}
