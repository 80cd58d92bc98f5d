/**
 * The package as a user installs it: `npm pack` (which builds dist/ through `prepare`), `npm install -g` of that
 * tarball into an empty prefix, then the installed `unpod-campaigns` from that prefix: --version, --help and the
 * demo on its own embedded stack (the Temporal CLI binary found as src/temporal/cli-binary.ts finds it, every
 * port a free loopback one, its data under a temporary folder). Nothing of the checkout is reachable from there:
 * no sources, no tsx, no dev dependencies. Time here: about 10 s to pack, 15 s to install from a warm npm cache,
 * 75 s for the demo on a loaded 2-core machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts } from '../src/net/free-ports';
import { findTemporalCli } from '../src/temporal/cli-binary';

const ROOT = path.join(__dirname, '..');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** This process's environment without what `npm test` and the app's deployment put there. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(npm_|NODE_OPTIONS$|TEMPORAL_|UNPOD_|SIMULATOR_|HTTP_|WORKER_|PUBLIC_URL$)/i.test(k),
    ),
  );
}

describe('the installed package', { timeout: 600_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unpod-package-'));
  const prefix = path.join(tmp, 'prefix');
  const installed = path.join(prefix, 'lib', 'node_modules', 'unpod-campaigns');
  const bin = path.join(prefix, 'bin', 'unpod-campaigns');
  const work = path.join(tmp, 'work');
  let userEnv: NodeJS.ProcessEnv;

  before(async () => {
    fs.mkdirSync(work);
    const pack = await run('npm', ['pack', '--pack-destination', tmp, '--loglevel=error'], {
      cwd: ROOT,
      env: cleanEnv(),
    });
    assert.equal(pack.code, 0, `npm pack: ${pack.stderr}`);
    const tarball = path.join(tmp, pack.stdout.trim().split('\n').pop()!);
    assert.ok(fs.existsSync(tarball), `the tarball ${tarball}`);
    const install = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', tarball],
      { cwd: work, env: cleanEnv() },
    );
    assert.equal(install.code, 0, `npm install -g: ${install.stderr}`);
    userEnv = {
      ...cleanEnv(),
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    };
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ships compiled code and the built console, without sources, tsx or the testing package', () => {
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'src', 'cli', 'main.js')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'workflows', 'index.js')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'console', 'console.js')));
    for (const absent of ['src', 'workflows', 'test', 'web', path.join('node_modules', 'tsx')])
      assert.ok(!fs.existsSync(path.join(installed, absent)), `${absent} is not installed`);
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules', '@temporalio', 'testing')));
  });

  it('--version and --help', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await run('unpod-campaigns', ['--version'], { cwd: work, env: userEnv });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);
    const help = await run(bin, ['--help'], { cwd: work, env: userEnv });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: unpod-campaigns/);
    for (const command of ['demo', 'start', 'worker', 'server'])
      assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
  });

  it('demo: the embedded stack calls the example list and prints every contact', async (t) => {
    const cli = findTemporalCli();
    if (!cli) {
      t.skip('no Temporal CLI binary (npx tsx src/temporal/cli-binary.ts builds one)');
      return;
    }
    const ports = await freePorts(5);
    const r = await run('unpod-campaigns', ['demo'], {
      cwd: work,
      env: {
        ...userEnv,
        TEMPORAL_CLI_PATH: cli.path,
        TEMPORAL_DEV_SERVER_PORT: String(ports[0]),
        TEMPORAL_UI_PORT: String(ports[1]),
        TEMPORAL_DB_FILE: path.join(work, '.data', 'temporal.sqlite'),
        SIMULATOR_PORT: String(ports[2]),
        HTTP_PORT: String(ports[3]),
        WORKER_METRICS_PORT: String(ports[4]),
        UNPOD_STATE_DIR: path.join(tmp, 'state'),
      },
    });
    assert.equal(r.code, 0, `demo: ${r.stderr}\n${r.stdout.slice(-2000)}`);
    assert.match(r.stdout, /\nrun R[0-9a-f]{32} finished/);
    assert.match(r.stdout, /\+14155550121\s+completed\s+1\s+USER_HUNG_UP_IN_CALL/);
    assert.match(r.stdout, /\+14155550175\s+failed\s+1\s+SIP_FAILED_WRONG_NUMBER/);
  });
});
