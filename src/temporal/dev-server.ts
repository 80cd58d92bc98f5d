/**
 * The Temporal dev server, with this project's search attributes registered. `spawnDevServer` runs the Temporal
 * CLI binary (cli-binary.ts finds or builds it) directly: what `npm start`, `demo` and an installed package use.
 * `startDevServer` goes through @temporalio/testing (a dev dependency: the tests and benches, in memory on a
 * random port, and the embedded stack's fallback in a checkout with no CLI binary, where the SDK downloads one).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from '@temporalio/client';
import type * as TestingPackage from '@temporalio/testing';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { resolveTemporalCli } from './cli-binary';
import { openConnection } from './connect';

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
  const { TestWorkflowEnvironment } = await loadTestingPackage();
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

/** @temporalio/testing, loaded only when used: an installed package does not carry it. */
async function loadTestingPackage(): Promise<typeof TestingPackage> {
  try {
    return await import('@temporalio/testing');
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' &&
      (err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND'
    )
      throw err;
    throw new Error(
      'no Temporal CLI found (TEMPORAL_CLI_PATH, `temporal` on PATH, the user cache) and Go is not there to ' +
        'build one: install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH or in ' +
        'TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to a running server',
    );
  }
}

/** A dev server process this program started and stops. */
export interface SpawnedDevServer {
  address: string;
  pid: number;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts the Temporal CLI's dev server as a child in its OWN process group (`detached`), so a terminal's Ctrl-C,
 * which signals the whole foreground group, does not reach it: the stack stops it last, after the worker has
 * drained (issue 14 item 7). Waits until its frontend answers. Returns undefined when no CLI binary is found or
 * built (then callers use startDevServer, which lets the SDK download its own).
 */
export async function spawnDevServer(
  opts: DevServerOptions & { readyTimeoutMs?: number },
): Promise<SpawnedDevServer | undefined> {
  const cli = resolveTemporalCli(opts.env ?? process.env, opts.log);
  if (!cli) return undefined;
  if (opts.dbFilename) fs.mkdirSync(path.dirname(path.resolve(opts.dbFilename)), { recursive: true });
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? 7233;
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    ...(opts.uiPort !== undefined ? ['--ui-port', String(opts.uiPort)] : ['--headless']),
    ...(opts.dbFilename ? ['--db-filename', opts.dbFilename] : []),
    '--namespace',
    opts.namespace ?? 'default',
    ...ALL_SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=Keyword`]),
    ...Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...opts.dynamicConfig }).flatMap(([k, v]) => [
      '--dynamic-config-value',
      `${k}=${v}`,
    ]),
    ...Object.entries(opts.sqlitePragmas ?? {}).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]),
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
  ];
  const readyBy = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  const first = await startOnce(cli.path, args, opts.env ?? process.env, ip, port, opts.namespace, readyBy);
  if ('pid' in first) return first;
  // A Go panic (exit 2) while starting: the CLI's own port picks race other processes (its UI goroutine
  // panics when the port it checked is taken before it binds). Once more; a second failure is reported.
  if (first.exitCode === 2) {
    opts.log?.(`the Temporal dev server panicked while starting (${first.summary}); starting it once more`);
    const second = await startOnce(
      cli.path,
      args,
      opts.env ?? process.env,
      ip,
      port,
      opts.namespace,
      readyBy,
    );
    if ('pid' in second) return second;
    throw exitedError(cli.path, second);
  }
  throw exitedError(cli.path, first);
}

interface EarlyExit {
  /** Its exit code, or the signal that ended it. */
  exitCode: number | NodeJS.Signals;
  /** The line that says why (see stderrSummary). */
  summary: string;
}

function exitedError(cliPath: string, exit: EarlyExit): Error {
  return new Error(`the Temporal dev server (${cliPath}) exited with ${exit.exitCode}: ${exit.summary}`);
}

/** One start: the running server, or how it exited before it answered. */
async function startOnce(
  cliPath: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ip: string,
  port: number,
  namespace: string | undefined,
  readyBy: number,
): Promise<SpawnedDevServer | EarlyExit> {
  const child = spawn(cliPath, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env });
  const stderr = new StderrKeeper();
  child.stderr!.on('data', (d: Buffer) => stderr.add(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // 'close' comes after 'exit', once stderr has delivered all it was given.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const address = `${ip}:${port}`;
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await closed;
      return { exitCode: child.exitCode ?? child.signalCode!, summary: stderrSummary(stderr.text()) };
    }
    if (await answers(ip, port, namespace ?? 'default')) break;
    if (Date.now() > readyBy) {
      await stop(0);
      throw new Error(
        `the Temporal dev server did not answer on ${address} within the timeout: ${stderrSummary(stderr.text())}`,
      );
    }
    await delay(200);
  }
  return { address, pid: child.pid!, stop };
}

/** The first 8 KB of a process's stderr (where a Go panic says why) and the last 4 KB. */
class StderrKeeper {
  private head = '';
  private tail = '';
  add(chunk: string): void {
    const room = 8_192 - this.head.length;
    if (room > 0) this.head += chunk.slice(0, room);
    if (chunk.length > room) this.tail = (this.tail + chunk.slice(Math.max(room, 0))).slice(-4_096);
  }
  text(): string {
    return this.tail ? `${this.head}\n…\n${this.tail}` : this.head;
  }
}

/**
 * The line of the dev server's stderr that says why it stopped: its last ERROR log line before a Go panic or
 * fatal error, then that panic's first line (its goroutine trace follows, kilobytes of it). A port taken while
 * it starts is logged as an ERROR and then panics in its shutdown (temporalio/cli#543): the ERROR says why.
 * Else its last ERROR line, else its first line.
 */
export function stderrSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const panicAt = lines.findIndex((l) => /^(panic|fatal error): /.test(l));
  const isError = (l: string) => /\blevel=(ERROR|FATAL)\b/.test(l);
  const errorLine = (panicAt >= 0 ? lines.slice(0, panicAt) : lines).filter(isError).at(-1);
  if (panicAt >= 0) return errorLine ? `${errorLine}; then ${lines[panicAt]}` : lines[panicAt]!;
  return errorLine ?? lines.find((l) => l !== '') ?? '(nothing on stderr)';
}

/** True when the frontend at ip:port serves the namespace with our search attributes registered. */
async function answers(ip: string, port: number, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await openConnection({ address: `${ip}:${port}`, connectTimeout: 1_000 });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return ALL_SEARCH_ATTRIBUTES.every((a) => customAttributes && a.name in customAttributes);
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
