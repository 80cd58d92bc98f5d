/**
 * The record tests read: every dial, duplicates per (task, attempt) from the markers in `data` (DATA_TASK_ID,
 * DATA_ATTEMPT), every limit violation, and counters.
 */
import type { SimCall } from './sim-call';
import type { Ledger, LedgerCounts, LedgerViolation, ViolationKind } from './types';

const zeroCounts = (): LedgerCounts => ({
  dials: 0,
  violations: 0,
  faults_injected: 0,
  answers_lost: 0,
  creates_slowed: 0,
  account_failures: 0,
  pushes_sent: 0,
  pushes_dropped: 0,
  pushes_failed: 0,
});

export class LedgerBook {
  private dials: SimCall[] = [];
  private violations: LedgerViolation[] = [];
  readonly counts: LedgerCounts = zeroCounts();

  constructor(private readonly status: (sim: SimCall) => string) {}

  dial(sim: SimCall): void {
    this.dials.push(sim);
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
      g.call_ids.push(d.id);
      groups.set(key, g);
    }
    return {
      dials: this.dials.map((d) => ({
        call_id: d.id,
        account_id: d.accountId,
        pipe_id: d.pipeId,
        to_number: d.toNumber,
        from_number: d.fromNumber,
        idempotency_key: d.idempotencyKey,
        task_workflow_id: d.taskWorkflowId,
        attempt: d.attempt,
        created_at: new Date(d.createdMs).toISOString(),
        status: this.status(d),
        end_reason: d.endReason,
        ended_at: d.endedMs === null ? null : new Date(d.endedMs).toISOString(),
      })),
      duplicates: [...groups.values()].filter((g) => g.call_ids.length > 1),
      violations: this.violations.map((v) => ({ ...v })),
      counts: { ...this.counts },
    };
  }
}
