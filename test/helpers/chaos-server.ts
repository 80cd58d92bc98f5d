/**
 * The server of the chaos test and what "restart the server" means on it, chosen by TEMPORAL_TEST_SERVER (set by
 * test/run.ts): on the dev server, the whole process stops and starts again on the same port and database (the
 * client needs a new Connection); on the multi-service cluster (src/temporal/cluster.ts, its own PostgreSQL in
 * `dir`), the history service alone is stopped and started again while frontend, matching and worker keep
 * running (the client's connection to the frontend stays). The cluster's data goes under .data/ (as root,
 * PostgreSQL runs as the postgres user, which cannot enter a mkdtemp folder) and is removed at teardown.
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startCluster } from '../../src/temporal/cluster';

export interface ChaosServer {
  address: string;
  /** The current environment; a dev-server restart replaces it. */
  readonly env: TestWorkflowEnvironment;
  /** What a restart restarts, for the log. */
  what: string;
  restart(): Promise<TestWorkflowEnvironment>;
  teardown(): Promise<void>;
}

export async function startChaosServer(
  startDevServer: () => Promise<TestWorkflowEnvironment>,
): Promise<ChaosServer> {
  if (process.env.TEMPORAL_TEST_SERVER === 'cluster') {
    const dataDir = path.join('.data', `chaos-cluster-${process.pid}`);
    const cluster = await startCluster({ dataDir });
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cluster.address,
      namespace: cluster.namespace,
    });
    return {
      address: cluster.address,
      env,
      what: 'the history service',
      async restart() {
        await cluster.restartService('history');
        return env;
      },
      async teardown() {
        await env.teardown();
        await cluster.stop();
        cluster.removeData();
      },
    };
  }
  let env = await startDevServer();
  return {
    address: env.address,
    get env() {
      return env;
    },
    what: 'the dev server',
    async restart() {
      await env.teardown();
      await delay(1_000);
      env = await startDevServer();
      return env;
    },
    teardown: () => env.teardown(),
  };
}
