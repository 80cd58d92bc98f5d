/** Terminal output for the CLI: a progress line and plain tables. No colour codes in non-TTY output. */
import type { CampaignProgress } from '../../workflows/definitions';

export function table(rows: Record<string, string | number>[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => String(r[c] ?? '')))),
  ].join('\n');
}

export function progressLine(p: CampaignProgress, width = 30): string {
  const done = p.counts.completed + p.counts.failed + p.counts.skipped + p.counts.expired + p.counts.canceled;
  const total = Math.max(p.total, 1);
  const filled = Math.round((done / total) * width);
  const bar = '#'.repeat(filled) + '.'.repeat(Math.max(0, width - filled));
  const c = p.counts;
  return (
    `[${bar}] ${done}/${p.total} ${p.state}  ` +
    `pending ${c.pending} ringing ${c.ringing} active ${c.active} completed ${c.completed} failed ${c.failed} ` +
    `skipped ${c.skipped}${c.canceled ? ` canceled ${c.canceled}` : ''}${c.expired ? ` expired ${c.expired}` : ''}  ` +
    `attempts ${p.attempts} retries waiting ${p.retriesWaiting}${p.eta ? `  eta ${p.eta}` : ''}`
  );
}

export function progressTable(p: CampaignProgress): string {
  const rows = Object.entries(p.counts).map(([status, count]) => ({
    status,
    contacts: count,
    share: p.total ? `${((count / p.total) * 100).toFixed(1)}%` : '-',
  }));
  return table(rows);
}
