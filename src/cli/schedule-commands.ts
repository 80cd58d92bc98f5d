/**
 * `unpod-campaigns schedule create | list | describe | pause | unpause | trigger | delete`: recurring runs on
 * Temporal Schedules (src/schedules). Each firing reads --source at that moment and starts a run over it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/config';
import type { RunSettings } from '../campaign/start-run';
import {
  parseBlackout,
  parseDays,
  parseDeadline,
  parseHours,
  parsePastCallAt,
  parseRemindBefore,
  parseTiming,
  parseZone,
  type TimingFlags,
} from '../campaign/timing-options';
import {
  createCampaignSchedule,
  deleteCampaignSchedule,
  describeCampaignSchedule,
  listCampaignSchedules,
  OVERLAP_NAMES,
  pauseCampaignSchedule,
  triggerCampaignSchedule,
  unpauseCampaignSchedule,
  type OverlapName,
  type ScheduleView,
} from '../schedules/schedules';
import { isUrl } from '../../workflows/scheduled-input';
import { table } from './output';
import { CliError } from './run-commands';

/** What main.ts lends: its campaign options (as `start` has) and the client helper. */
export interface ScheduleCommandDeps<F> {
  config: () => Config;
  withClient: <T>(config: Config, fn: (client: Client) => Promise<T>) => Promise<T>;
  campaignOptions: (cmd: Command) => Command;
  runSettings: (config: Config, flags: F) => RunSettings;
}

/** Checks an option's value as commander parses it, so a bad value is reported before anything connects. */
function checked<T>(parse: (v: string) => T): (v: string) => string {
  return (v) => {
    try {
      parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(/^--[a-z-]+: /, ''));
    }
    return v;
  };
}

/** The calling-window and timing options of a campaign (values parsed by src/campaign/timing-options.ts). */
export function timingOptions(cmd: Command): Command {
  return cmd
    .option(
      '--call-days <days>',
      "days contacts may be called, in their zone: e.g. mon-fri, 'mon,wed,fri', all",
      checked(parseDays),
    )
    .option(
      '--call-hours <from-to>',
      'hours contacts may be called, in their zone: e.g. 09:00-17:00 (overnight: 20:00-02:00)',
      checked(parseHours),
    )
    .option(
      '--blackout <dates>',
      'dates nobody is called, in the contact zone: YYYY-MM-DD,YYYY-MM-DD',
      checked(parseBlackout),
    )
    .option(
      '--zone <tz>',
      'IANA zone for contacts whose row and number give none (default UTC; on schedule create: its --timezone)',
      checked(parseZone),
    )
    .option(
      '--deadline <when>',
      'tasks not reached by then end as expired: an ISO time, or a duration after each run starts (8h)',
      checked(parseDeadline),
    )
    .option(
      '--past-call-at <what>',
      "a contact's call time already past when the run starts: call (at once) or skip",
      checked(parsePastCallAt),
    )
    .option(
      '--remind-before <duration>',
      "call this long before each row's appointment_at when the row has no remind_before (24h, PT24H)",
      checked(parseRemindBefore),
    );
}

function resolveSource(value: string, flag: string): string {
  if (isUrl(value)) return value;
  const abs = path.resolve(value);
  if (!fs.existsSync(abs))
    throw new CliError(`${flag} ${value}: no such file (it is read again at every firing)`);
  return abs;
}

interface CreateFlags extends TimingFlags {
  id: string;
  cron?: string;
  every?: string;
  calendar?: string;
  timezone?: string;
  source: string;
  region?: string;
  dnc?: string;
  overlap: OverlapName;
  paused?: boolean;
  note?: string;
  zoneFromNumber: boolean;
  json?: boolean;
}

export function printSchedule(v: ScheduleView): void {
  console.log(`schedule ${v.id}: ${v.paused ? 'paused' : 'active'}, ${v.spec}, overlap ${v.overlap}`);
  console.log(`source ${v.source}`);
  if (v.note) console.log(`note: ${v.note}`);
  console.log(`actions taken ${v.actions}, skipped for overlap ${v.skippedActions}\n`);
  console.log('next runs:');
  console.log(v.nextRunTimes.length ? v.nextRunTimes.map((t) => `  ${t}`).join('\n') : '  (none)');
  console.log('\nrecent runs (newest first):');
  console.log(
    table(
      v.recentRuns.map((r) => ({
        fired: r.takenAt,
        run_id: r.runId ?? '',
        workflow: r.status,
        contacts: r.result
          ? `${r.result.valid} to call, ${r.result.skipped} skipped, ${r.result.rejected} rejected`
          : '',
        workflow_id: r.workflowId,
      })),
    ),
  );
}

export function registerScheduleCommands<F>(program: Command, deps: ScheduleCommandDeps<F>): Command {
  const schedule = program
    .command('schedule')
    .description(
      'recurring runs on Temporal Schedules: each firing reads the list at that moment and calls it',
    );

  timingOptions(
    deps.campaignOptions(
      schedule
        .command('create')
        .description('create a schedule whose every firing starts a run over --source')
        .requiredOption('--id <id>', 'schedule id (letters, digits, . _ -)')
        .option('--cron <expr>', "cron expression, e.g. '0 9 * * mon-fri'")
        .option('--every <duration>', 'a fixed interval, e.g. 1h, 1 day')
        .option(
          '--calendar <json>',
          'Temporal calendar spec(s) as JSON, e.g. {"hour":9,"dayOfWeek":"MONDAY"}',
        )
        .option(
          '--timezone <tz>',
          'IANA zone of --cron and --calendar times (default UTC); also the default --zone',
          checked(parseZone),
        )
        .requiredOption(
          '--source <file-or-url>',
          'contact list: a CSV file (read by the worker) or an http(s) URL',
        )
        .option('--region <CC>', 'default region for numbers without +country code (default: DEFAULT_REGION)')
        .option('--dnc <file-or-url>', 'do-not-call list, read at every firing too')
        .addOption(
          new Option('--overlap <policy>', 'when a firing comes while the last run is still going')
            .choices(OVERLAP_NAMES)
            .default('skip'),
        )
        .option('--paused', 'create it paused')
        .option('--note <text>', 'a note shown by describe')
        .option('--no-zone-from-number', "do not derive a contact's zone from its number")
        .option('--json', 'machine-readable output'),
    ),
  ).action(async (o: CreateFlags & F) => {
    const c = deps.config();
    const region = (o.region ?? c.env.DEFAULT_REGION).toUpperCase();
    if (!/^[A-Z]{2}$/.test(region))
      throw new CliError(`--region must be a two-letter region such as US, got '${o.region}'`);
    const timing = parseTiming({ ...o, zone: o.zone ?? o.timezone });
    const source = resolveSource(o.source, '--source');
    const input = {
      source,
      region,
      ...(o.dnc ? { doNotCall: resolveSource(o.dnc, '--dnc') } : {}),
      settings: { ...deps.runSettings(c, o), ...timing.timing },
      ...(timing.deadline ? { deadline: timing.deadline } : {}),
      ...(timing.remindBeforeMs !== undefined ? { remindBeforeMs: timing.remindBeforeMs } : {}),
      timezoneFromNumber: o.zoneFromNumber,
    };
    const created = await deps.withClient(c, (client) =>
      createCampaignSchedule(client, c.temporal.taskQueue, {
        id: o.id,
        timing: { cron: o.cron, every: o.every, calendar: o.calendar, timezone: o.timezone },
        overlap: o.overlap,
        paused: o.paused,
        note: o.note,
        input,
      }),
    );
    if (o.json) console.log(JSON.stringify({ id: created.id, spec: created.spec, source }, null, 2));
    else console.log(`schedule ${created.id} created: ${created.spec}, over ${source}`);
  });

  schedule
    .command('list')
    .description('the campaign schedules: state, spec, next and last run')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const c = deps.config();
      const items = await deps.withClient(c, (client) => listCampaignSchedules(client));
      if (o.json) console.log(JSON.stringify(items, null, 2));
      else
        console.log(
          table(
            items.map((s) => ({
              id: s.id,
              state: s.paused ? 'paused' : 'active',
              spec: s.spec,
              next_run: s.nextRunAt ?? '',
              last_run: s.lastRunAt ?? '',
              source: s.source,
            })),
          ),
        );
    });

  schedule
    .command('describe <id>')
    .description('a schedule: its next run times and its last runs with their run ids')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const c = deps.config();
      const v = await deps.withClient(c, (client) => describeCampaignSchedule(client, id));
      if (o.json) console.log(JSON.stringify(v, null, 2));
      else printSchedule(v);
    });

  for (const action of ['pause', 'unpause'] as const) {
    schedule
      .command(`${action} <id>`)
      .description(action === 'pause' ? 'stop firing until unpaused' : 'fire again on the schedule')
      .option('--note <text>', 'why (shown by describe)')
      .action(async (id: string, o: { note?: string }) => {
        const c = deps.config();
        await deps.withClient(c, (client) =>
          action === 'pause'
            ? pauseCampaignSchedule(client, id, o.note)
            : unpauseCampaignSchedule(client, id, o.note),
        );
        console.log(`schedule ${id} ${action}d`);
      });
  }

  schedule
    .command('trigger <id>')
    .description("fire now: start a run over the list as it is now (the schedule's overlap policy applies)")
    .addOption(new Option('--overlap <policy>', 'overlap policy for this firing only').choices(OVERLAP_NAMES))
    .action(async (id: string, o: { overlap?: OverlapName }) => {
      const c = deps.config();
      await deps.withClient(c, (client) => triggerCampaignSchedule(client, id, o.overlap));
      console.log(`schedule ${id} triggered (see: unpod-campaigns schedule describe ${id})`);
    });

  schedule
    .command('delete <id>')
    .description('delete a schedule (runs it started go on)')
    .action(async (id: string) => {
      const c = deps.config();
      await deps.withClient(c, (client) => deleteCampaignSchedule(client, id));
      console.log(`schedule ${id} deleted`);
    });

  return schedule;
}
