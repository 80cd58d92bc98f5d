/**
 * unpod-campaigns: the command line. `unpod-campaigns --help` lists the commands.
 */
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Client } from '@temporalio/client';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { DEFAULTS, loadConfig, type Config } from '../config/config';
import { packageVersion } from '../config/package-root';
import { resolvePolicy } from '../campaign/policy-file';
import { parseRunState, parseTaskStatus, type RunState } from '../campaign/run-queries';
import type { RunSettings } from '../campaign/start-run';
import { connectClient, temporalAddress } from '../temporal/connect';
import { DEFAULT_POLICY } from '../../workflows/policy';
import { isRunId } from '../../workflows/ids';
import { callbackSecretFor } from '../../activities/callbacks';
import {
  controlCommand,
  exportCommand,
  retryCommand,
  runsCommand,
  startCommand,
  statusCommand,
  tasksCommand,
} from './run-commands';
import { CliError, debugRequested, describeError, TemporalUnreachableError } from './errors';
import { readStackState } from './stack-state';
import type * as StackModule from './stack';
import type * as DemoModule from './demo';
import type * as WorkerCommandModule from '../worker/worker-command';
import type * as ApiV2Module from '../http/api-v2';
import type * as ServeModule from '../http/serve';
import type * as SimulatorModule from '../simulator';
import { registerScheduleCommands, timingOptions } from './schedule-commands';
import { limitsCommand, type LimitFlags } from './limits-command';
import { parseZone, resolveTiming, type TimingFlags } from '../campaign/timing-options';
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

/**
 * Loads a module when its command runs: `--version`, `status` and the other client commands then start without
 * loading the worker (webpack), the simulator or the HTTP server.
 */
function lazy<T>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(id) as T;
}

/** A CLI command gives up on an unreachable Temporal after this long (the error names the address). */
const CLI_CONNECT_TIMEOUT_MS = 2_500;

/**
 * Where the CLI finds Temporal: TEMPORAL_ADDRESS; else the dev server address when set in the environment;
 * else the address a running `npm start` recorded (src/cli/stack-state.ts); else the default 127.0.0.1:7233.
 */
export function cliTemporalAddress(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  if (config.temporal.address) return config.temporal.address;
  if (env.TEMPORAL_DEV_SERVER_PORT || env.TEMPORAL_DEV_SERVER_IP) return temporalAddress(config);
  return readStackState(env)?.temporalAddress ?? temporalAddress(config);
}

/** The address the last command connected to, for the one-line error if the connection is lost. */
let usedAddress: string | undefined;

async function withClient<T>(config: Config, fn: (client: Client) => Promise<T>): Promise<T> {
  const address = cliTemporalAddress(config);
  usedAddress = address;
  let client: Client;
  try {
    client = await connectClient(config, address, { connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw new TemporalUnreachableError(
      address,
      `no answer within ${CLI_CONNECT_TIMEOUT_MS / 1000} s: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** An option parser from a parse function that throws: commander reports the message as one line. */
function asOption<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function regionArg(value: string | undefined, fallback: string): CountryCode {
  const region = (value ?? fallback).toUpperCase();
  if (!/^[A-Z]{2}$/.test(region) || !isSupportedCountry(region))
    throw new CliError(
      `--region '${value ?? fallback}' is not a region libphonenumber knows (ISO 3166-1 alpha-2, e.g. US, IN, GB)`,
    );
  return region as CountryCode;
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
    policy: f.policy ? resolvePolicy(f.policy) : DEFAULT_POLICY,
    window: f.window,
  };
}

function campaignOptions(cmd: Command): Command {
  return cmd
    .option('--pipe <id>', 'Unpod Speech Pipe to call from (default: UNPOD_PIPE_ID)')
    .option('--agent <id>', 'agent id for the calls (default: UNPOD_AGENT_ID)')
    .option('--account <id>', 'Unpod account whose plan limits apply', DEFAULTS.account)
    .option('--space <token>', 'space token the run belongs to', 'space_default')
    .option(
      '--policy <file|preset>',
      'retry policy: a JSON file (see README), or a preset: default (retries after hours), demo (after seconds)',
    )
    .option(
      '--window <n>',
      `most tasks open at once (at most ${MAX_CAMPAIGN_WINDOW})`,
      windowArg,
      DEFAULTS.window,
    );
}

export function buildProgram(config: () => Config): Command {
  const program = new Command('unpod-campaigns')
    .description('Durable outbound call campaigns for Unpod voice agents, on Temporal')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print the stack of an error (also: DEBUG=1)')
    .showHelpAfterError('(add --help for usage)');

  program
    .command('up')
    .description(
      'run the embedded stack in the foreground: Temporal dev server, simulator, worker, HTTP server',
    )
    .action(async () => lazy<typeof StackModule>('./stack').runStackInForeground(config()));

  program
    .command('demo')
    .description('run a campaign over examples/contacts.csv on the embedded stack and print the outcome')
    .action(async () => {
      process.exitCode = await lazy<typeof DemoModule>('./demo').runDemo(config());
    });

  program
    .command('worker')
    .description(
      'run a worker against TEMPORAL_ADDRESS (or the embedded default address): stats on WORKER_METRICS_PORT ' +
        '(/metrics, /stats) and every WORKER_STATS_INTERVAL_MS; SIGTERM drains for WORKER_SHUTDOWN_GRACE_MS',
    )
    .action(async () =>
      lazy<typeof WorkerCommandModule>('../worker/worker-command').runWorkerCommand(config()),
    );

  program
    .command('server')
    .description('run the HTTP server (API, console, health, agent push) against TEMPORAL_ADDRESS')
    .action(async () => {
      const c = config();
      const { apiOptionsFromConfig } = lazy<typeof ApiV2Module>('../http/api-v2');
      const { startHttpServer } = lazy<typeof ServeModule>('../http/serve');
      const client = await connectClient(c);
      const http = await startHttpServer({
        temporal: client,
        taskQueue: c.temporal.taskQueue,
        agentPushSecret: c.agentPushSecret,
        host: c.http.host,
        port: c.http.port,
        api: apiOptionsFromConfig(c),
        cors: c.api.cors,
        ops: c.ops,
      });
      console.log(`HTTP server on ${http.url}`);
      await untilSignal();
      await http.close();
      await client.connection.close();
    });

  program
    .command('callback-secret <space>')
    .description("print the secret that signs this space's callbacks (derived from CALLBACK_SIGNING_SECRET)")
    .action((space: string) => {
      const secret = config().api.callbackSigningSecret;
      if (!secret) throw new CliError('CALLBACK_SIGNING_SECRET is not set: no callbacks are signed');
      console.log(callbackSecretFor(secret, space));
    });

  program
    .command('simulator')
    .description('run the Unpod simulator standalone')
    .option(
      '--agent-push-url <url>',
      'where the simulated agents POST their call_end push (AGENT_PUSH_SECRET signs it)',
    )
    .action(async (o: { agentPushUrl?: string }) => {
      const c = config();
      const { startSimulator } = lazy<typeof SimulatorModule>('../simulator');
      const sim = await startSimulator({
        host: c.env.SIMULATOR_HOST,
        port: c.env.SIMULATOR_PORT,
        speed: c.env.SIMULATOR_SPEED,
        ...(o.agentPushUrl && c.agentPushSecret
          ? { agentPush: { url: o.agentPushUrl, secret: c.agentPushSecret } }
          : {}),
        accounts: [
          {
            apiKey: c.env.SIMULATOR_API_KEY,
            accountId: DEFAULTS.account,
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
      const region = regionArg(o.region, c.env.DEFAULT_REGION);
      if (o.dnc && !fs.existsSync(o.dnc)) throw new CliError(`--dnc ${o.dnc}: no such file`);
      const timing = resolveTiming(o, Date.now());
      const settings = { ...runSettings(c, o), ...timing.settings };
      const opts = {
        settings,
        region,
        doNotCall: o.dnc,
        remindBeforeMs: timing.ingest.remindBefore,
        defaultTimezone: timing.ingest.defaultTimezone,
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
    .option('--tasks-per-day <n>', "tasks counted per day, or 'unlimited'", (v): number | 'unlimited' =>
      v.trim().toLowerCase() === 'unlimited' ? 'unlimited' : positiveInt('--tasks-per-day')(v),
    )
    .option('--concurrency <n>', 'concurrent calls', positiveInt('--concurrency'))
    .option('--reserved <n>', 'concurrent slots kept free (e.g. for inbound)', nonNegativeInt('--reserved'))
    .option(
      '--timezone <tz>',
      "the account's zone: its day resets at midnight there",
      asOption((v) => parseZone(v, '--timezone')),
    )
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
    .option('--status <s>', 'only tasks in this status', asOption(parseTaskStatus))
    .option('--json', 'machine-readable output')
    .action((runId: string, o: { status?: ReturnType<typeof parseTaskStatus>; json?: boolean }) =>
      withClient(config(), (client) => tasksCommand(client, runIdArg(runId), o)),
    );

  program
    .command('runs')
    .description('the runs, newest first: state, contacts, progress, ETA')
    .option('--space <token>', 'only the runs of this space')
    .option('--account <id>', 'only the runs of this account')
    .option('--status <state>', 'only runs in this state', asOption(parseRunState))
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 20)
    .option('--json', 'machine-readable output')
    .action((o: { space?: string; account?: string; status?: RunState; limit: number; json?: boolean }) =>
      withClient(config(), (client) => runsCommand(client, o)),
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
      .description('a new run over the contacts of a finished run that ended failed, unanswered or expired')
      .option('--failed', 'contacts whose task failed')
      .option('--no-answer', 'contacts whose last call was not picked up')
      .option('--expired', 'contacts not reached before the deadline (give the new run a new --deadline)')
      .option('--json', 'machine-readable output'),
  ).action(
    async (
      runId: string,
      o: CampaignFlags & { failed?: boolean; answer?: boolean; expired?: boolean; json?: boolean },
    ) => {
      // commander turns --no-answer into answer=false.
      const noAnswer = o.answer === false;
      const chosen = [o.failed === true, noAnswer, o.expired === true].filter(Boolean).length;
      if (chosen !== 1) throw new CliError('retry needs exactly one of --failed, --no-answer or --expired');
      const c = config();
      await withClient(c, (client) =>
        retryCommand(
          client,
          c.temporal.taskQueue,
          runIdArg(runId),
          noAnswer ? 'no-answer' : o.expired ? 'expired' : 'failed',
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
    if (debugRequested(argv)) console.error(err);
    console.error(`error: ${describeError(err, usedAddress)}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
