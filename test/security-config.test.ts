/**
 * Hostile input, the parts without a server: configuration (secrets, the dev key, keys' bindings, CORS, the
 * outbound allowlist), policy duration bounds, CSV formula cells in the rejects file, the cap on Unpod's free
 * text, and the Temporal CLI build's GOSUMDB fallback.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { toCallSnapshot } from '../activities';
import { SUMMARY_MAX_CHARS, TRANSCRIPT_MAX_CHARS } from '../src/campaign/call-text';
import { PolicyError, policyFrom } from '../src/campaign/policy-file';
import { ConfigError, embeddedStackConfig, LOCAL_DEV_API_KEY, loadConfig } from '../src/config/config';
import { safeCsvCell } from '../src/contacts/csv-cells';
import { RejectsWriter } from '../src/contacts/rejects-writer';
import { buildTemporalCli, GOSUMDB_OFF_OPT_IN } from '../src/temporal/cli-binary';
import { callSchema } from '../src/unpod/schemas';

const REAL_UNPOD = { UNPOD_BASE_URL: 'https://api.unpod.ai', UNPOD_API_KEY: 'sk-live-abc' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => `${p.variable}: ${p.message}`);
  }
  return [];
}

describe('configuration', () => {
  it('the agent push secret has no public default: off unless set, and then at least 32 characters', () => {
    // Unpod sends no webhooks; the only signed inbound route is the optional agent push (POST /v1/agent-events).
    assert.equal(loadConfig(REAL_UNPOD).agentPushSecret, undefined, 'off with a real account unless set');
    assert.equal(loadConfig({}).agentPushSecret, undefined, 'off on the simulator stack too');
    assert.match(
      problems({ AGENT_PUSH_SECRET: 'whsec_simulator' }).join('\n'),
      /AGENT_PUSH_SECRET: must be at least 32/,
    );
    assert.equal(
      loadConfig({ ...REAL_UNPOD, AGENT_PUSH_SECRET: 'w'.repeat(32) }).agentPushSecret,
      'w'.repeat(32),
    );
    assert.deepEqual(
      problems({ UNPOD_BASE_URL: 'http://127.0.0.1:8090', UNPOD_API_KEY: 'sim_test_key' }),
      [],
    );
  });

  it('the well-known dev key only on the embedded stack bound to loopback', () => {
    // A `server` on 0.0.0.0 with only TEMPORAL_ADDRESS set: no key opens it.
    const server = loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', HTTP_HOST: '0.0.0.0' });
    assert.deepEqual(server.api.keys, []);
    assert.deepEqual(embeddedStackConfig(server).api.keys, [], 'not even for `up` beyond loopback');
    // Without UNPOD_BASE_URL, on loopback, outside the embedded stack: none either.
    assert.deepEqual(loadConfig({}).api.keys, []);
    const up = embeddedStackConfig(loadConfig({}));
    assert.deepEqual(up.api.keys, [LOCAL_DEV_API_KEY]);
    assert.ok(up.outbound.allow.includes('loopback'), 'the embedded stack allows loopback explicitly');
    assert.equal(up.ops.public, true);
    const real = embeddedStackConfig(loadConfig(REAL_UNPOD));
    assert.deepEqual(real.api.keys, [], 'never with a real Unpod account');
    assert.deepEqual(real.outbound.allow, []);
  });

  it('an API key entry names its account and may bind pipes, agents and from-numbers', () => {
    const c = loadConfig({
      API_KEYS: JSON.stringify([
        {
          key: 'key_tenant_a_123',
          space: 'sp_a',
          account: 'acct_a',
          pipes: ['pipe_a'],
          agents: ['agent_a'],
          from_numbers: ['+14155550100'],
        },
      ]),
    });
    assert.deepEqual(c.api.keys[0], {
      key: 'key_tenant_a_123',
      space: 'sp_a',
      user: 'key-1',
      account: 'acct_a',
      pipes: ['pipe_a'],
      agents: ['agent_a'],
      fromNumbers: ['+14155550100'],
    });
    assert.match(
      problems({
        API_KEYS: JSON.stringify([{ key: 'key_tenant_a_123', space: 's', from_numbers: ['555'] }]),
      }).join(),
      /API_KEYS: 0\.from_numbers\.0: must be an E\.164 number/,
    );
  });

  it('CORS: no credentials by default; credentials with any origin is a configuration error', () => {
    assert.equal(loadConfig({}).api.cors.credentials, false);
    assert.match(problems({ CORS_ALLOW_CREDENTIALS: 'true' }).join(), /CORS_ALLOW_CREDENTIALS/);
    assert.deepEqual(
      problems({ CORS_ALLOW_CREDENTIALS: 'true', CORS_ALLOW_ORIGINS: 'https://app.example' }),
      [],
    );
  });

  it('/metrics and /ready are closed by default; OPS_API_KEY or OPS_PUBLIC opens them', () => {
    assert.deepEqual(loadConfig({}).ops, { key: undefined, public: false });
    assert.deepEqual(loadConfig({ OPS_API_KEY: 'o'.repeat(16) }).ops, { key: 'o'.repeat(16), public: false });
    assert.equal(loadConfig({ OPS_PUBLIC: 'true' }).ops.public, true);
    assert.match(problems({ OPS_API_KEY: 'short' }).join(), /OPS_API_KEY/);
  });

  it('OUTBOUND_ALLOW names hosts, addresses and ranges; a bad entry is named', () => {
    assert.deepEqual(loadConfig({}).outbound.allow, []);
    assert.deepEqual(loadConfig({ OUTBOUND_ALLOW: 'loopback, 10.0.0.0/8,crm.internal' }).outbound.allow, [
      'loopback',
      '10.0.0.0/8',
      'crm.internal',
    ]);
    assert.match(problems({ OUTBOUND_ALLOW: '10.0.0.0/40' }).join(), /OUTBOUND_ALLOW: .*10\.0\.0\.0\/40/);
  });
});

describe('policy duration bounds', () => {
  const refused = (policy: unknown, field: RegExp) =>
    assert.throws(
      () => policyFrom(policy),
      (err: unknown) => err instanceof PolicyError && field.test(err.message),
    );
  it('refuses a zero poll interval, a 100,000-year call and other absurd durations, naming the field', () => {
    refused({ pollInterval: 0 }, /pollInterval: must be between 1s and 1h/);
    refused({ maxCallDuration: '100000y' }, /maxCallDuration: must be between 10s and 4h/);
    refused({ maxCallDuration: '1s' }, /maxCallDuration/);
    refused({ noAnswer: { delay: '400d' } }, /noAnswer\.delay: must be between/);
    refused({ retryShift: '30d' }, /retryShift/);
    refused(
      { pollInterval: '10m', maxCallDuration: '5m' },
      /pollInterval: must not be longer than maxCallDuration/,
    );
  });
  it('accepts sane ones', () => {
    const p = policyFrom({ pollInterval: '1s', maxCallDuration: '20s', noAnswer: { delay: '2h' } });
    assert.equal(p.pollIntervalMs, 1000);
    assert.equal(p.maxCallMs, 20_000);
  });
});

describe('CSV formula cells', () => {
  it('cells starting with = + - @ tab or CR get a leading apostrophe; plain numbers are left alone', () => {
    for (const v of [
      '=1+2',
      '+cmd|"/c calc"!A1',
      '-2+3',
      '@SUM(A1)',
      '\t=x',
      '\r=x',
      '=HYPERLINK("http://x")',
    ])
      assert.equal(safeCsvCell(v), `'${v}`);
    for (const v of ['+14155550100', '-3', '2.5', 'Ann', '', 'a=b']) assert.equal(safeCsvCell(v), v);
  });

  it('the rejects file neutralises them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-rejects-'));
    try {
      const file = path.join(dir, 'r.csv');
      const w = await RejectsWriter.open(file, ['phone', 'name']);
      await w.write({
        line: 2,
        column: 'phone',
        reason: 'not a phone number',
        raw: { phone: '=HYPERLINK("http://evil.example","click")', name: '@SUM(1+1)' },
      });
      await w.close();
      const rows = parse(fs.readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
      assert.equal(rows[0]!.phone, `'=HYPERLINK("http://evil.example","click")`);
      assert.equal(rows[0]!.name, `'@SUM(1+1)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Unpod's free text is capped", () => {
  it('summary and transcript are cut to their documented caps, with a marker', () => {
    const wire = {
      id: 'c1',
      status: 'connected',
      summary: 's'.repeat(SUMMARY_MAX_CHARS * 3),
      transcript: [{ role: 'user', content: 't'.repeat(TRANSCRIPT_MAX_CHARS * 3) }],
    };
    const snap = toCallSnapshot(callSchema.parse(wire));
    assert.equal(snap.summary!.length, SUMMARY_MAX_CHARS);
    assert.equal(snap.transcript!.length, TRANSCRIPT_MAX_CHARS);
    assert.match(snap.transcript!, /…\[truncated\]$/);
    const short = toCallSnapshot(callSchema.parse({ ...wire, summary: 'ok', transcript: null }));
    assert.equal(short.summary, 'ok');
    assert.equal(short.transcript, null);
  });
});

describe('Temporal CLI build: no silent GOSUMDB=off', () => {
  /** A fake `go` that fails like an unreachable checksum database unless GOSUMDB=off, and logs each call. */
  function fakeGo(): { env: NodeJS.ProcessEnv; calls: () => string[]; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-go-'));
    const log = path.join(dir, 'calls.log');
    fs.writeFileSync(
      path.join(dir, 'go'),
      `#!/bin/sh
echo "GOSUMDB=\${GOSUMDB:-default}" >> "${log}"
if [ "\${GOSUMDB}" != "off" ]; then
  echo "verifying github.com/x@v1: checksum database: dial tcp: lookup sum.golang.org: no such host" >&2
  exit 1
fi
printf '#!/bin/sh\\necho fake\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"
`,
      { mode: 0o755 },
    );
    return {
      env: { PATH: `${dir}:/usr/bin:/bin`, XDG_CACHE_HOME: path.join(dir, 'cache'), HOME: dir },
      calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []),
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }

  it('without the opt-in it does not build with GOSUMDB=off, and says how to opt in', () => {
    const go = fakeGo();
    try {
      const lines: string[] = [];
      assert.equal(
        buildTemporalCli(go.env, (l) => lines.push(l)),
        undefined,
      );
      assert.deepEqual(go.calls(), ['GOSUMDB=default']);
      assert.match(lines.join('\n'), new RegExp(GOSUMDB_OFF_OPT_IN));
    } finally {
      go.cleanup();
    }
  });

  it(`with ${GOSUMDB_OFF_OPT_IN}=1 it builds with GOSUMDB=off and says so`, () => {
    const go = fakeGo();
    try {
      const lines: string[] = [];
      const built = buildTemporalCli({ ...go.env, [GOSUMDB_OFF_OPT_IN]: '1' }, (l) => lines.push(l));
      assert.ok(built && fs.existsSync(built));
      assert.deepEqual(go.calls(), ['GOSUMDB=default', 'GOSUMDB=off']);
      assert.match(lines.join('\n'), /GOSUMDB=off: module hashes are NOT checked/);
    } finally {
      go.cleanup();
    }
  });
});
