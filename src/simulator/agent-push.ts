/**
 * The AgentRunner push, on demand: what a user's agent posts from its `call_end(ctx, final_state)` hook when a
 * call ends (Unpod itself sends no webhooks). Signed like our receiver expects (src/unpod/paths.ts), best effort:
 * one try and one retry, a share lost on purpose (lossRate), nothing left running after close().
 */
import { Agent, request } from 'undici';
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER } from '../unpod/paths';
import type { AgentPush } from '../unpod/schemas';
import { signWebhook } from '../unpod/webhook-signature';
import type { LedgerBook } from './ledger';
import type { Rng } from './prng';
import type { Timers } from './timers';
import type { AgentPushOptions } from './types';

const RETRY_AFTER_MS = 200;

export class AgentPusher {
  private readonly agent = new Agent({
    connect: { timeout: 2_000 },
    headersTimeout: 3_000,
    bodyTimeout: 3_000,
  });
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(
    private opts: AgentPushOptions | undefined,
    private readonly rng: Rng,
    private readonly timers: Timers,
    private readonly ledger: LedgerBook,
    private readonly log: (msg: string) => void,
  ) {}

  set(opts: AgentPushOptions | undefined): void {
    this.opts = opts ? { ...opts } : undefined;
  }

  /** A call ended: push it, unless off, lost on purpose or the call's step says 'drop'. */
  callEnded(push: AgentPush, drop: boolean): void {
    const o = this.opts;
    if (this.closed || !o) return;
    if (drop || this.rng() < (o.lossRate ?? 0)) {
      this.ledger.count('pushes_dropped');
      return;
    }
    void this.deliver(o, JSON.stringify(push), 1);
  }

  private async deliver(o: AgentPushOptions, body: string, attempt: number): Promise<void> {
    if (this.closed) return;
    const ac = new AbortController();
    this.inflight.add(ac);
    let why: string;
    try {
      const ts = Math.floor(Date.now() / 1000);
      const res = await request(o.url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: ac.signal,
        headers: {
          'content-type': 'application/json',
          [PUSH_TIMESTAMP_HEADER]: String(ts),
          [PUSH_SIGNATURE_HEADER]: signWebhook(o.secret, ts, body),
        },
        body,
      });
      await res.body.dump().catch(() => undefined);
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.ledger.count('pushes_sent');
        return;
      }
      why = `HTTP ${res.statusCode}`;
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    } finally {
      this.inflight.delete(ac);
    }
    if (this.closed) return;
    if (attempt >= 2) {
      this.ledger.count('pushes_failed');
      this.log(`agent push to ${o.url} failed twice: ${why}`);
      return;
    }
    this.timers.after(RETRY_AFTER_MS, () => void this.deliver(o, body, attempt + 1));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
    this.inflight.clear();
    await this.agent.destroy().catch(() => undefined);
  }
}
