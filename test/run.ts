/**
 * `npm test`: starts ONE real Temporal server for the whole run, then runs node's test runner over the test files
 * with its address in TEMPORAL_TEST_ADDRESS (and its kind, `dev` or `cluster`, in TEMPORAL_TEST_SERVER).
 * Exit code is the runner's.
 *
 *   npm test                                  every test/*.test.ts except the chaos suite, on the dev server
 *                                             (CLI found or built by src/temporal/cli-binary.ts)
 *   npm test -- test/foo.test.ts              just those files
 *   npm test -- --cluster [files]             on the multi-service server with PostgreSQL (src/temporal/cluster.ts),
 *                                             data in .data/test-cluster-<pid>, removed afterwards
 *   TEMPORAL_TEST_ADDRESS=h:p npm test [...]  on a server already running there (namespace `default`, with the
 *                                             search attributes registered); TEMPORAL_TEST_SERVER=cluster if it
 *                                             is one. Not TEMPORAL_ADDRESS: that names the server the app uses,
 *                                             and the tests create, signal and terminate workflows freely.
 *
 * The chaos suite starts a server of its own (it restarts it); run alone, no shared server is started for it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startCluster } from '../src/temporal/cluster';
import { startDevServer } from '../src/temporal/dev-server';

/** On a cluster, continue-as-new.test.ts runs in this namespace, told to continue as new after 60 events. */
const EARLY_CONTINUE_AS_NEW_NAMESPACE = 'continue-as-new';
const EARLY_CONTINUE_AS_NEW_CONFIG = { 'limit.historyCount.suggestContinueAsNew': 60 };

interface SharedServer {
  address: string;
  kind: 'dev' | 'cluster';
  teardown(): Promise<void>;
}

async function sharedServer(cluster: boolean): Promise<SharedServer> {
  const external = process.env.TEMPORAL_TEST_ADDRESS;
  if (external) {
    const kind = process.env.TEMPORAL_TEST_SERVER === 'cluster' ? 'cluster' : 'dev';
    return { address: external, kind, teardown: async () => {} };
  }
  if (cluster) {
    const dataDir = path.join('.data', `test-cluster-${process.pid}`);
    const c = await startCluster({
      dataDir,
      extraNamespaces: { [EARLY_CONTINUE_AS_NEW_NAMESPACE]: EARLY_CONTINUE_AS_NEW_CONFIG },
    });
    return {
      address: c.address,
      kind: 'cluster',
      teardown: async () => {
        await c.stop();
        c.removeData();
      },
    };
  }
  const env = await startDevServer({ log: (l) => console.error(l) });
  return { address: env.address, kind: 'dev', teardown: () => env.teardown() };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const cluster = argv.includes('--cluster');
  const args = argv.filter((a) => a !== '--cluster');
  const files = args.length
    ? args
    : fs
        .readdirSync(__dirname)
        .filter((f) => f.endsWith('.test.ts') && !f.includes('chaos'))
        .sort()
        .map((f) => path.join('test', f));
  const onlyChaos = files.every((f) => f.includes('chaos'));
  const server: SharedServer | undefined = onlyChaos ? undefined : await sharedServer(cluster);
  const kind = server?.kind ?? (cluster ? 'cluster' : 'dev');
  if (server)
    console.error(`test: Temporal ${kind === 'cluster' ? 'cluster' : 'dev server'} at ${server.address}`);
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
        {
          stdio: 'inherit',
          env: {
            ...process.env,
            ...(server ? { TEMPORAL_TEST_ADDRESS: server.address } : {}),
            TEMPORAL_TEST_SERVER: kind,
            ...(cluster && !process.env.TEMPORAL_TEST_ADDRESS
              ? { TEMPORAL_TEST_CAN_NAMESPACE: EARLY_CONTINUE_AS_NEW_NAMESPACE }
              : {}),
          },
        },
      );
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      process.on('SIGINT', forward).on('SIGTERM', forward);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await server?.teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
