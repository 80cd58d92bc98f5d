/**
 * The bare Temporal floor of the throughput bench (bench/throughput.ts): one workflow per item running one
 * activity that places the call and polls it to its end, the cheapest durable "workflow per contact".
 * Bundled by the bench's own worker, never by the product's (workflows/index.ts).
 */
import { proxyActivities } from '@temporalio/workflow';

export interface FloorActivities {
  callAndAwait(i: number): Promise<void>;
}

const { callAndAwait } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

export async function floorWorkflow(i: number): Promise<void> {
  await callAndAwait(i);
}
