/**
 * Records the histories that test/replay.test.ts replays: one small campaign through the real stack (a retry,
 * a skipped row, a pause and resume, ends found by the watcher) and its account limiter, saved as JSON under test/histories/<label>/.
 * Re-record when a workflow changes shape on purpose (and version it with `patched`):
 *   npx tsx test/record-histories.ts <label>   (starts its own dev server; files are proto JSON, as `temporal workflow show -o json` writes)
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { getProgress, tasksQuery } from '../src/campaign/run-queries';
import { pauseSignal, resumeSignal } from '../workflows/definitions';
import { campaignWorkflowId, contactBatchWorkflowId, limiterWorkflowId } from '../workflows/ids';
import { contact, startTestStack } from './helpers/stack';

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'v1';
  const dir = path.join(__dirname, 'histories', label);
  fs.mkdirSync(dir, { recursive: true });
  const stack = await startTestStack();
  try {
    const outcomes = ['00', '50', '65', '75', '90', '95'];
    const fixed = outcomes.map((nn, i) => contact(`+1415555${10 + i}${nn}`, i + 2));
    const skipped = [
      { ...fixed[0]!, line: 9, skipReason: 'duplicate' as const, skipDetail: 'duplicate of line 2' },
    ];
    const runId = await stack.run(fixed, { skipped, batchSize: 3, window: 2 });
    const handle = stack.env.client.workflow.getHandle(campaignWorkflowId(runId));
    await handle.signal(pauseSignal);
    await delay(300);
    await handle.signal(resumeSignal);
    for (;;) {
      const p = await getProgress(stack.env.client, runId);
      if (p.state === 'completed') break;
      await delay(200);
    }
    const ids = [
      campaignWorkflowId(runId),
      contactBatchWorkflowId(runId, 1),
      limiterWorkflowId(`acct_${stack.taskQueue}`),
    ];
    for await (const info of stack.env.client.workflow.list({ query: tasksQuery(runId) }))
      ids.push(info.workflowId);
    for (const id of ids) {
      const history = await stack.env.client.workflow.getHandle(id).fetchHistory();
      // Named by workflow id: replay needs the real id (the task keys its permit requests on it).
      const file = path.join(dir, `${id}.json`);
      fs.writeFileSync(file, historyToJSON(history));
      console.log(`recorded ${file}`);
    }
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
