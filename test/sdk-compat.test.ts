/**
 * Unpod's own Python SDK (unpod 0.5.0 from PyPI) against the simulator: test/sdk-compat/check_sdk.py drives
 * calls.create / get / list / hangup, pipes.get and numbers.list through the SDK, in direct (Bearer) and proxy
 * (Token / JWT + Org-Handle) mode, and fails if the SDK cannot parse an answer. Skipped, saying why, when no Python
 * ≥ 3.12 with `unpod` installed is found (UNPOD_SDK_PYTHON names one; `pip install unpod==0.5.0` makes one).
 *
 * It also records what the SDK sent (method, path, query and header names, auth scheme, body field names) and
 * compares it with test/fixtures/unpod-sdk-0.5.0-requests.json, the SDK's request shapes for tests that have no
 * Python (UPDATE_SDK_FIXTURE=1 rewrites the file; run prettier on it after).
 *   node --import tsx --test test/sdk-compat.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  distinctShapes,
  requestShape,
  startSimulator,
  type RequestShape,
  type RunningSimulator,
  type SimulatorOptions,
} from '../src/simulator';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, 'sdk-compat', 'check_sdk.py');
const SDK_VERSION = '0.5.0';
const FIXTURE = path.join(__dirname, 'fixtures', `unpod-sdk-${SDK_VERSION}-requests.json`);

function candidates(): string[] {
  const out: string[] = [];
  if (process.env.UNPOD_SDK_PYTHON) out.push(process.env.UNPOD_SDK_PYTHON);
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
  if (fs.existsSync(pyenv))
    for (const v of fs
      .readdirSync(pyenv)
      .filter((d) => /^3\.(1[2-9]|[2-9]\d)/.test(d))
      .sort())
      out.push(path.join(pyenv, v, 'bin', 'python'));
  out.push('python3.12', 'python3');
  return out;
}

/** A Python with the SDK installed, or why there is none. */
async function findSdkPython(): Promise<{ python: string } | { reason: string }> {
  const tried: string[] = [];
  for (const python of candidates()) {
    try {
      const { stdout } = await run(
        python,
        ['-c', "import importlib.metadata as m, unpod; print(m.version('unpod'))"],
        { timeout: 20_000 },
      );
      const version = stdout.trim();
      if (version === SDK_VERSION) return { python };
      tried.push(`${python}: unpod ${version}`);
    } catch {
      tried.push(`${python}: no unpod`);
    }
  }
  return {
    reason: `no Python with unpod ${SDK_VERSION} (tried ${tried.join('; ')}); pip install unpod==${SDK_VERSION} (Python ≥ 3.12) or set UNPOD_SDK_PYTHON`,
  };
}

interface CheckResult {
  check: string;
  ok: boolean;
  detail: unknown;
  where?: string[];
}

const sims: RunningSimulator[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

async function runChecks(
  python: string,
  opts: SimulatorOptions,
  args: string[],
): Promise<{ results: CheckResult[]; shapes: RequestShape[] }> {
  const s = await startSimulator({
    speed: 1000,
    seed: 5,
    recordRequests: true,
    accounts: [
      {
        apiKey: 'sim_sdk_key',
        accountId: 'acct_sdk',
        orgHandle: 'acme',
        callsPerMinute: 10_000,
        concurrency: 100,
      },
    ],
    ...opts,
  });
  sims.push(s);
  let stdout: string;
  let code = 0;
  try {
    ({ stdout } = await run(python, [SCRIPT, ...args], {
      timeout: 60_000,
      env: {
        ...process.env,
        SIM_URL: s.url,
        SIM_KEY: 'sim_sdk_key',
        SIM_ORG_HANDLE: 'acme',
        SIM_ACCOUNT: 'acct_sdk',
        PYTHONWARNINGS: 'ignore',
      },
    }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    stdout = e.stdout ?? '';
    code = e.code ?? 1;
    if (!stdout.trim()) throw new Error(`check_sdk.py failed to run: ${e.stderr ?? String(err)}`);
  }
  const results = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CheckResult);
  for (const r of results) console.log(`${r.ok ? 'ok ' : 'NOT'} ${r.check}: ${JSON.stringify(r.detail)}`);
  assert.ok(results.length >= 8, `every check reported (${results.length})`);
  assert.deepEqual(
    results.filter((r) => !r.ok),
    [],
    'every SDK check passes',
  );
  assert.equal(code, 0);
  return { results, shapes: distinctShapes(s.requests().map(requestShape)) };
}

void describe('the unpod 0.5.0 SDK parses what the simulator sends', async () => {
  const found = await findSdkPython();
  const skip = 'reason' in found ? found.reason : false;

  void test(
    'default simulator (new status vocabulary, hangup answers the call); the request shapes fixture',
    { skip },
    async () => {
      const { shapes } = await runChecks((found as { python: string }).python, {}, []);
      if (process.env.UPDATE_SDK_FIXTURE === '1') {
        fs.writeFileSync(FIXTURE, `${JSON.stringify(shapes, null, 2)}\n`);
        console.log(`wrote ${shapes.length} request shapes to ${FIXTURE}`);
      }
      const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as RequestShape[];
      assert.deepEqual(shapes, fixture, `the SDK's requests still match ${path.basename(FIXTURE)}`);
    },
  );

  void test('old vocabulary and an empty hangup answer', { skip }, async () => {
    await runChecks(
      (found as { python: string }).python,
      { statusVocabulary: 'old', hangupAnswer: 'empty' },
      ['--old'],
    );
  });
});
