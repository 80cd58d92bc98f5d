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

/**
 * A server that suggests continue-as-new after 60 history events (the default is 4,096): on the cluster that
 * test/run.ts started, its namespace with that one setting (TEMPORAL_TEST_CAN_NAMESPACE); else a dev server of
 * its own.
 */
export async function earlyContinueAsNewEnv(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  const namespace = process.env.TEMPORAL_TEST_CAN_NAMESPACE;
  if (address && namespace) return TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
  return startDevServer({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': '60' } });
}

/** A fresh task queue per test keeps workers of different tests apart on the shared server. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
