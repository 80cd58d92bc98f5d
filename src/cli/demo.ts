/**
 * `npm run demo`: uses the running stack if `npm start` is up, else starts one in-process; runs a campaign over
 * examples/contacts.csv with short retry delays, shows live progress, prints the outcome table and exits 0.
 */
import path from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import { request } from 'undici';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEFAULTS, LOCAL_DEV_API_KEY, type Config } from '../config/config';
import { PACKAGE_ROOT } from '../config/package-root';
import { DEMO_POLICY } from '../campaign/policy-file';
import { listTasks } from '../campaign/run-queries';
import { connectClient } from '../temporal/connect';
import { table } from './output';
import { startCommand } from './run-commands';
import { describeStack, startStack, type RunningStack } from './stack';

const EXAMPLES = path.join(PACKAGE_ROOT, 'examples');

async function stackIsUp(config: Config): Promise<boolean> {
  try {
    const res = await request(`${config.http.publicUrl}/ready`, {
      headersTimeout: 1000,
      bodyTimeout: 1000,
      ...(config.ops.key ? { headers: { authorization: `Bearer ${config.ops.key}` } } : {}),
    });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

export async function runDemo(config: Config): Promise<number> {
  let stack: RunningStack | undefined;
  if (await stackIsUp(config)) {
    console.log(
      `using the stack already running at ${config.http.publicUrl} (console ${config.http.publicUrl}/console/)`,
    );
  } else {
    console.log('starting the embedded stack…');
    // Only errors from the SDK (the bundler's report, the simulator's unknown end reasons are expected here):
    // its chatter would interleave with the progress line.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    stack = await startStack(config, () => undefined);
    console.log(describeStack(stack, config));
  }
  const client = await connectClient(config, stack?.temporalAddress);
  try {
    const { runId } = await startCommand(
      client,
      config.temporal.taskQueue,
      path.join(EXAMPLES, 'contacts.csv'),
      {
        settings: {
          accountId: DEFAULTS.account,
          // The local key's space, so the run shows in the console signed in with that key.
          spaceToken: LOCAL_DEV_API_KEY.space,
          call: { pipeId: config.unpod.pipeId, agentId: config.unpod.agentId ?? 'clinic-reminder' },
          policy: DEMO_POLICY,
          window: 50,
        },
        region: config.env.DEFAULT_REGION as CountryCode,
        doNotCall: path.join(EXAMPLES, 'do-not-call.csv'),
        rejects: path.join(path.dirname(config.env.TEMPORAL_DB_FILE), 'demo.rejects.csv'),
        wait: true,
      },
    );
    if (!runId) throw new Error('demo: the run did not start');
    const tasks = await listTasks(client, runId);
    console.log('\nEvery contact:');
    console.log(
      table(
        tasks.map((t) => ({
          line: t.line,
          name: t.name ?? '',
          phone: t.phone,
          status: t.status,
          attempts: t.attempts.length,
          end_reasons: t.attempts.map((a) => a.endReason ?? '-').join(' → ') || (t.reason ?? ''),
        })),
      ),
    );
    console.log(
      stack
        ? `\nrun ${runId} finished; the demo's stack stops now (its data stays in ${config.env.TEMPORAL_DB_FILE}). ` +
            `With \`npm start\` running: npx unpod-campaigns export ${runId} --format csv`
        : `\nrun ${runId} finished. Try: npx unpod-campaigns export ${runId} --format csv`,
    );
    return 0;
  } finally {
    await client.connection.close();
    await stack?.stop();
  }
}
