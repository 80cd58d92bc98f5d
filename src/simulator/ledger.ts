/** The record tests read: every dial, duplicates per (task, attempt), every limit violation, and counters. */
import type { Call } from '../unpod/schemas';
import type { Ledger, LedgerCounts, LedgerViolation, ViolationKind } from './types';

export interface DialEntry {
  call: Call;
  accountId: string;
  idempotencyKey: string | null;
  taskWorkflowId: string | null;
  attempt: number | null;
}

const zeroCounts = (): LedgerCounts => ({
  dials: 0,
  violations: 0,
  webhooks_sent: 0,
  webhooks_dropped: 0,
  webhooks_duplicated: 0,
  webhooks_failed: 0,
  faults_injected: 0,
});

export class LedgerBook {
  private dials: DialEntry[] = [];
  private violations: LedgerViolation[] = [];
  readonly counts: LedgerCounts = zeroCounts();

  dial(entry: DialEntry): void {
    this.dials.push(entry);
    this.counts.dials++;
  }

  violation(kind: ViolationKind, accountId: string, detail: string): void {
    this.violations.push({ kind, account_id: accountId, at: new Date().toISOString(), detail });
    this.counts.violations++;
  }

  count(key: Exclude<keyof LedgerCounts, 'dials' | 'violations'>, n = 1): void {
    this.counts[key] += n;
  }

  reset(): void {
    this.dials = [];
    this.violations = [];
    Object.assign(this.counts, zeroCounts());
  }

  snapshot(): Ledger {
    const groups = new Map<
      string,
      { task_workflow_id: string; attempt: number | null; call_ids: string[] }
    >();
    for (const d of this.dials) {
      if (d.taskWorkflowId === null) continue;
      const key = JSON.stringify([d.taskWorkflowId, d.attempt]);
      const g = groups.get(key) ?? { task_workflow_id: d.taskWorkflowId, attempt: d.attempt, call_ids: [] };
      g.call_ids.push(d.call.call_id);
      groups.set(key, g);
    }
    return {
      dials: this.dials.map((d) => ({
        call_id: d.call.call_id,
        account_id: d.accountId,
        to_number: d.call.to_number,
        idempotency_key: d.idempotencyKey,
        task_workflow_id: d.taskWorkflowId,
        attempt: d.attempt,
        created_at: d.call.created_at,
        status: d.call.status,
        end_reason: d.call.end_reason,
      })),
      duplicates: [...groups.values()].filter((g) => g.call_ids.length > 1),
      violations: this.violations.map((v) => ({ ...v })),
      counts: { ...this.counts },
    };
  }
}
