/**
 * The CLI as a user runs it: spawned processes against a real Temporal dev server and a real worker. Errors a
 * user can cause print one line naming the flag, row, address or id and exit 1; a stack only with --debug.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { getProgress } from '../src/campaign/run-queries';
import { controlRun } from '../src/campaign/run-control';
import { contact, startTestStack, type TestStack } from './helpers/stack';

const ROOT = path.join(__dirname, '..');
// The sources, as `npm run cli` runs them (test/package.test.ts runs the installed package's bin).
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts');
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, DEBUG: '', TEMPORAL_ADDRESS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Exit 1 and exactly one `error: …` line (commander may add its one-line usage hint), no stack. */
function assertOneLineError(r: Ran, names: RegExp): void {
  assert.equal(r.code, 1, `exit code 1: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const errors = lines.filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, `one error line: ${r.stderr}`);
  assert.match(errors[0]!, names);
  assert.ok(
    lines.every((l) => l.startsWith('error: ') || l === '(add --help for usage)'),
    `nothing but the line: ${r.stderr}`,
  );
  assert.doesNotMatch(r.stderr, STACK_LINE);
}

describe('the CLI, spawned', { timeout: 600_000 }, () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  let stateDir: string;
  const noStack = fs.mkdtempSync(path.join(os.tmpdir(), 'unpod-cli-nostack-'));

  before(async () => {
    stack = await startTestStack();
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'unpod-cli-state-'));
    env = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      UNPOD_STATE_DIR: noStack,
    };
  });

  after(async () => {
    await stack?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.rmSync(noStack, { recursive: true, force: true });
  });

  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('with Temporal unreachable: one line naming the address, soon; the stack only with --debug', async () => {
    // A port nothing listens on (the state dir has no stack recorded).
    const unreachable = { UNPOD_STATE_DIR: noStack, TEMPORAL_DEV_SERVER_PORT: '1' };
    const r = await cli(['status', 'R40fe5eface1511f082ac156368e7acc4'], unreachable);
    assertOneLineError(r, /cannot reach Temporal at 127\.0\.0\.1:1\b/);
    // The connect gives up after 2.5 s; the rest is loading the program (slow only on a loaded machine).
    assert.ok(r.ms < 15_000, `gave up in ${r.ms} ms`);
    const d = await cli(['--debug', 'status', 'R40fe5eface1511f082ac156368e7acc4'], unreachable);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /error: cannot reach Temporal at 127\.0\.0\.1:1\b/);
    assert.match(d.stderr, STACK_LINE, 'a stack with --debug');
  });

  it('finds the stack `npm start` recorded in its state file (another terminal, port overrides)', async () => {
    fs.writeFileSync(
      path.join(stateDir, 'stack.json'),
      JSON.stringify({
        pid: process.pid,
        temporalAddress: stack.env.address,
        namespace: 'default',
        httpUrl: 'http://127.0.0.1:1',
        startedAt: new Date().toISOString(),
      }),
    );
    const r = await cli(['runs', '--limit', '1'], {
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      UNPOD_STATE_DIR: stateDir,
    });
    assert.equal(r.code, 0, r.stderr);
    // A file whose process is gone is ignored: then the default address is tried (and named).
    fs.writeFileSync(
      path.join(stateDir, 'stack.json'),
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        temporalAddress: stack.env.address,
        namespace: 'default',
        httpUrl: 'http://127.0.0.1:1',
        startedAt: new Date().toISOString(),
      }),
    );
    const stale = await cli(['runs'], {
      UNPOD_STATE_DIR: stateDir,
      TEMPORAL_DEV_SERVER_PORT: '',
      TEMPORAL_DEV_SERVER_IP: '',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    assertOneLineError(stale, /127\.0\.0\.1:1/);
  });

  it('limits: --tasks-per-day unlimited works; a bad --timezone is one line naming it', async () => {
    const account = `acct_cli_${stack.taskQueue}`;
    const r = await cli(['limits', account, '--tasks-per-day', 'unlimited', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { limits: { tasksPerDay: unknown } }).limits.tasksPerDay, null);
    assertOneLineError(
      await cli(['limits', account, '--timezone', 'Mars/Base'], env),
      /--timezone.*Mars\/Base/,
    );
    assertOneLineError(await cli(['limits', account, '--tasks-per-day', 'lots'], env), /--tasks-per-day/);
  });

  it('start: a bad --region, a missing --dnc file, a past --deadline, a missing list: one line each', async () => {
    const csv = path.join(ROOT, 'examples', 'contacts.csv');
    assertOneLineError(await cli(['start', csv, '--region', 'ZZ'], env), /--region 'ZZ'/);
    assertOneLineError(await cli(['start', csv, '--dnc', 'no-such-dnc.csv'], env), /--dnc no-such-dnc\.csv/);
    assertOneLineError(
      await cli(['start', csv, '--deadline', '2020-01-01T00:00:00Z'], env),
      /--deadline: .*already past/,
    );
    assertOneLineError(await cli(['start', 'no-such-list.csv'], env), /no-such-list\.csv: no such file/);
    assertOneLineError(await cli(['start', csv, '--policy', 'nonesuch'], env), /--policy nonesuch/);
  });

  it('start over a list whose every row is rejected starts no run: one line, as the API answers 400', async () => {
    const csv = path.join(stateDir, 'all-rejected.csv');
    fs.writeFileSync(csv, 'phone,name\nnot-a-number,Ann\n12,Bob\n');
    const r = await cli(['start', csv, '--rejects', path.join(stateDir, 'all-rejected.rejects.csv')], env);
    assertOneLineError(r, /no valid contact in 2 rows: nothing was started/);
    assert.doesNotMatch(r.stdout, /started/);
  });

  it('start --dry-run prints the estimate and checks the deadline', async () => {
    const csv = path.join(ROOT, 'examples', 'contacts.csv');
    const r = await cli(
      ['start', csv, '--dry-run', '--deadline', '1m', '--rejects', path.join(stateDir, 'r.csv')],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /contacts need at least \d/);
    assert.match(r.stderr, /warning: --deadline .* cannot be met/);
  });

  it('tasks --status: case-insensitive; a bad value is one line; a bad run id is one line naming it', async () => {
    const runId = await stack.run([contact('+14155553900', 1)]);
    for (let i = 0; i < 200 && (await getProgress(stack.env.client, runId)).state !== 'completed'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const ok = await cli(['tasks', runId, '--status', 'COMPLETED', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as unknown[]).length, 1);
    const attempts = (JSON.parse(ok.stdout) as { attempts: { permitGrantedAt?: unknown }[] }[])[0]!.attempts;
    assert.ok(attempts.length > 0);
    for (const at of attempts)
      if (at.permitGrantedAt !== undefined)
        assert.match(String(at.permitGrantedAt), /^\d{4}-\d{2}-\d{2}T/, 'times as ISO 8601 in --json');
    // The export keeps recording_url, cost and the list's own columns (the helper's contacts carry `clinic`).
    const exported = await cli(['export', runId, '--format', 'csv'], env);
    assert.equal(exported.code, 0, exported.stderr);
    const [record] = parse(exported.stdout, { columns: true }) as Record<string, string>[];
    for (const col of ['recording_url', 'cost', 'clinic'])
      assert.ok(col in record!, `export has ${col}: ${Object.keys(record!).join(',')}`);
    assert.equal(record!.clinic, 'Northside');
    assertOneLineError(await cli(['tasks', runId, '--status', 'bogus'], env), /--status.*bogus/);
    assertOneLineError(await cli(['status', 'R123'], env), /'R123' is not a run id/);
    assertOneLineError(
      await cli(['status', 'R00000000000000000000000000000000'], env),
      /run R0{32} not found/,
    );
  });

  it('runs: lists runs with their one state; --status filters by it', async () => {
    const done = await stack.run([contact('+14155553901', 1)], { spaceToken: `space_${stack.taskQueue}` });
    const canceled = await stack.run([contact('+14155553998', 1)], {
      spaceToken: `space_${stack.taskQueue}`,
    });
    await controlRun(stack.env.client, canceled, 'cancel', true);
    for (let i = 0; i < 300; i++) {
      const [a, b] = await Promise.all([
        getProgress(stack.env.client, done),
        getProgress(stack.env.client, canceled),
      ]);
      if (a.state === 'completed' && b.state === 'canceled') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const space = ['--space', `space_${stack.taskQueue}`];
    const all = await cli(['runs', ...space, '--json'], env);
    assert.equal(all.code, 0, all.stderr);
    const states = Object.fromEntries(
      (JSON.parse(all.stdout) as { runId: string; state: string }[]).map((r) => [r.runId, r.state]),
    );
    assert.deepEqual(states, { [done]: 'completed', [canceled]: 'canceled' });
    const only = await cli(['runs', ...space, '--status', 'canceled', '--json'], env);
    assert.deepEqual(
      (JSON.parse(only.stdout) as { runId: string }[]).map((r) => r.runId),
      [canceled],
    );
    const text = await cli(['runs', ...space], env);
    assert.match(text.stdout, new RegExp(`${canceled}\\s+canceled`));
    assertOneLineError(await cli(['runs', '--status', 'finished'], env), /--status.*finished/);
  });
});
