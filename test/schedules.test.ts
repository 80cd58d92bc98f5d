/**
 * Recurring runs on Temporal Schedules, through the real CLI commands against the real dev server: create (every
 * hour, so it never fires by itself), list (ours and the Temporal CLI's), describe, trigger → a run over the list
 * as it is at that moment whose contacts are called, pause / unpause, delete.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../src/config/config';
import { buildProgram } from '../src/cli/main';
import { getProgress, listTasks } from '../src/campaign/run-queries';
import type { ScheduleListItem, ScheduleView } from '../src/schedules/schedules';
import { findTemporalCli } from '../src/temporal/cli-binary';
import { batchContentsQuery } from '../workflows/definitions';
import { contactBatchWorkflowId } from '../workflows/ids';
import { startTestStack, type TestStack } from './helpers/stack';

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await delay(250);
  }
}

describe('schedules', () => {
  let stack: TestStack;
  let dir: string;
  let address: string;
  const id = `sched-${randomUUID().slice(0, 8)}`;

  /** Runs `unpod-campaigns …` in-process against the test server and task queue; returns what it printed. */
  async function cli(...args: string[]): Promise<string> {
    const env = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      DEFAULT_REGION: 'US',
    } as NodeJS.ProcessEnv;
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
    try {
      await buildProgram(() => loadConfig(env))
        .exitOverride()
        .parseAsync(['node', 'unpod-campaigns', ...args]);
    } finally {
      console.log = log;
    }
    return lines.join('\n');
  }

  before(async () => {
    stack = await startTestStack();
    address = stack.env.address;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schedules-'));
    fs.writeFileSync(
      path.join(dir, 'policy.json'),
      JSON.stringify({ pollInterval: '1s', maxCallDuration: '20s' }),
    );
  });
  after(async () => {
    await cli('schedule', 'delete', id).catch(() => undefined);
    await stack?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('create → list → describe → trigger (a run over the list as it is now, called) → pause/unpause → delete', async () => {
    const list = path.join(dir, 'contacts.csv');
    fs.writeFileSync(list, 'phone,name\n+14155550300,Only One\n');
    const created = await cli(
      'schedule',
      'create',
      '--id',
      id,
      '--every',
      '1h',
      '--source',
      list,
      '--pipe',
      'pipe_test',
      '--agent',
      'agent_test',
      '--space',
      'space_test',
      // One account limiter per test stack: it runs on this stack's task queue.
      '--account',
      `acct_${stack.taskQueue}`,
      '--policy',
      path.join(dir, 'policy.json'),
      '--window',
      '10',
      '--call-days',
      'all',
      '--zone',
      'America/New_York',
    );
    assert.match(created, new RegExp(`schedule ${id} created: every 1h`));

    // ours
    const mine = await eventually('schedule list shows it', async () => {
      const items = JSON.parse(await cli('schedule', 'list', '--json')) as ScheduleListItem[];
      return items.find((s) => s.id === id);
    });
    assert.equal(mine.paused, false);
    assert.equal(mine.spec, 'every 1h');
    assert.equal(mine.source, list);
    // the real Temporal CLI
    const temporal = findTemporalCli();
    assert.ok(temporal, 'the Temporal CLI is installed (src/temporal/cli-binary.ts)');
    await eventually('temporal schedule list shows it', async () => {
      const r = spawnSync(
        temporal.path,
        ['schedule', 'list', '--address', address, '--namespace', 'default'],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.includes(id) ? true : undefined;
    });

    let view = JSON.parse(await cli('schedule', 'describe', id, '--json')) as ScheduleView;
    assert.equal(view.overlap, 'skip', 'overlap defaults to skip');
    assert.deepEqual(view.recentRuns, [], 'every 1h: nothing has fired by itself');
    assert.ok(view.nextRunTimes.length >= 3);
    const next = Date.parse(view.nextRunTimes[0]!);
    assert.ok(next > Date.now() && next <= Date.now() + 3_600_000 + 5_000, view.nextRunTimes[0]);
    assert.equal(Date.parse(view.nextRunTimes[1]!) - next, 3_600_000);
    assert.deepEqual(view.input?.settings.callingWindow, {
      days: [0, 1, 2, 3, 4, 5, 6],
      start: '00:00',
      end: '00:00',
    });
    assert.equal(view.input?.settings.timezone, 'America/New_York');

    // The list changes after the schedule was made: the firing must read it as it is now.
    const phones = ['+14155550301', '+14155550302', '+14155550349'];
    fs.writeFileSync(
      list,
      ['phone,name', ...phones.map((p, i) => `${p},Contact ${i}`), 'not-a-number,Bad'].join('\n'),
    );
    assert.match(await cli('schedule', 'trigger', id), /triggered/);

    const runId = await eventually('the firing started a run', async () => {
      view = JSON.parse(await cli('schedule', 'describe', id, '--json')) as ScheduleView;
      return view.recentRuns[0]?.runId ?? undefined;
    });
    assert.equal(view.recentRuns.length, 1);
    const progress = await eventually(
      'the run completes',
      async () => {
        const p = await getProgress(stack.env.client, runId);
        return p.state === 'completed' ? p : undefined;
      },
      60_000,
    );
    assert.equal(progress.total, 3);
    assert.equal(progress.counts.completed, 3);
    const tasks = await listTasks(stack.env.client, runId);
    assert.deepEqual(tasks.map((t) => t.phone).sort(), phones);
    const dials = stack.simulator.ledger().dials.filter((d) => d.task_workflow_id?.includes(runId));
    assert.deepEqual(dials.map((d) => d.to_number).sort(), phones, 'each contact dialed once');
    // the firing's ingestion derived each contact's zone from its number (415: Los Angeles)
    const batch = await stack.env.client.workflow
      .getHandle(contactBatchWorkflowId(runId, 1))
      .query(batchContentsQuery);
    assert.deepEqual(
      batch.contacts.map((c) => c.timezone),
      phones.map(() => 'America/Los_Angeles'),
    );

    // describe: the last run with its run id, and the list's summary once the scheduled workflow is done
    view = await eventually('the scheduled workflow completes', async () => {
      const v = JSON.parse(await cli('schedule', 'describe', id, '--json')) as ScheduleView;
      return v.recentRuns[0]?.status === 'COMPLETED' ? v : undefined;
    });
    assert.equal(view.recentRuns[0]!.runId, runId);
    assert.deepEqual(
      [
        view.recentRuns[0]!.result?.valid,
        view.recentRuns[0]!.result?.rejected,
        view.recentRuns[0]!.result?.runState,
      ],
      [3, 1, 'COMPLETED'],
    );
    const text = await cli('schedule', 'describe', id);
    assert.match(text, new RegExp(runId));
    assert.match(text, /next runs:/);

    await cli('schedule', 'pause', id, '--note', 'holiday');
    view = JSON.parse(await cli('schedule', 'describe', id, '--json')) as ScheduleView;
    assert.equal(view.paused, true);
    assert.equal(view.note, 'holiday');
    await cli('schedule', 'unpause', id);
    view = JSON.parse(await cli('schedule', 'describe', id, '--json')) as ScheduleView;
    assert.equal(view.paused, false);

    assert.match(await cli('schedule', 'delete', id), /deleted/);
    await assert.rejects(cli('schedule', 'describe', id), /no schedule/);
  });

  it('refuses bad schedules before creating anything', async () => {
    const list = path.join(dir, 'contacts.csv');
    await assert.rejects(
      cli('schedule', 'create', '--id', `${id}-x`, '--every', '1h', '--cron', '0 9 * * *', '--source', list),
      /exactly one of --cron, --every or --calendar/,
    );
    await assert.rejects(
      cli(
        'schedule',
        'create',
        '--id',
        `${id}-x`,
        '--every',
        '1h',
        '--source',
        path.join(dir, 'missing.csv'),
      ),
      /no such file/,
    );
    await assert.rejects(
      cli('schedule', 'create', '--id', `${id}-x`, '--calendar', '{oops', '--source', list),
      /--calendar is not JSON/,
    );
    await assert.rejects(cli('schedule', 'describe', `${id}-x`), /no schedule/);
  });
});
