/**
 * API fault injection. As a fastify onRequest hook, so that a faulted request has no effect at all: errorRate →
 * 503, timeoutRate → hold the request timeoutMs then 504. On creates (drawn by the route, after validation):
 * lostAnswerRate → placed, answer destroyed; slowCreateRate → held slowCreateMs, then placed. Never on /_sim.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LedgerBook } from './ledger';
import type { Rng } from './prng';
import type { ApiFaults } from './types';

interface Hold {
  timer: NodeJS.Timeout;
  release: (closing: boolean) => void;
}

export class FaultInjector {
  private faults: ApiFaults;
  private readonly holds = new Set<Hold>();
  private closed = false;

  constructor(
    faults: ApiFaults | undefined,
    private readonly rng: Rng,
    private readonly createRng: Rng,
    private readonly ledger: LedgerBook,
  ) {
    this.faults = { ...(faults ?? {}) };
  }

  set(f: ApiFaults | undefined): void {
    this.faults = { ...(f ?? {}) };
  }

  private applies(url: string, method?: string): boolean {
    const path = url.split('?')[0] ?? url;
    if (path.startsWith('/_sim')) return false;
    const methods = this.faults.methods;
    if (method && methods && methods.length > 0 && !methods.some((m) => m.toUpperCase() === method))
      return false;
    const prefixes = this.faults.paths;
    return !prefixes || prefixes.length === 0 || prefixes.some((p) => path.startsWith(p));
  }

  /** For a create about to be placed: lose its answer, slow it down (ms), or neither. */
  drawCreate(url: string): { kind: 'lost' } | { kind: 'slow'; ms: number } | null {
    const lost = this.faults.lostAnswerRate ?? 0;
    const slow = this.faults.slowCreateRate ?? 0;
    if ((lost <= 0 && slow <= 0) || !this.applies(url)) return null;
    const r = this.createRng();
    if (r < lost) return { kind: 'lost' };
    if (r < lost + slow) return { kind: 'slow', ms: this.faults.slowCreateMs ?? 30_000 };
    return null;
  }

  /** Hold a request; resolves true when released early by close(). */
  holdFor(ms: number): Promise<boolean> {
    return this.hold(ms);
  }

  readonly hook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const errorRate = this.faults.errorRate ?? 0;
    const timeoutRate = this.faults.timeoutRate ?? 0;
    if ((errorRate <= 0 && timeoutRate <= 0) || !this.applies(req.url, req.method)) return;
    const r = this.rng();
    if (r < errorRate) {
      this.ledger.count('faults_injected');
      await reply.code(503).send({ detail: 'simulated fault: service temporarily unavailable' });
      return;
    }
    if (r < errorRate + timeoutRate) {
      this.ledger.count('faults_injected');
      const closing = await this.hold(this.faults.timeoutMs ?? 30_000);
      if (closing) {
        reply.hijack();
        req.raw.socket?.destroy();
        return;
      }
      await reply.code(504).send({ detail: 'simulated fault: gateway timeout' });
    }
  };

  /** Resolves true when released by close(), false when the hold elapsed. */
  private hold(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const h: Hold = {
        timer: setTimeout(() => h.release(false), ms),
        release: (closing) => {
          clearTimeout(h.timer);
          this.holds.delete(h);
          resolve(closing);
        },
      };
      this.holds.add(h);
    });
  }

  close(): void {
    this.closed = true;
    for (const h of [...this.holds]) h.release(true);
  }
}
