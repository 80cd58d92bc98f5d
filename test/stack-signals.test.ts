/**
 * `npm start` as a process manager, `kill $!` and a terminal's Ctrl-C see it: real processes on free loopback
 * ports. SIGTERM to npm's pid alone, and SIGINT to the whole process group with a run in flight, must both leave
 * no process of the tree and no listening port within 15 s, stopping worker → HTTP → simulator → server.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FormData, request } from 'undici';
import { freePorts } from '../src/net/free-ports';

const ROOT = path.join(__dirname, '..');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every live descendant of `pid` (Linux /proc), the process itself included. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  ports: Record<'temporal' | 'ui' | 'simulator' | 'http' | 'metrics', number>;
  output: () => string;
  dir: string;
  /** The tree while up, for the cleanup of whatever a failed test leaves re-parented. */
  tree: number[];
}

const started: Started[] = [];

async function npmStart(): Promise<Started> {
  const [temporal, ui, simulator, http, metrics] = await freePorts(5);
  const ports = { temporal: temporal!, ui: ui!, simulator: simulator!, http: http!, metrics: metrics! };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unpod-stack-'));
  let out = '';
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    // Its own process group, as a shell gives a foreground job: a signal to -pid is the terminal's Ctrl-C.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: '',
      TEMPORAL_DEV_SERVER_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      TEMPORAL_DB_FILE: path.join(dir, 'temporal.sqlite'),
      SIMULATOR_PORT: String(ports.simulator),
      SIMULATOR_SPEED: '1',
      HTTP_PORT: String(ports.http),
      WORKER_METRICS_PORT: String(ports.metrics),
      UNPOD_STATE_DIR: dir,
      UNPOD_BASE_URL: '',
      UNPOD_API_KEY: '',
    },
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const s: Started = { child, ports, output: () => out, dir, tree: [] };
  started.push(s);
  const deadline = Date.now() + 180_000;
  while (!out.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up in 180 s:\n${out}`);
    await delay(250);
  }
  s.tree = processTree(child.pid!);
  return s;
}

/** Waits up to 15 s for every pid to be gone and every port to be closed; returns what is left. */
async function leftAfter(pids: number[], ports: number[]): Promise<{ pids: number[]; ports: number[] }> {
  const until = Date.now() + 15_000;
  for (;;) {
    const livePids = pids.filter(alive);
    const openPorts: number[] = [];
    for (const p of ports) if (await listening(p)) openPorts.push(p);
    if ((livePids.length === 0 && openPorts.length === 0) || Date.now() > until)
      return { pids: livePids, ports: openPorts };
    await delay(250);
  }
}

after(() => {
  for (const s of started) {
    // Whatever a failed test left behind: the tree and anything re-parented from it.
    for (const pid of new Set([...s.tree, ...processTree(s.child.pid!)])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

describe('npm start and signals', { timeout: 600_000 }, () => {
  test('SIGTERM to the pid of `npm start` alone stops every process and closes every port', async () => {
    const s = await npmStart();
    const tree = processTree(s.child.pid!);
    assert.ok(tree.length >= 3, `npm, node and the Temporal server run (${tree.length} processes)`);
    const ports = Object.values(s.ports);
    for (const p of [s.ports.temporal, s.ports.simulator, s.ports.http])
      assert.equal(await listening(p), true, `port ${p} listens while up`);
    // The worker's stats are served under npm start (README: /metrics and /stats on WORKER_METRICS_PORT).
    const stats = await request(`http://127.0.0.1:${s.ports.metrics}/stats`);
    const body = (await stats.body.json()) as Record<string, unknown>;
    assert.equal(stats.statusCode, 200);
    for (const k of [
      'in_flight',
      'capacity',
      'completed_last_hour',
      'failed_last_hour',
      'mean_call_duration_s',
    ])
      assert.ok(k in body, `/stats has ${k}`);
    const metrics = await request(`http://127.0.0.1:${s.ports.metrics}/metrics`);
    assert.match(await metrics.body.text(), /in_flight/);
    // Its addresses are recorded for the CLI in other terminals, and removed when it stops.
    const stateFile = path.join(s.dir, 'stack.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { temporalAddress: string };
    assert.equal(state.temporalAddress, `127.0.0.1:${s.ports.temporal}`);
    // Descendants in other process groups (a server started detached) count too: snapshot them all now.
    process.kill(s.child.pid!, 'SIGTERM');
    const left = await leftAfter(tree, ports);
    assert.deepEqual(left, { pids: [], ports: [] }, `left running after 15 s:\n${s.output()}`);
    assert.equal(fs.existsSync(stateFile), false, 'the state file is removed');
  });

  test('Ctrl-C (SIGINT to the process group) with a run in flight stops worker → HTTP → simulator → server', async () => {
    const s = await npmStart();
    const tree = processTree(s.child.pid!);
    // A run whose calls take a while (simulator at speed 1): work is in flight when the signal comes.
    const form = new FormData();
    form.append(
      'file',
      new Blob([fs.readFileSync(path.join(ROOT, 'examples', 'contacts.csv'))]),
      'contacts.csv',
    );
    const res = await request(`http://127.0.0.1:${s.ports.http}/api/v2/platform/spaces/space_default/runs/`, {
      method: 'POST',
      headers: { authorization: 'Token local-dev-key' },
      body: form,
    });
    const body = (await res.body.json()) as { data?: { run_id?: string } };
    assert.equal(res.statusCode, 201, JSON.stringify(body));
    const simLedger = async () => {
      const r = await request(`http://127.0.0.1:${s.ports.simulator}/_sim/ledger`);
      return (await r.body.json()) as { dials?: unknown[] };
    };
    const until = Date.now() + 60_000;
    while (((await simLedger()).dials?.length ?? 0) === 0) {
      assert.ok(Date.now() < until, 'a call is dialed within 60 s');
      await delay(250);
    }
    const signaledAt = Date.now();
    process.kill(-s.child.pid!, 'SIGINT');
    const left = await leftAfter(tree, Object.values(s.ports));
    assert.deepEqual(left, { pids: [], ports: [] }, `left running after 15 s:\n${s.output()}`);
    assert.ok(Date.now() - signaledAt < 15_000, 'stopped within 15 s');
    const out = s.output();
    const order = ['worker stopped', 'HTTP server stopped', 'simulator stopped', 'Temporal server stopped'];
    const at = order.map((line) => out.indexOf(line));
    assert.ok(
      at.every((i) => i >= 0),
      `every part says it stopped:\n${out}`,
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
      `stopped in the order ${order.join(' → ')}:\n${out}`,
    );
  });
});
