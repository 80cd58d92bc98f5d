/**
 * A cluster keeps Temporal's default limits (2,000 pending children and signals per workflow): a campaign window
 * above 1,000 is refused where it comes in, by the API and the CLI, with an error naming the parameter and the
 * limit, and the dev server the tests run on keeps the same limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProgram } from '../src/cli/main';
import { loadConfig } from '../src/config/config';
import { createRunFormSchema, createRunJsonBodySchema } from '../src/http/api-schemas';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../src/temporal/dev-server';

const contacts = [{ phone: '+14155550100' }];

function windowIssue(r: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  assert.equal(r.success, false, 'refused');
  const issue = r.error!.issues.find((i) => i.path[0] === 'window');
  assert.ok(issue, `an issue on window: ${JSON.stringify(r.error!.issues)}`);
  return issue.message;
}

describe('campaign window under the cluster limits', () => {
  it('the API refuses a window of 1,001 in a JSON body and in form fields, naming the limit', () => {
    assert.match(
      windowIssue(createRunJsonBodySchema.safeParse({ window: 1001, contacts })),
      /at most 1000\b/,
    );
    assert.match(windowIssue(createRunFormSchema.safeParse({ window: '1001' })), /at most 1000\b/);
    assert.match(windowIssue(createRunJsonBodySchema.safeParse({ window: 5000, contacts })), /2000 pending/);
  });

  it('the API takes a window of 1,000', () => {
    assert.equal(createRunJsonBodySchema.safeParse({ window: 1000, contacts }).success, true);
    assert.equal(createRunFormSchema.safeParse({ window: '1000' }).success, true);
  });

  it('the CLI refuses --window 1001 before doing anything, naming --window and the limit', async () => {
    for (const args of [
      ['start', 'contacts.csv', '--window', '1001'],
      ['retry', 'R0123456789abcdef0123456789abcdef', '--window', '1001'],
    ]) {
      const program = buildProgram(() => loadConfig({} as NodeJS.ProcessEnv));
      program.exitOverride();
      for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {} });
      await assert.rejects(
        program.parseAsync(['node', 'unpod-campaigns', ...args]),
        /--window must be at most 1000, got 1001/,
      );
    }
  });

  it('the dev server relaxes none of the limits a cluster has', () => {
    const relaxed = Object.keys(DEV_SERVER_DYNAMIC_CONFIG).filter((k) => k.startsWith('limit.'));
    assert.deepEqual(relaxed, []);
    assert.equal(DEV_SERVER_DYNAMIC_CONFIG['frontend.namespaceRPS.visibility'], '10');
  });
});
