/**
 * Which contacts `retry` takes: failed ones, unanswered ones by the policy's own table (Unpod's `no_answer` too),
 * and expired ones (not reached before the deadline) — before, an expired contact could not be retried at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RETRY_FILTERS, RETRY_WHICH } from '../src/campaign/run-control';
import { retryBodySchema } from '../src/http/api-schemas';

describe('retry filters', () => {
  it('expired contacts can be retried; no-answer follows the policy table', () => {
    assert.deepEqual(RETRY_WHICH, ['failed', 'no-answer', 'expired']);
    assert.equal(RETRY_FILTERS.expired('expired'), true);
    assert.equal(RETRY_FILTERS.expired('failed'), false);
    for (const r of ['USER_DID_NOT_PICK_UP', 'USER_HUNG_UP_RINGING', 'no_answer', 'NO_ANSWER'])
      assert.equal(RETRY_FILTERS['no-answer']('failed', r), true, r);
    for (const r of ['USER_HUNG_UP_IN_CALL', 'agent_end_call', null])
      assert.equal(RETRY_FILTERS['no-answer']('completed', r), false, String(r));
    assert.equal(retryBodySchema.parse({ which: 'expired' }).which, 'expired');
    assert.throws(() => retryBodySchema.parse({ which: 'everything' }));
  });
});
