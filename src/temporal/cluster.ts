/**
 * A real multi-service Temporal server on this machine: PostgreSQL (on a free loopback port, data under
 * `.data/`), the temporal and temporal_visibility schemas created and updated with the server's schema tool,
 * then frontend, history, matching and worker as four separate `server start --service X` processes with a
 * written config and NO dynamic config file (the server's defaults: 2,000 pending children, signals and
 * activities per execution, 10,240 / 51,200 history events, 10 visibility requests per second...).
 *
 * `npm run cluster` runs it in the foreground and prints the TEMPORAL_ADDRESS; Ctrl-C / SIGTERM stops the
 * services in reverse order (worker, frontend, matching, history), then PostgreSQL. test/run.ts --cluster and
 * the benches start it through startCluster().
 *
 * The server (`go.temporal.io/server/cmd/server`) and its schema tool (`cmd/tools/sql`) are found or built like
 * the CLI (cli-binary.ts): TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH, else the user cache, else `go install`
 * into it. PostgreSQL's binaries come from POSTGRES_BIN_DIR, /usr/lib/postgresql/<newest>/bin, or the folder of
 * `pg_ctl` on PATH. PostgreSQL refuses to run as root: as root, initdb, pg_ctl and psql run as the `postgres`
 * user (`runuser -u postgres`), which then owns the data folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { freePorts } from '../net/free-ports';
import { openConnection } from './connect';
import { goInstallInto, isExecutable, onPath, userCacheRoot } from './cli-binary';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';
/** Small, and stated in the README with the figures measured on it. */
export const DEFAULT_HISTORY_SHARDS = 4;
/** Start order; they stop in reverse. */
export const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

type Log = (line: string) => void;

export interface ClusterOptions {
  /** Holds postgres/, config/ and logs/. Default `.data/cluster`. */
  dataDir?: string;
  /** Frontend gRPC port on 127.0.0.1; default a free one. */
  port?: number;
  numHistoryShards?: number;
  namespace?: string;
  /**
   * More namespaces, each with dynamic config constrained to it alone (e.g. a test namespace that is told to
   * continue as new early). The main namespace keeps every default: without these no dynamic config file is
   * written at all.
   */
  extraNamespaces?: Record<string, Record<string, number | string | boolean>>;
  /** Aborting it while the cluster starts stops what has started and rejects. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

export interface RunningCluster {
  /** `127.0.0.1:<port>`: what to put in TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  dataDir: string;
  numHistoryShards: number;
  postgres: { port: number; dataDir: string; version: string };
  /** The processes of the services and of PostgreSQL (postmaster and its backends now), for CPU readings. */
  pids(): number[];
  /** Stops one service (SIGTERM, SIGKILL after a grace) and starts it again on the same ports. */
  restartService(name: ServiceName): Promise<void>;
  /** Services in reverse start order, then PostgreSQL. Safe to call twice. */
  stop(): Promise<void>;
  /** After stop(): deletes the data folder (and PostgreSQL's, where that had to live elsewhere). */
  removeData(): void;
}

// ---------- binaries ----------

export function serverCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheRoot(env), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

function resolveGoBinary(
  envVar: string,
  pkg: string,
  binary: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): string {
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${envVar}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const dir = serverCacheDir(env);
  const cached = path.join(dir, binary);
  if (isExecutable(cached)) return cached;
  const built = goInstallInto(
    { pkg, version: TEMPORAL_SERVER_VERSION, binary, dir, label: 'cluster' },
    env,
    log,
  );
  if (!built)
    throw new Error(`cluster: ${pkg}@${TEMPORAL_SERVER_VERSION} is not in ${dir} and could not be built`);
  return built;
}

/** The Temporal server binary and its SQL schema tool, found or built (one after the other: 2 cores). */
export function resolveClusterBinaries(
  env: NodeJS.ProcessEnv = process.env,
  log: Log = console.error,
): { server: string; sqlTool: string } {
  const server = resolveGoBinary('TEMPORAL_SERVER_PATH', `${SERVER_MODULE}/cmd/server`, 'server', env, log);
  const sqlTool = resolveGoBinary(
    'TEMPORAL_SQL_TOOL_PATH',
    `${SERVER_MODULE}/cmd/tools/sql`,
    'sql',
    env,
    log,
  );
  return { server, sqlTool };
}

/**
 * The versioned PostgreSQL v12 schema folders shipped in the server's module source (in the Go module cache once
 * the server was built; `go mod download` fetches it otherwise). undefined without Go: the tool's embedded copy
 * of the same files is used then.
 */
export function schemaRoot(
  env: NodeJS.ProcessEnv = process.env,
  log: Log = console.error,
): string | undefined {
  if (!onPath('go', env)) return undefined;
  const gomodcache = spawnSync('go', ['env', 'GOMODCACHE'], { env, encoding: 'utf8' }).stdout.trim();
  let dir = path.join(gomodcache, `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (!fs.existsSync(dir)) {
    const r = spawnSync('go', ['mod', 'download', '-json', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], {
      env,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      log(`cluster: go mod download ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} failed: ${r.stderr}`);
      return undefined;
    }
    dir = (JSON.parse(r.stdout) as { Dir: string }).Dir;
  }
  const root = path.join(dir, 'schema', 'postgresql', 'v12');
  return fs.existsSync(path.join(root, 'temporal', 'versioned')) ? root : undefined;
}

// ---------- PostgreSQL ----------

export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  if (env.POSTGRES_BIN_DIR) candidates.push(env.POSTGRES_BIN_DIR);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debian, v, 'bin')));
  }
  const pgCtl = onPath('pg_ctl', env);
  if (pgCtl) candidates.push(path.dirname(fs.realpathSync(pgCtl)));
  const found = candidates.find(
    (d) => isExecutable(path.join(d, 'initdb')) && isExecutable(path.join(d, 'pg_ctl')),
  );
  if (!found) {
    throw new Error(
      'cluster: PostgreSQL is not installed (no initdb/pg_ctl in POSTGRES_BIN_DIR, /usr/lib/postgresql/*/bin or ' +
        'on PATH); install it, e.g. `apt-get install postgresql`',
    );
  }
  return found;
}

const isRoot = () => process.getuid?.() === 0;
const PG_USER = 'postgres';

/** As root, the command runs as the postgres user (PostgreSQL refuses root). */
function asPgUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', PG_USER, '--', cmd, ...args]] : [cmd, args];
}

function run(
  cmd: string,
  args: string[],
  what: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env, cwd: opts.cwd });
  if (r.status !== 0) {
    throw new Error(
      `cluster: ${what} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim()}`,
    );
  }
  return r.stdout;
}

function chownToPgUser(p: string): void {
  if (isRoot()) run('chown', ['-R', `${PG_USER}:`, p], `chown ${p} to ${PG_USER}`);
}

/** As root: can the postgres user enter (and so reach below) dir? A folder under /root, say, it cannot. */
function pgUserCanUse(dir: string): boolean {
  if (!isRoot()) return true;
  return spawnSync('runuser', ['-u', PG_USER, '--', 'test', '-x', dir]).status === 0;
}

/**
 * `<dataDir>/postgres`, unless we are root and the postgres user cannot enter dataDir (a checkout under /root,
 * say): then a folder of its own under the temp dir, named after dataDir so the next start finds it again.
 */
function postgresDir(dataDir: string, log: Log): string {
  const wanted = path.join(dataDir, 'postgres');
  if (pgUserCanUse(dataDir)) return wanted;
  const hash = crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `unpod-campaigns-postgres-${hash}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  log(`cluster: the ${PG_USER} user cannot enter ${dataDir}, so PostgreSQL keeps its data in ${dir}`);
  return dir;
}

class Postgres {
  readonly bin: string;
  readonly root: string;
  readonly data: string;
  readonly socketDir: string;
  readonly logFile: string;
  port = 0;

  constructor(
    dir: string,
    env: NodeJS.ProcessEnv,
    private readonly log: Log,
  ) {
    this.bin = postgresBinDir(env);
    this.root = dir;
    this.data = path.join(dir, 'data');
    this.socketDir = path.join(dir, 'socket');
    this.logFile = path.join(dir, 'postgres.log');
  }

  private pg(tool: string, args: string[], what: string): string {
    const [cmd, a] = asPgUser(path.join(this.bin, tool), args);
    return run(cmd, a, what, { cwd: '/' });
  }

  version(): string {
    return this.pg('postgres', ['--version'], 'postgres --version').trim();
  }

  /** initdb once (scram-sha-256 on loopback with the given password; local socket trusted for psql). */
  init(password: string): boolean {
    fs.mkdirSync(this.socketDir, { recursive: true });
    if (fs.existsSync(path.join(this.data, 'PG_VERSION'))) return false;
    const pwfile = path.join(this.root, '.pwfile');
    fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    chownToPgUser(this.root);
    try {
      this.log(
        `cluster: initdb ${this.data}${isRoot() ? ` (as the ${PG_USER} user: PostgreSQL refuses root)` : ''}`,
      );
      this.pg(
        'initdb',
        [
          '-D',
          this.data,
          '-U',
          'temporal',
          `--pwfile=${pwfile}`,
          '--auth-host=scram-sha-256',
          '--auth-local=trust',
          '-E',
          'UTF8',
          '--locale=C',
        ],
        'initdb',
      );
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
    return true;
  }

  start(port: number): void {
    this.port = port;
    chownToPgUser(this.root);
    // A run killed hard may have left it running: stop it first (it is our own data folder).
    const [scmd, sargs] = asPgUser(path.join(this.bin, 'pg_ctl'), ['-D', this.data, 'status']);
    if (spawnSync(scmd, sargs, { cwd: '/' }).status === 0) this.stop();
    const opts = [
      `-p ${port}`,
      `-k ${this.socketDir}`,
      "-c listen_addresses='127.0.0.1'",
      // Four services with their own pools (the default store's maxConns 20 each) and the schema tool.
      '-c max_connections=200',
    ].join(' ');
    this.pg(
      'pg_ctl',
      ['-D', this.data, '-l', this.logFile, '-w', '-t', '60', '-o', opts, 'start'],
      `pg_ctl start (log: ${this.logFile})`,
    );
  }

  stop(): void {
    const [cmd, args] = asPgUser(path.join(this.bin, 'pg_ctl'), [
      '-D',
      this.data,
      '-m',
      'fast',
      '-w',
      'stop',
    ]);
    spawnSync(cmd, args, { cwd: '/', stdio: 'ignore' });
  }

  /** The postmaster (first line of postmaster.pid) and its children. */
  pids(): number[] {
    let main: number;
    try {
      main = Number(fs.readFileSync(path.join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return [];
    }
    const children: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === main)
          children.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return [main, ...children];
  }

  /** psql over the local socket as the temporal superuser; returns the rows' text. */
  query(sql: string): string {
    return this.pg(
      'psql',
      ['-h', this.socketDir, '-p', String(this.port), '-U', 'temporal', '-d', 'postgres', '-tA', '-c', sql],
      `psql ${sql}`,
    ).trim();
  }
}

// ---------- ports, config ----------

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

interface ServicePorts {
  grpc: number;
  membership: number;
  http?: number;
}

/** Dynamic config with every value constrained to one namespace (the server's defaults hold everywhere else). */
function namespacedDynamicConfig(extra: Record<string, Record<string, number | string | boolean>>): string {
  const byKey = new Map<string, string[]>();
  for (const [ns, values] of Object.entries(extra)) {
    for (const [key, value] of Object.entries(values)) {
      const entry = `  - value: ${JSON.stringify(value)}\n    constraints:\n      namespace: ${JSON.stringify(ns)}`;
      byKey.set(key, [...(byKey.get(key) ?? []), entry]);
    }
  }
  return [...byKey].map(([key, entries]) => `${key}:\n${entries.join('\n')}\n`).join('');
}

function serverConfig(o: {
  shards: number;
  dynamicConfigFile: string | undefined;
  pgPort: number;
  password: string;
  ports: Record<ServiceName, ServicePorts>;
}): string {
  const store = (db: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "127.0.0.1:${o.pgPort}"
        connectProtocol: "tcp"
        user: "temporal"
        password: "${o.password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: ServiceName) => {
    const p = o.ports[name];
    return `
  ${name}:
    rpc:
      grpcPort: ${p.grpc}
      membershipPort: ${p.membership}
      bindOnLocalHost: true${p.http ? `\n      httpPort: ${p.http}` : ''}`;
  };
  const frontend = `127.0.0.1:${o.ports.frontend.grpc}`;
  // Without a dynamicConfigClient every dynamic setting keeps the server's default.
  const dynamic = o.dynamicConfigFile
    ? `\ndynamicConfigClient:\n  filepath: ${JSON.stringify(o.dynamicConfigFile)}\n  pollInterval: "10s"\n`
    : '';
  return `# Written by src/temporal/cluster.ts; rewritten at every start.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.shards}
  datastores:
    postgres-default:${store('temporal', 20)}
    postgres-visibility:${store('temporal_visibility', 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:${SERVICES.map(service).join('')}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${frontend}"

dcRedirectionPolicy:
  policy: "noop"

publicClient:
  hostPort: "${frontend}"
${dynamic}`;
}

// ---------- schemas ----------

function setUpSchemas(
  pg: Postgres,
  sqlTool: string,
  password: string,
  root: string | undefined,
  log: Log,
): void {
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pg.port), '-u', 'temporal'];
  // The password goes through the tool's environment variable, not its command line (ps shows that).
  const env = { ...process.env, SQL_PASSWORD: password };
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const exists = pg.query(`SELECT 1 FROM pg_database WHERE datname = '${db}'`) === '1';
    if (!exists) {
      run(sqlTool, [...base, '--db', db, 'create-database'], `create database ${db}`, { env });
      // Only the version tables at 0.0; update-schema then applies every versioned step.
      run(sqlTool, [...base, '--db', db, 'setup-schema', '-v', '0.0'], `setup-schema ${db}`, { env });
    }
    const source = root
      ? ['-d', path.join(root, dir, 'versioned')]
      : ['--schema-name', `postgresql/v12/${dir}`];
    run(sqlTool, [...base, '--db', db, 'update-schema', ...source], `update-schema ${db}`, { env });
    log(
      `cluster: schema ${db} ${exists ? 'updated' : 'created'} from ${root ? source[1] : `the tool's ${source[1]}`}`,
    );
  }
}

// ---------- services ----------

/** Services run in their own process group (a terminal's Ctrl-C reaches only us, and we stop them in order). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killLeftoversOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

class ServiceProcess {
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: ServiceName,
    private readonly server: string,
    private readonly root: string,
    private readonly logFile: string,
    private readonly onUnexpectedExit: (
      name: ServiceName,
      code: number | null,
      signal: string | null,
    ) => void,
  ) {}

  start(): void {
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(
      this.server,
      [
        '--root',
        this.root,
        '--config',
        'config',
        '--env',
        'development',
        '--allow-no-auth',
        'start',
        '--service',
        this.name,
      ],
      { stdio: ['ignore', out, out], detached: true },
    );
    fs.closeSync(out);
    killLeftoversOnExit();
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) {
          this.child = undefined;
          this.onUnexpectedExit(this.name, code, signal);
        }
        resolve();
      }),
    );
  }

  /** SIGTERM (the server shuts down gracefully), SIGKILL after graceMs. */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killed);
  }
}

/** Set while a cluster starts: a service that exits, or a stop asked for, ends every wait at once. */
let startFailure: Error | undefined;

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (startFailure) throw startFailure;
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`cluster: ${what} not ready in ${timeoutMs} ms: ${String(last)}`);
    await delay(500);
  }
}

/** gRPC NOT_FOUND from DescribeWorkflowExecution: the request went frontend → history and came back. */
async function historyAnswers(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeWorkflowExecution({
      namespace,
      execution: { workflowId: `cluster-probe-${crypto.randomUUID()}` },
    });
  } catch (err) {
    if ((err as { code?: number }).code === 5) return;
    throw err;
  }
}

async function registerNamespace(connection: Connection, namespace: string, log: Log): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    log(`cluster: namespace ${namespace} registered (retention 1 day)`);
  } catch (err) {
    if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS
  }
  await waitFor(`namespace ${namespace}`, 60_000, () =>
    connection.workflowService.describeNamespace({ namespace }),
  );
}

async function registerSearchAttributes(connection: Connection, namespace: string, log: Log): Promise<void> {
  const have = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (have.customAttributes ?? {})));
  if (missing.length) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]),
      ),
    });
    log(`cluster: search attributes ${missing.map((k) => k.name).join(', ')} registered`);
  }
  // Every service caches the namespace (and so its search attribute names) for up to 10 s: a list query with
  // them succeeds only once the frontend knows them, and history validates them on start the same way.
  const query = ALL_SEARCH_ATTRIBUTES.map((k) => `${k.name} = 'probe'`).join(' AND ');
  await waitFor('search attributes', 60_000, () =>
    connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 }),
  );
}

export async function startCluster(opts: ClusterOptions = {}): Promise<RunningCluster> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? console.error;
  const namespace = opts.namespace ?? 'default';
  const shards = opts.numHistoryShards ?? DEFAULT_HISTORY_SHARDS;
  const dataDir = path.resolve(opts.dataDir ?? env.CLUSTER_DATA_DIR ?? path.join('.data', 'cluster'));
  const configDir = path.join(dataDir, 'config');
  const logDir = path.join(dataDir, 'logs');
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(logDir, { recursive: true });

  const { server, sqlTool } = resolveClusterBinaries(env, log);
  const pg = new Postgres(postgresDir(dataDir, log), env, log);

  // The database password: made once, kept beside the data (0600), never printed.
  const secretFile = path.join(dataDir, 'postgres-password');
  if (!fs.existsSync(secretFile))
    fs.writeFileSync(secretFile, crypto.randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = fs.readFileSync(secretFile, 'utf8').trim();

  const [pgPort, fePort, ...rest] = await freePorts(10);
  const frontendPort = opts.port ?? fePort!;
  const ports: Record<ServiceName, ServicePorts> = {
    frontend: { grpc: frontendPort, membership: rest[0]!, http: rest[1]! },
    history: { grpc: rest[2]!, membership: rest[3]! },
    matching: { grpc: rest[4]!, membership: rest[5]! },
    worker: { grpc: rest[6]!, membership: rest[7]! },
  };

  pg.init(password);
  pg.start(pgPort!);
  let stopped = false;
  const services = new Map<ServiceName, ServiceProcess>();
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const name of [...SERVICES].reverse()) await services.get(name)?.stop();
    pg.stop();
    log('cluster: stopped');
  };

  try {
    const version = pg.version();
    log(`cluster: ${version} on 127.0.0.1:${pgPort}, data ${pg.data}`);
    setUpSchemas(pg, sqlTool, password, schemaRoot(env, log), log);
    const extra = opts.extraNamespaces ?? {};
    let dynamicConfigFile: string | undefined;
    if (Object.keys(extra).length) {
      dynamicConfigFile = path.join(configDir, 'dynamic-namespaced.yaml');
      fs.writeFileSync(dynamicConfigFile, namespacedDynamicConfig(extra));
    }
    const configFile = path.join(configDir, 'development.yaml');
    fs.writeFileSync(
      configFile,
      serverConfig({ shards, dynamicConfigFile, pgPort: pgPort!, password, ports }),
      {
        mode: 0o600,
      },
    );

    let ready = false;
    const onExit = (name: ServiceName, code: number | null, signal: string | null) => {
      if (stopped) return;
      const line = `cluster: ${name} exited (code ${code}, signal ${signal}); see ${path.join(logDir, `${name}.log`)}`;
      log(line);
      if (!ready) startFailure = new Error(line);
    };
    startFailure = undefined;
    opts.signal?.addEventListener('abort', () => (startFailure = new Error('cluster: start aborted')), {
      once: true,
    });
    // One after the other: the first initializes the cluster metadata, which they would otherwise race to write.
    for (const name of SERVICES) {
      const p = new ServiceProcess(name, server, dataDir, path.join(logDir, `${name}.log`), onExit);
      services.set(name, p);
      p.start();
      await waitFor(`${name} (membership port ${ports[name].membership})`, 120_000, () =>
        accepts(ports[name].membership),
      );
    }
    const address = `127.0.0.1:${frontendPort}`;
    const connection = await waitFor('frontend', 120_000, () =>
      openConnection({ address, connectTimeout: 2_000 }),
    );
    try {
      await waitFor('frontend', 120_000, () => connection.workflowService.getSystemInfo({}));
      for (const ns of [namespace, ...Object.keys(extra)]) {
        await registerNamespace(connection, ns, log);
        await waitFor('history', 120_000, () => historyAnswers(connection, ns));
        await registerSearchAttributes(connection, ns, log);
      }
    } finally {
      await connection.close();
    }
    ready = true;
    log(
      `cluster: Temporal ${TEMPORAL_SERVER_VERSION} (frontend, history, matching, worker; ${shards} history shards; ` +
        `PostgreSQL) at ${address}; logs in ${logDir}`,
    );

    const restartService = async (name: ServiceName) => {
      const p = services.get(name)!;
      const before = p.child?.pid;
      await p.stop();
      p.start();
      log(`cluster: ${name} stopped (pid ${before}) and started again (pid ${p.child?.pid})`);
      await waitFor(`${name} (membership port ${ports[name].membership})`, 120_000, () =>
        accepts(ports[name].membership),
      );
      const c = await waitFor(`${name} connection`, 60_000, () => openConnection({ address }));
      try {
        if (name === 'history') await waitFor('history', 120_000, () => historyAnswers(c, namespace));
        else await waitFor(name, 120_000, () => c.workflowService.getSystemInfo({}));
      } finally {
        await c.close();
      }
    };

    return {
      address,
      namespace,
      dataDir,
      numHistoryShards: shards,
      postgres: { port: pgPort!, dataDir: pg.data, version },
      pids: () => [
        ...[...services.values()].flatMap((p) => (p.child?.pid ? [p.child.pid] : [])),
        ...pg.pids(),
      ],
      restartService,
      stop,
      removeData: () => {
        fs.rmSync(dataDir, { recursive: true, force: true });
        fs.rmSync(pg.root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function cliOptions(argv: string[]): ClusterOptions {
  const { values } = strictArgs(argv, {
    'data-dir': { type: 'string' },
    namespace: { type: 'string' },
    port: { type: 'string' },
    shards: { type: 'string' },
  });
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} needs a positive integer, got '${v}'`);
    return n;
  };
  return {
    dataDir: values['data-dir'],
    namespace: values.namespace,
    port: num('port', values.port),
    numHistoryShards: num('shards', values.shards),
  };
}

function strictArgs(argv: string[], options: Record<string, { type: 'string' }>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; options: --data-dir DIR, --port N, --shards N, --namespace NS (or --binaries alone)`,
    );
  }
}

if (require.main === module && process.argv[2] === '--binaries') {
  // CI builds them in a step of its own: print where they are, building them first if need be.
  const { server, sqlTool } = resolveClusterBinaries();
  console.log(`${server}\n${sqlTool}\n${postgresBinDir()}`);
} else if (require.main === module) {
  let options: ClusterOptions = {};
  try {
    options = cliOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`cluster: ${(err as Error).message}`);
    process.exit(2);
  }
  let cluster: RunningCluster | undefined;
  const starting = new AbortController();
  const shutdown = () => {
    if (cluster) void cluster.stop().then(() => process.exit(0));
    else starting.abort();
  };
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown);
  startCluster({ ...options, signal: starting.signal }).then(
    (c) => {
      cluster = c;
      console.log(`TEMPORAL_ADDRESS=${c.address}`);
      console.log(`TEMPORAL_NAMESPACE=${c.namespace}`);
      console.error('cluster: running; Ctrl-C stops it');
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
