/**
 * Options of a run's preview (POST …/runs/preview/) beside the contact list: the calling window, the campaign's
 * zone, a deadline and a do-not-call list typed in — the same field names as POST …/runs/ (api-run-options.ts),
 * parsed by the timing parsers the CLI uses (src/campaign/timing-options.ts).
 */
import { Readable } from 'node:stream';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { parseTiming, resolveDeadline, TimingOptionError } from '../campaign/timing-options';
import type { CampaignTiming } from '../../workflows/definitions';
import { ContactFileError, loadDoNotCall, type IngestOptions } from '../contacts';
import { BadRequestError } from './errors';

export const runTimingShape = {
  call_days: z
    .string()
    .max(100)
    .optional()
    .describe("days contacts may be called, in their zone: mon-fri, 'mon,wed,fri', all"),
  call_hours: z
    .string()
    .max(40)
    .optional()
    .describe('hours contacts may be called, in their zone: 09:00-17:00'),
  blackout: z.string().max(2000).optional().describe('dates nobody is called: YYYY-MM-DD,YYYY-MM-DD'),
  zone: z.string().max(100).optional().describe('IANA zone for contacts whose row and number give none'),
  deadline: z
    .string()
    .max(100)
    .optional()
    .describe('ISO 8601 time with offset, or a duration after the start (8h); contacts not reached expire'),
  dnc: z
    .string()
    .max(1024 * 1024)
    .optional()
    .describe('numbers never to call, one a line (or comma-separated)'),
};

export type RunTimingFields = {
  [K in Exclude<keyof typeof runTimingShape, 'dnc'>]?: string | undefined;
} & {
  /** A text field (multipart), or the JSON body's array of numbers. */
  dnc?: string | readonly string[] | undefined;
};

export interface RunTimingResolved {
  timing: CampaignTiming;
  /** The zone of appointment times written without an offset. */
  defaultTimezone?: string;
}

/** The campaign timing of these fields (deadline resolved against `nowMs`); 400 naming the field at fault. */
export function runTimingFrom(f: RunTimingFields, nowMs = Date.now()): RunTimingResolved {
  try {
    const parsed = parseTiming({
      callDays: f.call_days || undefined,
      callHours: f.call_hours || undefined,
      blackout: f.blackout || undefined,
      zone: f.zone || undefined,
      deadline: f.deadline || undefined,
    });
    const deadline = parsed.deadline ? resolveDeadline(parsed.deadline, nowMs) : undefined;
    return {
      timing: { ...parsed.timing, ...(deadline ? { deadline } : {}) },
      ...(parsed.timing.timezone ? { defaultTimezone: parsed.timing.timezone } : {}),
    };
  } catch (err) {
    if (err instanceof TimingOptionError) {
      const field = /^--([a-z-]+)/.exec(err.message)?.[1];
      const name = field?.replace(/-/g, '_');
      throw new BadRequestError(
        'invalid_options',
        `invalid options: ${err.message.replace(/^--[a-z-]+/, name ?? 'timing')}`,
        name ? { field: name } : {},
      );
    }
    throw err;
  }
}

/** The typed-in do-not-call list as E.164 numbers; undefined when none was given. */
export async function doNotCallFrom(
  f: RunTimingFields,
  region: CountryCode,
): Promise<Set<string> | undefined> {
  const text = (typeof f.dnc === 'string' ? f.dnc : f.dnc?.join('\n'))?.trim();
  if (!text) return undefined;
  const lines = text
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    return await loadDoNotCall(Readable.from([lines.join('\n') + '\n']), region);
  } catch (err) {
    if (err instanceof ContactFileError)
      throw new BadRequestError('invalid_dnc', `dnc: ${err.message}`, { field: 'dnc' });
    throw err;
  }
}

/** Ingestion options of a run's list: region, the typed-in do-not-call list, zones from numbers. */
export async function ingestOptionsFor(
  f: RunTimingFields,
  region: CountryCode,
  batchSize?: number,
): Promise<IngestOptions> {
  return {
    defaultRegion: region,
    batchSize,
    doNotCall: await doNotCallFrom(f, region),
    // A row without a zone gets its number's where that has one (as the CLI does), so windows apply there.
    timezoneFromNumber: true,
    defaultTimezone: runTimingFrom(f).defaultTimezone,
  };
}
