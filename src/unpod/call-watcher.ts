/**
 * End detection by polling, the way Unpod documents it ("a poll + process model"): one watcher per worker
 * process lists the account's live calls in ONE request (`GET …/calls?call_status=in_flight`) and, for each
 * watched call that is no longer in that list, reads the call once (`GET …/calls/{id}`) to take its final
 * record (end_reason, transcript, recording). Requests per second are one list per interval plus one read per
 * call that ended — not one read per call per interval.
 *
 * A call missing from a list is only taken as ended after its own read says so, so a list that is cut short,
 * stale or failing never ends a call early: it only delays the end (the watcher keeps trying, backing off).
 * A call is only judged by lists sent after it was registered, so a call created a moment ago is never missed
 * for not being listed yet.
 */
import type { UnpodClient } from './client';
import type { UnpodCall } from './schemas';
import { isTerminalState } from './end-reasons';
import { UnpodHttpError } from './errors';

export interface CallWatcherOptions {
  /** Floor for the list interval (ms). Default 1000. */
  minIntervalMs?: number;
  /** Longest back-off after failing lists (ms). Default 15_000. */
  maxBackoffMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Watched {
  callId: string;
  pipeId: string | undefined;
  registeredAt: number;
  intervalMs: number;
  waiters: Set<{ resolve: (c: UnpodCall) => void; reject: (e: unknown) => void }>;
}

export interface WatcherStats {
  watched: number;
  lists: number;
  reads: number;
  listFailures: number;
}

export class CallWatcher {
  readonly #unpod: UnpodClient;
  readonly #minIntervalMs: number;
  readonly #maxBackoffMs: number;
  readonly #log: NonNullable<CallWatcherOptions['log']>;
  readonly #calls = new Map<string, Watched>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #failures = 0;
  #closed = false;
  /** When the last list was sent: lists start one interval apart, however long each took. */
  #listedAt = -Infinity;
  readonly stats: WatcherStats = { watched: 0, lists: 0, reads: 0, listFailures: 0 };

  constructor(unpod: UnpodClient, o: CallWatcherOptions = {}) {
    this.#unpod = unpod;
    this.#minIntervalMs = Math.max(50, o.minIntervalMs ?? 1_000);
    this.#maxBackoffMs = o.maxBackoffMs ?? 15_000;
    this.#log = o.log ?? (() => undefined);
  }

  /**
   * Resolves with the call's final record once it has ended. `intervalMs` is how stale this caller accepts the
   * answer to be (the shortest among watched calls sets the pace). Rejects only when `signal` aborts.
   */
  watch(
    callId: string,
    o: { pipeId?: string; intervalMs?: number; signal?: AbortSignal } = {},
  ): Promise<UnpodCall> {
    if (this.#closed) return Promise.reject(new Error('call watcher is closed'));
    return new Promise<UnpodCall>((resolve, reject) => {
      // A watcher that watched nothing lists first one interval after this call (a call just placed is live): as
      // before, and what lets an agent's push come first.
      if (this.#calls.size === 0) this.#listedAt = Date.now();
      let w = this.#calls.get(callId);
      if (!w) {
        w = {
          callId,
          pipeId: o.pipeId,
          registeredAt: Date.now(),
          intervalMs: Math.max(this.#minIntervalMs, o.intervalMs ?? this.#minIntervalMs),
          waiters: new Set(),
        };
        this.#calls.set(callId, w);
      }
      const waiter = { resolve, reject };
      w.waiters.add(waiter);
      const entry = w;
      o.signal?.addEventListener(
        'abort',
        () => {
          entry.waiters.delete(waiter);
          if (entry.waiters.size === 0 && this.#calls.get(callId) === entry) this.#calls.delete(callId);
          this.stats.watched = this.#calls.size;
          reject(o.signal?.reason ?? new Error('aborted'));
        },
        { once: true },
      );
      this.stats.watched = this.#calls.size;
      this.#schedule();
    });
  }

  /**
   * A draining worker gives its watches up at once (they are only waits): each rejects, its activity fails
   * retryable, and another worker's watcher takes it over, instead of the drain waiting out its grace.
   */
  drain(reason = 'worker draining'): void {
    const watches = [...this.#calls.values()];
    this.#calls.clear();
    this.close();
    for (const w of watches)
      for (const waiter of w.waiters) waiter.reject(new Error(`${reason}: watch handed over`));
  }

  /** Stops listing; pending watches stay pending (their activities are cancelled by the worker's shutdown). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #interval(): number {
    let ms = Infinity;
    for (const w of this.#calls.values()) ms = Math.min(ms, w.intervalMs);
    if (!Number.isFinite(ms)) ms = this.#minIntervalMs;
    return this.#failures === 0 ? ms : Math.min(this.#maxBackoffMs, ms * 2 ** this.#failures);
  }

  #schedule(): void {
    if (this.#closed || this.#timer || this.#running || this.#calls.size === 0) return;
    // Counted from the last list's start, not its end: the list's own latency is not added to every end's delay.
    // After failures, the back-off counts from now.
    const wait =
      this.#failures === 0 ? Math.max(0, this.#listedAt + this.#interval() - Date.now()) : this.#interval();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, wait);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    if (this.#closed || this.#calls.size === 0) return;
    this.#running = true;
    try {
      const sentAt = Date.now();
      this.#listedAt = sentAt;
      let live: Set<string>;
      try {
        const rows = await this.#unpod.calls.listInFlight(this.#singlePipe());
        this.stats.lists++;
        live = new Set(rows.filter((r) => !isTerminalState(r.state)).map((r) => r.callId));
        this.#failures = 0;
      } catch (err) {
        this.stats.listFailures++;
        this.#failures = Math.min(this.#failures + 1, 10);
        this.#log('listing live calls failed; trying again', {
          error: String(err),
          failures: this.#failures,
        });
        return;
      }
      const gone = [...this.#calls.values()].filter((w) => w.registeredAt < sentAt && !live.has(w.callId));
      await Promise.all(gone.map((w) => this.#read(w)));
    } finally {
      this.#running = false;
      this.stats.watched = this.#calls.size;
      this.#schedule();
    }
  }

  /** The one pipe every watched call is on, to narrow the list; undefined when they differ. */
  #singlePipe(): string | undefined {
    let pipe: string | undefined;
    for (const w of this.#calls.values()) {
      if (w.pipeId === undefined) return undefined;
      if (pipe === undefined) pipe = w.pipeId;
      else if (pipe !== w.pipeId) return undefined;
    }
    return pipe;
  }

  async #read(w: Watched): Promise<void> {
    try {
      const call = await this.#unpod.calls.get(w.callId);
      this.stats.reads++;
      if (!isTerminalState(call.state)) return; // listed late or cut from a short list: still going
      if (this.#calls.get(w.callId) !== w) return;
      this.#calls.delete(w.callId);
      for (const waiter of w.waiters) waiter.resolve(call);
    } catch (err) {
      if (err instanceof UnpodHttpError && err.statusCode === 404 && this.#calls.get(w.callId) === w) {
        this.#calls.delete(w.callId); // Unpod no longer knows the call: its end will never be seen
        for (const waiter of w.waiters) waiter.reject(err);
        return;
      }
      this.#log('reading an ended call failed; trying again', { callId: w.callId, error: String(err) });
    }
  }
}
