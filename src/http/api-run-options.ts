/**
 * The CLI's run options over HTTP (`POST …/runs/`): calling days/hours, blackout dates, zone, deadline,
 * remind-before, past-call-at and a do-not-call list, parsed by the same functions as `start`'s flags. Errors
 * are 400s naming the field.
 */
import { Readable } from 'node:stream';
import type { CountryCode } from 'libphonenumber-js';
import { ContactFileError, loadDoNotCall, type IngestOptions } from '../contacts';
import { resolveTiming, TimingOptionError, type TimingFlags } from '../campaign/timing-options';
import type { CampaignTiming } from '../../workflows/definitions';
import type { CreateRunOptions } from './api-schemas';
import { BadRequestError } from './errors';

const FIELD_NAMES: Record<keyof TimingFlags, string> = {
  callDays: 'call_days',
  callHours: 'call_hours',
  blackout: 'blackout',
  zone: 'zone',
  deadline: 'deadline',
  pastCallAt: 'past_call_at',
  remindBefore: 'remind_before',
};

export interface RunOptionExtras {
  settings: CampaignTiming;
  ingest: Pick<IngestOptions, 'doNotCall' | 'remindBefore' | 'defaultTimezone' | 'timezoneFromNumber'>;
}

/** `dnc`: the list's text (a multipart file part or field) or the JSON body's array of numbers. */
export async function runOptionExtras(
  o: CreateRunOptions,
  dnc: string | readonly string[] | undefined,
  region: CountryCode,
  nowMs = Date.now(),
): Promise<RunOptionExtras> {
  let timing: ReturnType<typeof resolveTiming>;
  try {
    timing = resolveTiming(
      {
        callDays: o.call_days,
        callHours: o.call_hours,
        blackout: o.blackout,
        zone: o.zone,
        deadline: o.deadline,
        pastCallAt: o.past_call_at,
        remindBefore: o.remind_before,
      },
      nowMs,
      FIELD_NAMES,
    );
  } catch (err) {
    if (err instanceof TimingOptionError) throw new BadRequestError('invalid_options', err.message);
    throw err;
  }
  let doNotCall: Set<string> | undefined;
  if (dnc !== undefined) {
    const text = typeof dnc === 'string' ? dnc : dnc.join('\n');
    try {
      doNotCall = await loadDoNotCall(Readable.from([text]), region);
    } catch (err) {
      if (err instanceof ContactFileError)
        throw new BadRequestError('invalid_dnc', `dnc: ${err.message.replace(/^do-not-call list: /, '')}`);
      throw err;
    }
  }
  return {
    settings: timing.settings,
    // As the CLI: a row without a zone gets its number's, where the country or area code has a single one.
    ingest: { ...timing.ingest, timezoneFromNumber: true, ...(doNotCall ? { doNotCall } : {}) },
  };
}
