/**
 * Finds the Temporal CLI (it holds the dev server) or builds it once.
 *
 * Order: TEMPORAL_CLI_PATH; `temporal` on PATH; a cached build in the user's cache directory; a fresh build
 * with `go install` into that cache; else undefined, and callers let the SDK download its own server (what a
 * user with internet gets). Run directly (`npm run temporal:cli`) it prints the path, building it if need be.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Newer tags carry a `replace` directive that `go install pkg@version` refuses. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type CliSource = 'env' | 'path' | 'cache' | 'built';
export interface ResolvedCli {
  path: string;
  source: CliSource;
}

type Log = (line: string) => void;

/** Opt-in to build with GOSUMDB=off when Go's checksum database cannot be reached; never done silently. */
export const GOSUMDB_OFF_OPT_IN = 'TEMPORAL_CLI_ALLOW_GOSUMDB_OFF';

export function gosumdbOffAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'true', 'yes'].includes((env[GOSUMDB_OFF_OPT_IN] ?? '').trim().toLowerCase());
}

/** The user's cache folder for this project's built tools: `$XDG_CACHE_HOME/unpod-campaigns` (or `~/.cache/...`). */
export function userCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'unpod-campaigns');
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheRoot(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

export function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Looks without building. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): ResolvedCli | undefined {
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'env' };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return { path: fromPath, source: 'path' };
  const cached = path.join(cacheDir(env), 'temporal');
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

export interface GoBuild {
  /** Go package path, e.g. `go.temporal.io/server/cmd/server`. */
  pkg: string;
  version: string;
  /** The binary `go install` writes (the package's last path element). */
  binary: string;
  /** Folder the binary is moved into. */
  dir: string;
  /** Prefix of the log lines. */
  label: string;
}

function goInstall(b: GoBuild, gobin: string, extraEnv: NodeJS.ProcessEnv, env: NodeJS.ProcessEnv) {
  return spawnSync('go', ['install', `${b.pkg}@${b.version}`], {
    env: { ...env, GOBIN: gobin, GOFLAGS: '-buildvcs=false', ...extraEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
}

/**
 * `go install pkg@version` into `dir`. Returns the binary's path, or undefined when Go is missing or the build
 * fails. When only Go's checksum database is unreachable it builds again with GOSUMDB=off only if
 * TEMPORAL_CLI_ALLOW_GOSUMDB_OFF opts in, and says so; otherwise it stops and says how to opt in.
 */
export function goInstallInto(
  b: GoBuild,
  env: NodeJS.ProcessEnv = process.env,
  log: Log = console.error,
): string | undefined {
  if (!onPath('go', env)) {
    log(`${b.label}: Go is not installed, so ${b.pkg} cannot be built here`);
    return undefined;
  }
  fs.mkdirSync(b.dir, { recursive: true });
  // Build into a private folder and rename, so a concurrent run never sees half a binary.
  const staging = fs.mkdtempSync(path.join(b.dir, '.build-'));
  log(`${b.label}: building ${b.pkg}@${b.version} with go install into ${b.dir} (a few minutes, once)`);
  try {
    let result = goInstall(b, staging, {}, env);
    if (
      result.status !== 0 &&
      /sum\.golang\.org|checksum database|verifying .*module/i.test(result.stderr ?? '')
    ) {
      if (gosumdbOffAllowed(env)) {
        log(
          `${b.label}: Go's checksum database cannot be reached; ${GOSUMDB_OFF_OPT_IN} is set, so building again ` +
            'with GOSUMDB=off: module hashes are NOT checked against the database (modules still come from GOPROXY)',
        );
        result = goInstall(b, staging, { GOSUMDB: 'off' }, env);
      } else {
        log(
          `${b.label}: Go's checksum database cannot be reached, so the modules' hashes cannot be verified; ` +
            `not building without it. Set ${GOSUMDB_OFF_OPT_IN}=1 to build with GOSUMDB=off anyway, or TEMPORAL_CLI_PATH.`,
        );
      }
    }
    if (result.status !== 0) {
      log(`${b.label}: go install failed (exit ${result.status}):\n${result.stderr ?? ''}`);
      return undefined;
    }
    if (result.stderr) process.stderr.write(result.stderr);
    const target = path.join(b.dir, b.binary);
    fs.renameSync(path.join(staging, b.binary), target);
    log(`${b.label}: built ${target}`);
    return target;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Builds the CLI into the cache with `go install`. Returns undefined when Go is missing or the build fails. */
export function buildTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log: Log = console.error,
): string | undefined {
  return goInstallInto(
    {
      pkg: MODULE,
      version: TEMPORAL_CLI_VERSION,
      binary: 'temporal',
      dir: cacheDir(env),
      label: 'temporal-cli',
    },
    env,
    log,
  );
}

/** Finds or builds. undefined means: fall back to the SDK's own download. */
export function resolveTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log: Log = console.error,
): ResolvedCli | undefined {
  const found = findTemporalCli(env);
  if (found) return found;
  const built = buildTemporalCli(env, log);
  if (built) return { path: built, source: 'built' };
  log('temporal-cli: not found and not built; the Temporal SDK will try to download its own dev server');
  return undefined;
}

if (require.main === module) {
  const resolved = resolveTemporalCli();
  if (!resolved) process.exit(1);
  console.log(resolved.path);
}
