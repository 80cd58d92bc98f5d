/**
 * The one Temporal fixture: connects to the dev server that test/run.ts started for the run
 * (TEMPORAL_TEST_ADDRESS), or starts one of its own when a file is run alone.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../../src/temporal/dev-server';

export async function testEnv(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (address) return TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
  return startDevServer();
}

/** A fresh task queue per test keeps workers of different tests apart on the shared server. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
