/**
 * Replays every recorded history under test/histories/ against today's workflow code: a change that breaks
 * determinism of a shipped workflow shape fails here (version such changes with `patched`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../src/worker/worker';
import {
  parseCallTaskWorkflowId,
  parseCampaignWorkflowId,
  parseContactBatchWorkflowId,
  parseLimiterWorkflowId,
} from '../workflows/ids';

const root = path.join(__dirname, 'histories');

/** Files are named by workflow id: a workflow's own id is part of what it computes, so replay needs it. */
function recorded(): { workflowId: string; file: string }[] {
  return fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ workflowId: path.basename(f, '.json'), file: path.join(root, f) }));
}

describe('replay of recorded histories', () => {
  it('has histories of every workflow type to replay', () => {
    const ids = recorded().map((r) => r.workflowId);
    assert.ok(
      ids.some((id) => parseCampaignWorkflowId(id)),
      'a recorded campaign history',
    );
    assert.ok(
      ids.some((id) => parseContactBatchWorkflowId(id)),
      'a recorded contact batch history',
    );
    assert.ok(
      ids.some((id) => parseCallTaskWorkflowId(id)),
      'a recorded call task history',
    );
    assert.ok(
      ids.some((id) => parseLimiterWorkflowId(id)),
      'a recorded account limiter history',
    );
  });

  it('replays every history without a nondeterminism error', async () => {
    const histories = recorded().map(({ workflowId, file }) => ({
      workflowId,
      history: JSON.parse(fs.readFileSync(file, 'utf8')),
    }));
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${String(r.error)}`);
      replayed++;
    }
    assert.equal(replayed, histories.length);
  });
});
