/**
 * Webhook delivery: signed POSTs of call events, with injected loss, duplication, delay and reordering,
 * retries with backoff on failure, and nothing left running after close().
 */
import { Agent, request } from 'undici';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../unpod/paths';
import type { WebhookEvent } from '../unpod/schemas';
import { signWebhook } from '../unpod/webhook-signature';
import type { LedgerBook } from './ledger';
import { between, type Rng } from './prng';
import type { Timers } from './timers';
import type { WebhookFaults } from './types';

const MAX_ATTEMPTS = 4;
const BASE_BACKOFF_MS = 50;
const REORDER_WINDOW_MS = 50;

export class WebhookDispatcher {
  private readonly agent = new Agent({
    connect: { timeout: 2_000 },
    headersTimeout: 3_000,
    bodyTimeout: 3_000,
  });
  private readonly inflight = new Set<AbortController>();
  private reorderBuffer: string[] = [];
  private reorderTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private url: string | undefined,
    private readonly secret: string,
    private faults: WebhookFaults,
    private readonly rng: Rng,
    private readonly timers: Timers,
    private readonly ledger: LedgerBook,
    private readonly log: (msg: string) => void,
  ) {}

  setUrl(url: string | undefined): void {
    this.url = url;
  }

  setFaults(f: WebhookFaults | undefined): void {
    this.faults = { ...(f ?? {}) };
  }

  /** Queue an event for delivery. `drop` = the number's rule says this call never sends webhooks. */
  emit(event: WebhookEvent, drop: boolean): void {
    if (this.closed || !this.url) return;
    if (drop || this.rng() < (this.faults.lossRate ?? 0)) {
      this.ledger.count('webhooks_dropped');
      return;
    }
    const body = JSON.stringify(event);
    const copies = this.rng() < (this.faults.duplicateRate ?? 0) ? 2 : 1;
    if (copies === 2) this.ledger.count('webhooks_duplicated');
    for (let i = 0; i < copies; i++) {
      const d = this.faults.delayMs;
      const delay = d ? between(this.rng, Math.min(d[0], d[1]), Math.max(d[0], d[1])) : 0;
      if (delay > 0) this.timers.after(delay, () => this.enqueue(body));
      else this.enqueue(body);
    }
  }

  private enqueue(body: string): void {
    if (!this.faults.reorder) {
      void this.deliver(body);
      return;
    }
    this.reorderBuffer.push(body);
    if (!this.reorderTimer)
      this.reorderTimer = this.timers.after(REORDER_WINDOW_MS, () => this.flushReordered());
  }

  private flushReordered(): void {
    this.reorderTimer = undefined;
    const batch = this.reorderBuffer;
    this.reorderBuffer = [];
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [batch[i], batch[j]] = [batch[j]!, batch[i]!];
    }
    for (const body of batch) void this.deliver(body);
  }

  private async deliver(body: string, attempt = 1): Promise<void> {
    const url = this.url;
    if (this.closed || !url) return;
    const ac = new AbortController();
    this.inflight.add(ac);
    let ok = false;
    let why = '';
    try {
      const ts = Math.floor(Date.now() / 1000);
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: ac.signal,
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_TIMESTAMP_HEADER]: String(ts),
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.secret, ts, body),
        },
        body,
      });
      await res.body.dump().catch(() => undefined);
      ok = res.statusCode >= 200 && res.statusCode < 300;
      why = `HTTP ${res.statusCode}`;
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    } finally {
      this.inflight.delete(ac);
    }
    if (this.closed) return;
    if (ok) {
      this.ledger.count('webhooks_sent');
      return;
    }
    if (attempt >= MAX_ATTEMPTS) {
      this.ledger.count('webhooks_failed');
      this.log(`webhook delivery to ${url} gave up after ${attempt} attempts: ${why}`);
      return;
    }
    this.timers.after(BASE_BACKOFF_MS * 2 ** (attempt - 1), () => void this.deliver(body, attempt + 1));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reorderBuffer = [];
    for (const ac of this.inflight) ac.abort();
    this.inflight.clear();
    await this.agent.destroy().catch(() => undefined);
  }
}
