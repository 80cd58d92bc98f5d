/**
 * unpod-campaigns: the command line. `unpod-campaigns --help` lists the commands.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Client } from '@temporalio/client';
import type { CountryCode } from 'libphonenumber-js';
import { ConfigError, loadConfig, type Config } from '../config/config';
import { ContactFileError } from '../contacts';
import { loadPolicyFile, PolicyError } from '../campaign/policy-file';
import { parseTaskStatus, RunNotFoundError } from '../campaign/run-queries';
import type { RunSettings } from '../campaign/start-run';
import { startSimulator } from '../simulator';
import { connectClient } from '../temporal/connect';
import { runWorkerCommand } from '../worker/worker-command';
import { apiOptionsFromConfig } from '../http/api-v2';
import { startHttpServer } from '../http/serve';
import { DEFAULT_POLICY } from '../../workflows/policy';
import { isRunId } from '../../workflows/ids';
import { runDemo } from './demo';
import {
  CliError,
  controlCommand,
  exportCommand,
  retryCommand,
  startCommand,
  statusCommand,
  tasksCommand,
} from './run-commands';
import { registerScheduleCommands, timingOptions } from './schedule-commands';
import { runStackInForeground } from './stack';
import { limitsCommand, type LimitFlags } from './limits-command';
import {
  parseTiming,
  resolveDeadline,
  TimingOptionError,
  type TimingFlags,
} from '../campaign/timing-options';
import { PLANS } from '../campaign/limits';
import { msToNumber } from '@temporalio/common/lib/time';
import { campaignWindowProblem, MAX_CAMPAIGN_WINDOW } from '../temporal/server-limits';

/** The campaign window, kept under Temporal's pending-children limit (src/temporal/server-limits.ts). */
function windowArg(value: string): number {
  const n = positiveInt('--window')(value);
  const problem = campaignWindowProblem(n, '--window');
  if (problem) throw new InvalidArgumentError(problem);
  return n;
}

function positiveInt(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

function nonNegativeInt(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${flag} must be a whole number, got '${value}'`);
    return n;
  };
}

function durationMs(value: string): number {
  try {
    return msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    return Number.NaN;
  }
}

function runIdArg(value: string): string {
  if (!isRunId(value)) throw new CliError(`<runId> '${value}' is not a run id (R followed by 32 hex digits)`);
  return value;
}

async function withClient<T>(config: Config, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(config);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT')).once('SIGTERM', () => resolve('SIGTERM'));
  });
}

interface CampaignFlags {
  pipe?: string;
  agent?: string;
  account: string;
  space: string;
  policy?: string;
  window: number;
}

function runSettings(config: Config, f: CampaignFlags): RunSettings {
  return {
    accountId: f.account,
    spaceToken: f.space,
    call: { pipeId: f.pipe ?? config.unpod.pipeId, agentId: f.agent ?? config.unpod.agentId },
    policy: f.policy ? loadPolicyFile(f.policy) : DEFAULT_POLICY,
    window: f.window,
  };
}

function campaignOptions(cmd: Command): Command {
  return cmd
    .option('--pipe <id>', 'Unpod Speech Pipe to call from (default: UNPOD_PIPE_ID)')
    .option('--agent <id>', 'agent id for the calls (default: UNPOD_AGENT_ID)')
    .option('--account <id>', 'Unpod account whose plan limits apply', 'acct_default')
    .option('--space <token>', 'space token the run belongs to', 'space_default')
    .option('--policy <file>', 'retry policy JSON (see README)')
    .option('--window <n>', `most tasks open at once (at most ${MAX_CAMPAIGN_WINDOW})`, windowArg, 500);
}

export function buildProgram(config: () => Config): Command {
  const program = new Command('unpod-campaigns')
    .description('Durable outbound call campaigns for Unpod voice agents, on Temporal')
    .showHelpAfterError();

  program
    .command('up')
    .description(
      'run the embedded stack in the foreground: Temporal dev server, simulator, worker, HTTP server',
    )
    .action(() => runStackInForeground(config()));

  program
    .command('demo')
    .description('run a campaign over examples/contacts.csv on the embedded stack and print the outcome')
    .action(async () => {
      process.exitCode = await runDemo(config());
    });

  program
    .command('worker')
    .description(
      'run a worker against TEMPORAL_ADDRESS (or the embedded default address): stats on WORKER_METRICS_PORT ' +
        '(/metrics, /stats) and every WORKER_STATS_INTERVAL_MS; SIGTERM drains for WORKER_SHUTDOWN_GRACE_MS',
    )
    .action(() => runWorkerCommand(config()));

  program
    .command('server')
    .description('run the HTTP server (webhooks, health) against TEMPORAL_ADDRESS')
    .action(async () => {
      const c = config();
      const client = await connectClient(c);
      const http = await startHttpServer({
        temporal: client,
        taskQueue: c.temporal.taskQueue,
        webhookSecret: c.unpod.webhookSecret,
        host: c.http.host,
        port: c.http.port,
        api: apiOptionsFromConfig(c),
        cors: c.api.cors,
      });
      console.log(`HTTP server on ${http.url}`);
      await untilSignal();
      await http.close();
      await client.connection.close();
    });

  program
    .command('simulator')
    .description('run the Unpod simulator standalone')
    .option('--webhook-url <url>', 'where to POST call events', undefined)
    .action(async (o: { webhookUrl?: string }) => {
      const c = config();
      const sim = await startSimulator({
        host: c.env.SIMULATOR_HOST,
        port: c.env.SIMULATOR_PORT,
        speed: c.env.SIMULATOR_SPEED,
        webhookUrl: o.webhookUrl ?? `${c.http.publicUrl}/webhooks/unpod`,
        webhookSecret: c.unpod.webhookSecret,
        accounts: [
          {
            apiKey: c.env.SIMULATOR_API_KEY,
            accountId: 'acct_default',
            callsPerMinute: 60,
            tasksPerDay: 5000,
            concurrency: 10,
          },
        ],
        logger: true,
      });
      console.log(`Unpod simulator on ${sim.url} (ledger: ${sim.url}/_sim/ledger)`);
      await untilSignal();
      await sim.close();
    });

  timingOptions(
    campaignOptions(
      program
        .command('start <csv>')
        .description('validate a contact list and start a run over it')
        .option('--dry-run', 'validate and preview; start nothing')
        .option('--wait', 'show live progress until the run ends, then the outcome table')
        .option('--json', 'machine-readable output')
        .option('--region <CC>', 'default region for numbers without +country code (default: DEFAULT_REGION)')
        .option('--dnc <file>', 'do-not-call list (one number a line, or a CSV with a phone column)')
        .option('--rejects <file>', 'where rejected rows are written (default: <csv>.rejects.csv)')
        .option('--mean-call <duration>', 'mean call length for the estimate', (v) => {
          const ms = durationMs(v);
          if (!(ms > 0))
            throw new InvalidArgumentError(`--mean-call takes a duration such as 90s, got '${v}'`);
          return ms;
        }),
    ),
  ).action(
    async (
      csv: string,
      o: CampaignFlags &
        TimingFlags & {
          dryRun?: boolean;
          wait?: boolean;
          json?: boolean;
          region?: string;
          dnc?: string;
          rejects?: string;
          meanCall?: number;
        },
    ) => {
      const c = config();
      const region = (o.region ?? c.env.DEFAULT_REGION).toUpperCase();
      if (!/^[A-Z]{2}$/.test(region))
        throw new CliError(`--region must be a two-letter region such as US, got '${o.region}'`);
      let timing: ReturnType<typeof parseTiming>;
      try {
        timing = parseTiming(o);
      } catch (err) {
        if (err instanceof TimingOptionError) throw new CliError(err.message);
        throw err;
      }
      const deadline = timing.deadline ? resolveDeadline(timing.deadline, Date.now()) : undefined;
      const settings = { ...runSettings(c, o), ...timing.timing, ...(deadline ? { deadline } : {}) };
      const opts = {
        settings,
        region: region as CountryCode,
        doNotCall: o.dnc,
        remindBeforeMs: timing.remindBeforeMs,
        defaultTimezone: timing.timing.timezone,
        meanCallMs: o.meanCall,
        rejects: o.rejects,
        dryRun: o.dryRun,
        wait: o.wait,
        json: o.json,
      };
      if (o.dryRun) await startCommand(null, c.temporal.taskQueue, csv, opts);
      else await withClient(c, (client) => startCommand(client, c.temporal.taskQueue, csv, opts));
    },
  );

  program
    .command('limits <account>')
    .description("show an account's plan limits and their use; with options, change them live")
    .addOption(new Option('--plan <plan>', 'a preset').choices(Object.keys(PLANS)))
    .option('--calls-per-minute <n>', 'dials in any 60-second window', positiveInt('--calls-per-minute'))
    .option('--tasks-per-day <n>', "tasks counted per day, or 'unlimited'", (v) =>
      v === 'unlimited' ? null : positiveInt('--tasks-per-day')(v),
    )
    .option('--concurrency <n>', 'concurrent calls', positiveInt('--concurrency'))
    .option('--reserved <n>', 'concurrent slots kept free (e.g. for inbound)', nonNegativeInt('--reserved'))
    .option('--timezone <tz>', "the account's zone: its day resets at midnight there")
    .option('--json', 'machine-readable output')
    .action((account: string, o: LimitFlags) =>
      withClient(config(), (client) => limitsCommand(client, config().temporal.taskQueue, account, o)),
    );

  program
    .command('status <runId>')
    .description("a run's progress: counts by status, attempts, retries waiting, ETA")
    .option('--watch', 'follow until the run ends')
    .option('--json', 'machine-readable output')
    .action((runId: string, o: { watch?: boolean; json?: boolean }) =>
      withClient(config(), (client) => statusCommand(client, runIdArg(runId), o)),
    );

  program
    .command('tasks <runId>')
    .description("a run's contacts and where each stands")
    .option('--status <s>', 'only tasks in this status', parseTaskStatus)
    .option('--json', 'machine-readable output')
    .action((runId: string, o: { status?: ReturnType<typeof parseTaskStatus>; json?: boolean }) =>
      withClient(config(), (client) => tasksCommand(client, runIdArg(runId), o)),
    );

  for (const action of ['pause', 'resume'] as const) {
    program
      .command(`${action} <runId>`)
      .description(
        action === 'pause' ? 'stop starting tasks; tasks not yet dialing wait' : 'continue a paused run',
      )
      .action((runId: string) =>
        withClient(config(), (client) => controlCommand(client, runIdArg(runId), action)),
      );
  }
  program
    .command('cancel <runId>')
    .description('no new dials; calls in progress finish, or are hung up with --hangup')
    .option('--hangup', 'hang up calls in progress')
    .action((runId: string, o: { hangup?: boolean }) =>
      withClient(config(), (client) => controlCommand(client, runIdArg(runId), 'cancel', o.hangup === true)),
    );

  program
    .command('export <runId>')
    .description(
      'one row per contact: status, attempts, end reasons, call ids, duration, summary, transcript',
    )
    .addOption(new Option('--format <f>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action((runId: string, o: { format: 'csv' | 'json'; out?: string }) =>
      withClient(config(), (client) => exportCommand(client, runIdArg(runId), o)),
    );

  campaignOptions(
    program
      .command('retry <runId>')
      .description('a new run over the contacts of a finished run that ended failed, or unanswered')
      .option('--failed', 'contacts whose task failed')
      .option('--no-answer', 'contacts whose last call was not picked up')
      .option('--json', 'machine-readable output'),
  ).action(
    async (runId: string, o: CampaignFlags & { failed?: boolean; answer?: boolean; json?: boolean }) => {
      // commander turns --no-answer into answer=false.
      const noAnswer = o.answer === false;
      if (Boolean(o.failed) === noAnswer)
        throw new CliError('retry needs exactly one of --failed or --no-answer');
      const c = config();
      await withClient(c, (client) =>
        retryCommand(
          client,
          c.temporal.taskQueue,
          runIdArg(runId),
          noAnswer ? 'no-answer' : 'failed',
          runSettings(c, o),
          o.json,
        ),
      );
    },
  );

  registerScheduleCommands(program, { config, withClient, campaignOptions, runSettings });

  return program;
}

export async function main(argv = process.argv): Promise<void> {
  // `unpod-campaigns export … | head` closes our stdout early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  let cached: Config | undefined;
  const program = buildProgram(() => (cached ??= loadConfig()));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const known = [
      ConfigError,
      CliError,
      PolicyError,
      RunNotFoundError,
      ContactFileError,
      InvalidArgumentError,
    ];
    if (known.some((k) => err instanceof k)) {
      console.error(`error: ${(err as Error).message}`);
    } else {
      console.error(err);
    }
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
