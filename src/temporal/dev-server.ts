/**
 * Starts the Temporal dev server through @temporalio/testing with an `existing-path` executable (the CLI that
 * cli-binary.ts found or built), with this project's search attributes registered. Used by `npm start`
 * (persistent, fixed ports) and by the tests (in memory, random port).
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { resolveTemporalCli } from './cli-binary';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file to persist to; in memory when unset. */
  dbFilename?: string;
  namespace?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Dynamic config set over DEV_SERVER_DYNAMIC_CONFIG (benchmarks compare settings with it). */
  dynamicConfig?: Record<string, string>;
  /** SQLite pragmas for a persisted server (the CLI accepts `journal_mode` and `synchronous`). */
  sqlitePragmas?: Record<string, string>;
}

/**
 * Dynamic config the dev server runs with: a cluster's defaults (the limits `npm run cluster` runs with, so the
 * tests meet them first: 2,000 pending children, signals and activities per execution, 10,240 / 51,200 history
 * events...), plus visibility answering soon after a write.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string> = {
  // Let visibility answer list queries soon after a write (tests and `status` read it). Not a limit.
  'system.forceSearchAttributesCacheRefreshOnRead': 'true',
  // The CLI raises this to 100 for its dev server; a cluster's default is 10 visibility requests per second.
  'frontend.namespaceRPS.visibility': '10',
};

export async function startDevServer(opts: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const cli = resolveTemporalCli(opts.env ?? process.env, opts.log);
  if (opts.dbFilename) fs.mkdirSync(path.dirname(path.resolve(opts.dbFilename)), { recursive: true });
  const extraArgs = [
    ...Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...opts.dynamicConfig }).flatMap(([k, v]) => [
      '--dynamic-config-value',
      `${k}=${v}`,
    ]),
    ...Object.entries(opts.sqlitePragmas ?? {}).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]),
  ];
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli.path } : undefined,
      ip: opts.ip ?? '127.0.0.1',
      port: opts.port,
      ui: opts.uiPort !== undefined,
      uiPort: opts.uiPort,
      dbFilename: opts.dbFilename,
      namespace: opts.namespace ?? 'default',
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs,
      log: { format: 'pretty', level: 'warn' },
    },
  });
}
