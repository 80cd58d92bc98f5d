/**
 * The worker's mailbox to campaigns (src/temporal/mailbox.ts), against the real server: reports to one campaign
 * go as one signal per interval at most, and a report posted after a quiet interval goes at once. The campaigns
 * here do not exist, so each signal is answered "not found", which the mailbox takes as delivered (nobody is left
 * to tell): what is counted is the signals sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CampaignMailbox } from '../src/temporal/mailbox';
import type { TaskReport } from '../workflows/definitions';
import { testEnv, uniqueTaskQueue } from './helpers/temporal';

const report = (taskId: string): TaskReport => ({ kind: 'release', taskId, id: `${taskId}#1` });

describe('the mailbox to campaigns', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('sends a report at once after a quiet interval, and gathers the ones that follow within it into one signal', async () => {
    const flushMs = 5_000;
    const mailbox = new CampaignMailbox(env.client, { flushMs });
    const campaign = `campaign-${uniqueTaskQueue('mailbox')}`;
    const t0 = Date.now();
    await mailbox.post(campaign, [report('t1')]);
    const first = Date.now() - t0;
    assert.ok(first < flushMs / 2, `the first report waited ${first} ms for an interval nobody used`);
    assert.equal(mailbox.stats.signals, 1);
    // Within the interval: these wait for it, and go together.
    const later = Date.now();
    await Promise.all([mailbox.post(campaign, [report('t2')]), mailbox.post(campaign, [report('t3')])]);
    assert.equal(mailbox.stats.signals, 2, 'two reports within the interval: one signal');
    assert.ok(Date.now() - t0 >= flushMs, 'not sooner than one interval after the first signal');
    assert.ok(Date.now() - later < flushMs + 2_000);
  });

  it('keeps campaigns apart: a quiet campaign is not held back by a busy one', async () => {
    const mailbox = new CampaignMailbox(env.client, { flushMs: 5_000 });
    const busy = `campaign-${uniqueTaskQueue('busy')}`;
    const quiet = `campaign-${uniqueTaskQueue('quiet')}`;
    await mailbox.post(busy, [report('b1')]);
    const pending = mailbox.post(busy, [report('b2')]); // waits for busy's interval
    const t0 = Date.now();
    await mailbox.post(quiet, [report('q1')]);
    assert.ok(Date.now() - t0 < 2_500, 'the quiet campaign got its report at once');
    await delay(0);
    assert.equal(mailbox.stats.signals, 2, "busy's second report is still waiting");
    await pending;
    assert.equal(mailbox.stats.signals, 3);
  });
});
