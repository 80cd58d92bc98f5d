/**
 * `npm test`: starts ONE real Temporal dev server for the whole run (CLI found or built by
 * src/temporal/cli-binary.ts, started through @temporalio/testing with an existing-path executable), then runs
 * node's test runner over the test files with its address in TEMPORAL_TEST_ADDRESS. Exit code is the runner's.
 *
 *   npm test                       every test/*.test.ts except the chaos suite
 *   npm test -- test/foo.test.ts   just those files
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startDevServer } from '../src/temporal/dev-server';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.length
    ? args
    : fs
        .readdirSync(__dirname)
        .filter((f) => f.endsWith('.test.ts') && !f.includes('chaos'))
        .sort()
        .map((f) => path.join('test', f));
  const env = await startDevServer({ log: (l) => console.error(l) });
  console.error(`test: Temporal dev server at ${env.address}`);
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
        { stdio: 'inherit', env: { ...process.env, TEMPORAL_TEST_ADDRESS: env.address } },
      );
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      process.on('SIGINT', forward).on('SIGTERM', forward);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await env.teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
