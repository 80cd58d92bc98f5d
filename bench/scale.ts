/**
 * `npm run bench -- scale [--contacts N] [--window W] [--timeout-min M]` (default 100,000 contacts)
 *
 * One campaign of N contacts, every call answered at once, limits lifted, run to completion (or until the
 * timeout, when it reports how far it got and at what rate). Contacts are generated as batches of 250 while they
 * are delivered, never held whole. Prints wall time, contacts per second, the largest history of any workflow run
 * (the campaign's runs across continue-as-new, the limiter's runs, every task and batch), and the worker's peak RSS.
 * Stack flags (see harness.ts `benchStackOptions`): --db, --journal, --synchronous, --cache, --activities, --wft,
 * --dc key=value, --speed, --poll-ms.
 */
import {
  benchStackOptions,
  finishedOf,
  largest,
  mb,
  numberFlag,
  printTable,
  runCampaign,
  runHistories,
  settingsText,
  startBenchStack,
  type HistorySize,
  type Row,
} from './harness';

/** Temporal's hard limits per run are 51,200 events and 50 MB; this project holds every run to these. */
const MAX_EVENTS = 10_240;
const MAX_BYTES = 10 * 1024 * 1024;

export const SCALE_DEFAULTS = { contacts: 100_000, window: 100, pollMs: 1_000, timeoutMin: 45 };

export async function run(args: string[]): Promise<void> {
  const n = numberFlag(args, 'contacts', SCALE_DEFAULTS.contacts);
  const window = numberFlag(args, 'window', SCALE_DEFAULTS.window);
  const pollIntervalMs = numberFlag(args, 'poll-ms', SCALE_DEFAULTS.pollMs);
  const timeoutMs = numberFlag(args, 'timeout-min', SCALE_DEFAULTS.timeoutMin) * 60_000;
  const opts = benchStackOptions(args);
  const stack = await startBenchStack(opts);
  try {
    const r = await runCampaign(stack, n, { window, pollIntervalMs, timeoutMs, label: 'scale' });
    const peakRss = stack.worker!.peakRss();
    const rssByMinute = stack.worker!.rssByMinute();
    const finished = finishedOf(r.progress);
    const h = await runHistories(stack.client, r);

    const describe = (x: HistorySize | undefined) =>
      x ? `${x.events.toLocaleString('en-US')} events, ${mb(x.bytes)}` : '-';
    const runs: { what: string; runs: HistorySize[] }[] = [
      { what: 'campaign', runs: h.campaignRuns },
      { what: 'account limiter', runs: h.limiterRuns },
    ];
    const all = [...h.campaignRuns, ...h.limiterRuns, ...(h.othersMax ? [h.othersMax] : [])];
    const top = largest(all)!;
    const topBytes = all.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const wallS = r.wallMs / 1000;

    printTable([
      {
        contacts: n,
        finished: r.completed ? finished : `${finished} (timed out)`,
        'wall time': `${(wallS / 60).toFixed(1)} min (${wallS.toFixed(0)} s)`,
        'contacts/s': (finished / wallS).toFixed(1),
        'largest history (events)': `${top.events.toLocaleString('en-US')} (${top.workflowId.split('-')[0]})`,
        'largest history (bytes)': `${mb(topBytes.bytes)} (${topBytes.workflowId.split('-')[0]})`,
        'worker peak RSS': mb(peakRss),
      },
    ]);
    console.log('');
    const rows: Row[] = runs.map(({ what, runs: rs }) => ({
      workflow: what,
      runs: rs.length,
      'largest run': describe(largest(rs)),
      'largest run (bytes)': mb(rs.reduce((a, b) => Math.max(a, b.bytes), 0)),
    }));
    rows.push({
      workflow: 'tasks and batches',
      runs: h.listed,
      'largest run': describe(h.othersMax),
      'largest run (bytes)': mb(h.othersMax?.bytes ?? 0),
    });
    printTable(rows);
    // Flat memory: the last full minute against the second (the first holds the start-up).
    const full = rssByMinute.slice(0, -1);
    console.log(
      `\nworker RSS, highest each minute: ${rssByMinute.map((b) => (b / 1024 / 1024).toFixed(0)).join(', ')} MB` +
        (full.length >= 3
          ? ` (last full minute / second: ${(full[full.length - 1]! / full[1]!).toFixed(2)})`
          : ''),
    );
    console.log(`\nsettings: ${settingsText(opts, window)}; poll interval ${pollIntervalMs} ms`);
    const over = all.filter((x) => x.events > MAX_EVENTS || x.bytes > MAX_BYTES);
    console.log(
      over.length === 0
        ? `every run within ${MAX_EVENTS.toLocaleString('en-US')} events and ${mb(MAX_BYTES)}`
        : `OVER THE BOUND: ${over.map((x) => `${x.workflowId} run ${x.runId}: ${describe(x)}`).join('; ')}`,
    );
    if (!r.completed) {
      console.log(
        `not finished within ${timeoutMs / 60_000} min: ${finished} of ${n} at ${(finished / wallS).toFixed(1)} contacts/s`,
      );
    }
  } finally {
    await stack.close();
  }
}
