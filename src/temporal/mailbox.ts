/**
 * The worker's mailbox to campaigns: task reports posted within one flush interval go to their campaign as ONE
 * `taskReports` signal, so a campaign hears a few signals a second however many calls end (Temporal's guidance
 * for one workflow is about 5 signals a second sustained). A post resolves once its signal was accepted, so the
 * activity that posted it is retried if it was not; the campaign takes every report idempotently.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { taskReportsSignal, type TaskReport } from '../../workflows/definitions';

export interface MailboxOptions {
  /**
   * Least time between two signals to one campaign (ms). Default 250: at most 4 signals a second per worker. A
   * report posted when none was sent for that long goes at once; later ones gather until the interval is up.
   */
  flushMs?: number;
  /** Most reports in one signal (the rest go in the next one at once). Default 500. */
  maxBatch?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Pending {
  reports: TaskReport[];
  done: { resolve: () => void; reject: (err: unknown) => void };
}

export class CampaignMailbox {
  readonly #client: Client;
  readonly #flushMs: number;
  readonly #maxBatch: number;
  readonly #log: NonNullable<MailboxOptions['log']>;
  readonly #boxes = new Map<string, { pending: Pending[]; timer: NodeJS.Timeout | undefined }>();
  /** When each campaign was last sent a signal (entries older than the interval are dropped). */
  readonly #sentAt = new Map<string, number>();
  readonly stats = { posted: 0, signals: 0, failures: 0 };

  constructor(client: Client, o: MailboxOptions = {}) {
    this.#client = client;
    this.#flushMs = Math.max(0, o.flushMs ?? 250);
    this.#maxBatch = Math.max(1, o.maxBatch ?? 500);
    this.#log = o.log ?? (() => undefined);
  }

  /** Resolves when the reports reached the campaign (or the campaign is closed: nobody is left to tell). */
  post(campaignWorkflowId: string, reports: TaskReport[]): Promise<void> {
    this.stats.posted += reports.length;
    return new Promise((resolve, reject) => {
      let box = this.#boxes.get(campaignWorkflowId);
      if (!box) {
        box = { pending: [], timer: undefined };
        this.#boxes.set(campaignWorkflowId, box);
      }
      box.pending.push({ reports, done: { resolve, reject } });
      // A freed slot's report should not wait out an interval nobody used: the delay is only what keeps the
      // campaign at one signal per interval. (0 still lets the reports of this tick go together.)
      const wait = Math.max(
        0,
        (this.#sentAt.get(campaignWorkflowId) ?? -Infinity) + this.#flushMs - Date.now(),
      );
      box.timer ??= setTimeout(() => void this.#flush(campaignWorkflowId), wait);
    });
  }

  async #flush(id: string): Promise<void> {
    const box = this.#boxes.get(id);
    if (!box) return;
    box.timer = undefined;
    const batch: Pending[] = [];
    let size = 0;
    while (
      box.pending.length > 0 &&
      (batch.length === 0 || size + box.pending[0]!.reports.length <= this.#maxBatch)
    ) {
      const p = box.pending.shift()!;
      batch.push(p);
      size += p.reports.length;
    }
    if (box.pending.length === 0) this.#boxes.delete(id);
    else box.timer = setTimeout(() => void this.#flush(id), 0);
    const now = Date.now();
    this.#sentAt.set(id, now);
    for (const [k, at] of this.#sentAt)
      if (now - at >= this.#flushMs && !this.#boxes.has(k)) this.#sentAt.delete(k);
    try {
      this.stats.signals++;
      await this.#client.workflow.getHandle(id).signal(
        taskReportsSignal,
        batch.flatMap((p) => p.reports),
      );
      for (const p of batch) p.done.resolve();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        this.#log('campaign closed; reports dropped', { campaign: id, reports: size });
        for (const p of batch) p.done.resolve();
        return;
      }
      this.stats.failures++;
      for (const p of batch) p.done.reject(err);
    }
  }
}
