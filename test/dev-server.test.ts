/**
 * `npm start`'s Temporal dev server when it dies while starting. The Temporal CLI panics (exit 2) when its UI
 * port is taken between its own check and its bind; the goroutine trace after the panic line runs to kilobytes.
 * The error must name the panic, and one such panic must not stop the stack: it is started once more.
 *
 * The CLI here is a shell script in front of the real binary (TEMPORAL_CLI_PATH): the panic is the CLI's own
 * text, replayed, since the race that causes it cannot be made to happen on demand.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { freePorts } from '../src/net/free-ports';
import { findTemporalCli } from '../src/temporal/cli-binary';
import { spawnDevServer, stderrSummary } from '../src/temporal/dev-server';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unpod-dev-server-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What the CLI printed in CI (its first line; then the trace, cut here to its shape and repeated). */
const PANIC =
  'panic: listen tcp 127.0.0.1:28233: bind: address already in use\n\ngoroutine 1 [running]:\n' +
  'github.com/temporalio/cli/temporalcli/devserver.Start.func1()\n' +
  '\t/root/go/pkg/mod/github.com/temporalio/cli@v1.5.1/temporalcli/devserver/server.go:141 +0x7c\n' +
  'created by github.com/temporalio/cli/temporalcli/devserver.Start in goroutine 1\n' +
  'go.temporal.io/server/common/log.(*zapLogger).Error(0x2916bef5c300, {0xa85be70, 0x2916bef44420})\n'.repeat(
    120,
  );

/** A CLI that panics on its first `times` starts, then is the real binary. */
function panickingCli(name: string, times: number, real: string | undefined): string {
  const count = path.join(dir, `${name}.count`);
  const trace = path.join(dir, `${name}.trace`);
  fs.writeFileSync(trace, PANIC);
  const script = path.join(dir, `${name}.sh`);
  fs.writeFileSync(
    script,
    [
      '#!/bin/sh',
      `n=$(cat '${count}' 2>/dev/null || echo 0)`,
      `echo $((n + 1)) > '${count}'`,
      `if [ "$n" -lt ${times} ]; then cat '${trace}' >&2; exit 2; fi`,
      real ? `exec '${real}' "$@"` : 'exit 99',
    ].join('\n'),
    { mode: 0o755 },
  );
  return script;
}

const starts = (name: string) => Number(fs.readFileSync(path.join(dir, `${name}.count`), 'utf8'));

describe('the dev server dying while it starts', { timeout: 120_000 }, () => {
  it('names the panic, not the tail of its goroutine trace, and gives up after a second panic', async () => {
    const cli = panickingCli('always', 10, undefined);
    const logged: string[] = [];
    const [port] = await freePorts(1);
    await assert.rejects(
      spawnDevServer({ port, env: { ...process.env, TEMPORAL_CLI_PATH: cli }, log: (l) => logged.push(l) }),
      (err: Error) => {
        assert.equal(
          err.message.split('\n')[0],
          `the Temporal dev server (${cli}) exited with 2: panic: listen tcp 127.0.0.1:28233: bind: address already in use`,
        );
        return true;
      },
    );
    assert.equal(starts('always'), 2, 'started twice: once, and once more after the panic');
    assert.ok(
      logged.some((l) => l.includes('panicked while starting') && l.includes('panic: listen tcp')),
      logged.join('\n'),
    );
  });

  it('one panic while starting: started once more, and that server serves', async (t) => {
    const real = findTemporalCli();
    if (!real) {
      t.skip('no Temporal CLI binary (npx tsx src/temporal/cli-binary.ts builds one)');
      return;
    }
    const cli = panickingCli('once', 1, real.path);
    const [port] = await freePorts(1);
    const server = await spawnDevServer({ port, env: { ...process.env, TEMPORAL_CLI_PATH: cli } });
    assert.ok(server);
    try {
      assert.equal(starts('once'), 2);
      const connection = await Connection.connect({ address: server.address });
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
      assert.equal(namespaceInfo?.name, 'default');
      await connection.close();
    } finally {
      await server.stop();
    }
  });

  it('an exit without a panic is reported by its last ERROR line and not retried', async (t) => {
    const real = findTemporalCli();
    if (!real) {
      t.skip('no Temporal CLI binary (npx tsx src/temporal/cli-binary.ts builds one)');
      return;
    }
    const [port] = await freePorts(1);
    // Something else holds the port (and hangs up on whoever connects: our readiness probe does).
    const held = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => held.listen(port, '127.0.0.1', resolve));
    try {
      const cli = panickingCli('port-taken', 0, real.path);
      await assert.rejects(
        spawnDevServer({ port, env: { ...process.env, TEMPORAL_CLI_PATH: cli } }),
        new RegExp(`exited with 1: .*level=ERROR.*127\\.0\\.0\\.1:${port}.*address already in use`),
      );
      assert.equal(starts('port-taken'), 1);
    } finally {
      held.close();
    }
  });

  it('stderrSummary: the ERROR before a panic and the panic; a fatal error line; else the first line', () => {
    assert.equal(
      stderrSummary(
        'time=… level=ERROR msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:7233: bind: address already in use"\n' +
          'panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV]\n\ngoroutine 1',
      ),
      'time=… level=ERROR msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:7233: bind: address already in use"; ' +
        'then panic: runtime error: invalid memory address or nil pointer dereference',
    );
    assert.equal(
      stderrSummary('x\nfatal error: concurrent map writes\n\ngoroutine 7'),
      'fatal error: concurrent map writes',
    );
    assert.equal(stderrSummary('\n  first\nsecond'), 'first');
    assert.equal(stderrSummary(''), '(nothing on stderr)');
  });
});
