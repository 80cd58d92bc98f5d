/**
 * The run commands: start, status, tasks, pause, resume, cancel, export, retry. Each takes a connected client
 * and prints; errors name the flag, row or id at fault.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { stringify } from 'csv-stringify';
import { safeCsvRow } from '../contacts/csv-cells';
import type { CountryCode } from 'libphonenumber-js';
import { ingestContacts, loadDoNotCall, type IngestSummary } from '../contacts';
import type { RunSettings } from '../campaign/start-run';
import { NoValidRowsError, startRunFromList } from '../campaign/start-from-list';
import {
  getProgress,
  listRuns,
  listTasks,
  readEta,
  readEtaInputs,
  runEta,
  RunNotFoundError,
  toExportRow,
  type RunState,
} from '../campaign/run-queries';
import { controlRun, retryRun, type ControlAction, type RetryWhich } from '../campaign/run-control';
import type { CampaignProgress, TaskStatus } from '../../workflows/definitions';
import { progressLine, progressTable, table } from './output';
import { CliError } from './errors';
import { describeEstimate, estimate, formatDuration, limiterState } from '../campaign/limits';
import { DEFAULT_LIMITS, type Limits } from '../../workflows/limiter-core';

export { CliError } from './errors';

export interface StartOptions {
  settings: RunSettings;
  region: CountryCode;
  doNotCall?: string;
  rejects?: string;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  batchSize?: number;
  /** remind_before for rows without one (ms), and the zone of appointment times written without one. */
  remindBeforeMs?: number;
  defaultTimezone?: string;
  meanCallMs?: number;
}

/** The limits in force for an account: its running limiter's, else the run's own, else the defaults. */
async function limitsFor(client: Client, settings: RunSettings): Promise<Limits> {
  const running = await limiterState(client, settings.accountId);
  return running?.limits ?? { ...DEFAULT_LIMITS, ...settings.limits };
}

function summaryText(file: string, s: IngestSummary): string {
  const lines = [
    `${file}: ${s.rows} rows — ${s.valid} to call, ${s.skipped.duplicate} duplicate, ${s.skipped.do_not_call} on the do-not-call list, ${s.rejected} rejected`,
  ];
  for (const r of s.rejects)
    lines.push(`  line ${r.line}${r.column ? `, column ${r.column}` : ''}: ${r.reason}`);
  if (s.rejected > s.rejects.length) lines.push(`  … and ${s.rejected - s.rejects.length} more`);
  if (s.rejectsPath && s.rejected) lines.push(`  rejected rows written to ${s.rejectsPath}`);
  return lines.join('\n');
}

export async function startCommand(
  client: Client | null,
  taskQueue: string,
  file: string,
  o: StartOptions,
): Promise<{ runId?: string; progress?: CampaignProgress }> {
  if (!fs.existsSync(file)) throw new CliError(`<csv> ${file}: no such file`);
  const doNotCall = o.doNotCall ? await loadDoNotCall(o.doNotCall, o.region) : undefined;
  const rejectsPath = o.rejects ?? `${file.replace(/\.csv$/i, '')}.rejects.csv`;
  const { batches, summary } = ingestContacts(fs.createReadStream(file), {
    defaultRegion: o.region,
    doNotCall,
    rejectsPath,
    batchSize: o.batchSize,
    // A row without a zone gets its number's, where the country or area code has a single one.
    timezoneFromNumber: true,
    remindBefore: o.remindBeforeMs,
    defaultTimezone: o.defaultTimezone,
  });

  if (o.dryRun || !client) {
    for await (const _ of batches) {
      // drain: validation only
    }
    const s = await summary;
    const need = estimate(s.valid, { ...DEFAULT_LIMITS, ...o.settings.limits }, o.meanCallMs);
    const late = deadlineWarning(o.settings.deadline, need.minimumMs);
    if (o.json) console.log(JSON.stringify({ dryRun: true, summary: s, estimate: need }, null, 2));
    else {
      console.log(summaryText(file, s));
      console.log(`${describeEstimate(need)} (at ${o.settings.limits ? "the run's" : 'the default'} limits)`);
      console.log('\npreview (dry run: nothing started):');
      console.log(
        table(
          s.preview.map((c) => ({
            line: c.line,
            phone: c.phone,
            name: c.name ?? '',
            metadata: JSON.stringify(c.metadata),
          })),
        ),
      );
    }
    if (late) console.error(late);
    return {};
  }

  let started;
  try {
    started = await startRunFromList(
      client,
      taskQueue,
      { ...o.settings, source: path.basename(file) },
      { batches, summary },
    );
  } catch (err) {
    // The rows and why each was rejected, then the one error line.
    if (err instanceof NoValidRowsError && !o.json) console.log(summaryText(file, err.summary));
    throw err;
  }
  const s = started.summary;
  const need = estimate(s.valid, await limitsFor(client, o.settings), o.meanCallMs);
  const late = deadlineWarning(o.settings.deadline, need.minimumMs);
  if (o.json && !o.wait)
    console.log(JSON.stringify({ runId: started.runId, summary: s, estimate: need }, null, 2));
  else if (!o.json) {
    console.log(`run ${started.runId} started (workflow ${started.workflowId})`);
    console.log(summaryText(file, s));
    console.log(describeEstimate(need));
  }
  if (late) console.error(late);
  if (!o.wait) return { runId: started.runId };
  const final = await watchProgress(client, started.runId, !o.json, 500, o.meanCallMs);
  if (o.json) console.log(JSON.stringify({ runId: started.runId, summary: s, progress: final }, null, 2));
  else console.log(`\n${progressTable(final)}`);
  return { runId: started.runId, progress: final };
}

function deadlineWarning(deadline: string | undefined, needMs: number): string | undefined {
  if (!deadline || Date.now() + needMs <= Date.parse(deadline)) return undefined;
  return (
    `warning: --deadline ${deadline} cannot be met at these limits: the run needs at least ` +
    `${formatDuration(needMs)}, until ${new Date(Date.now() + needMs).toISOString()}; ` +
    'contacts not reached by then will end expired'
  );
}

/** How often a watched run's ETA is worked out again (it reads the limiter and the waiting tasks). */
const ETA_REFRESH_MS = 10_000;

/**
 * Polls the progress query until the run ends, printing a live line: rewritten in place on a terminal, else
 * printed only when it changes. Ctrl-C stops watching, says the run goes on, and exits 130.
 */
export async function watchProgress(
  client: Client,
  runId: string,
  print: boolean,
  everyMs = 500,
  meanCallMs?: number,
): Promise<CampaignProgress> {
  const tty = Boolean(process.stdout.isTTY);
  let last = '';
  let inputs: { at: number; read: Awaited<ReturnType<typeof readEtaInputs>> } | undefined;
  const onSigint = () => {
    if (print && tty) process.stdout.write('\n');
    console.error(
      `stopped watching; run ${runId} goes on (unpod-campaigns status ${runId}, or cancel ${runId})`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const p = await getProgress(client, runId);
      if (print) {
        // The limiter and the waiting contacts are read every ETA_REFRESH_MS; the ETA is worked out every poll.
        if (p.state === 'running' && (!inputs || Date.now() - inputs.at > ETA_REFRESH_MS))
          inputs = { at: Date.now(), read: await readEtaInputs(client, p) };
        const eta = inputs ? runEta(p, { ...inputs.read, meanCallMs, nowMs: Date.now() }) : null;
        const line = progressLine({ ...p, eta });
        if (tty) process.stdout.write(`\r\x1b[2K${line}`);
        else if (line !== last) console.log(line);
        last = line;
      }
      if (p.state === 'completed' || p.state === 'canceled') {
        if (print && tty) process.stdout.write('\n');
        return p;
      }
      await delay(everyMs);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function statusCommand(
  client: Client,
  runId: string,
  o: { watch?: boolean; json?: boolean },
): Promise<void> {
  if (o.watch) {
    const p = await watchProgress(client, runId, !o.json);
    if (o.json) console.log(JSON.stringify(p, null, 2));
    else console.log(progressTable(p));
    return;
  }
  const read = await getProgress(client, runId);
  const p = { ...read, eta: await readEta(client, read) };
  if (o.json) console.log(JSON.stringify(p, null, 2));
  else {
    console.log(
      `run ${runId}: ${p.state}, ${p.total} contacts${p.inputClosed ? '' : ' (input still arriving)'}`,
    );
    console.log(
      `started ${p.startedAt}, updated ${p.updatedAt}${p.eta ? `, eta ${p.eta} (at the earliest)` : ''}`,
    );
    console.log(`attempts ${p.attempts}, retries waiting ${p.retriesWaiting}`);
    if (p.pausedReason) console.log(`paused by the run itself: ${p.pausedReason}`);
    const unknown = Object.entries(p.unknownEndReasons ?? {});
    if (unknown.length > 0) {
      console.log(
        `end reasons the policy does not know (treated as failures): ${unknown.map(([r, n]) => `${r} ×${n}`).join(', ')}`,
      );
    }
    if (p.waitingForDailyBudget) {
      console.log(`${p.waitingForDailyBudget} tasks wait for the account's tasks/day budget to reset`);
    }
    const open = p.counts.pending + p.counts.ringing + p.counts.active;
    if (open > 0 && p.state !== 'canceling') {
      const limits = (await limiterState(client, p.accountId))?.limits ?? DEFAULT_LIMITS;
      console.log(`remaining: ${describeEstimate(estimate(open, limits))}`);
    }
    console.log('');
    console.log(progressTable(p));
  }
  return;
}

export async function tasksCommand(
  client: Client,
  runId: string,
  o: { status?: TaskStatus; json?: boolean },
): Promise<void> {
  await getProgress(client, runId); // names a missing run
  const tasks = await listTasks(client, runId, o.status);
  if (o.json)
    // Every time as ISO 8601 (the attempts' permit grant is kept in epoch ms inside the workflow).
    console.log(
      JSON.stringify(
        tasks.map((t) => ({
          ...t,
          attempts: t.attempts.map((a) => ({
            ...a,
            ...(a.permitGrantedAt !== undefined
              ? { permitGrantedAt: new Date(a.permitGrantedAt).toISOString() }
              : {}),
          })),
        })),
        null,
        2,
      ),
    );
  else
    console.log(
      table(
        tasks.map((t) => ({
          line: t.line,
          phone: t.phone,
          name: t.name ?? '',
          status: t.status,
          attempts: t.attempts.length,
          end_reason: t.endReason ?? '',
          reason: t.reason ?? (t.nextAttemptAt ? `next attempt ${t.nextAttemptAt}` : ''),
        })),
      ),
    );
  return;
}

export async function controlCommand(
  client: Client,
  runId: string,
  action: ControlAction,
  hangup = false,
): Promise<void> {
  await controlRun(client, runId, action, hangup);
  console.log(
    `run ${runId}: ${action}${action === 'cancel' ? (hangup ? ' (calls in progress hung up)' : ' (calls in progress allowed to finish)') : ''} requested`,
  );
  return;
}

export async function exportCommand(
  client: Client,
  runId: string,
  o: { format: 'csv' | 'json'; out?: string },
): Promise<void> {
  await getProgress(client, runId);
  const out = o.out ? fs.createWriteStream(o.out) : process.stdout;
  // In contact-line order: an operator reads the export beside the list they uploaded.
  // The list's own columns (call metadata) follow ours, the union over all rows, so every row has every column.
  const tasks = await listTasks(client, runId);
  const metaKeys = [...new Set(tasks.flatMap((t) => Object.keys(t.metadata)))];
  const rows = tasks.map((t) => {
    const row: Record<string, unknown> = { ...toExportRow(t) };
    for (const k of metaKeys) if (!(k in row)) row[k] = t.metadata[k] ?? '';
    return row;
  });
  if (o.format === 'json') {
    out.write(JSON.stringify(rows, null, 2) + '\n');
  } else {
    await new Promise<void>((resolve, reject) => {
      const csv = stringify({ header: true });
      // Formula-like cells (=, +, -, @, tab, CR) get a leading apostrophe: the file is opened in spreadsheets.
      Readable.from(rows.map((r) => safeCsvRow(r)))
        .pipe(csv)
        .on('error', reject);
      csv.pipe(out, { end: out !== process.stdout });
      csv.on('end', resolve).on('error', reject);
    });
  }
  if (o.out) await new Promise((r) => (out as fs.WriteStream).end(r));
  return;
}

export async function retryCommand(
  client: Client,
  taskQueue: string,
  runId: string,
  which: RetryWhich,
  settings: RunSettings,
  json?: boolean,
): Promise<void> {
  const started = await retryRun(client, taskQueue, runId, which, settings);
  if (!started) {
    console.log(`run ${runId}: no contacts ended ${which}; nothing to retry`);
    return;
  }
  if (json) console.log(JSON.stringify({ runId: started.runId, contacts: started.contacts, retryOf: runId }));
  else
    console.log(
      `run ${started.runId} started over ${started.contacts} contact${started.contacts === 1 ? '' : 's'} of ${runId} that ended ${which}`,
    );
  return;
}

export { RunNotFoundError };

export async function runsCommand(
  client: Client,
  o: { space?: string; account?: string; status?: RunState; limit: number; json?: boolean },
): Promise<void> {
  const runs = await listRuns(client, o);
  if (o.json) {
    console.log(JSON.stringify(runs, null, 2));
    return;
  }
  console.log(
    table(
      runs.map((r) => ({
        run_id: r.runId,
        state: r.state,
        done: `${r.done}/${r.total}`,
        started: r.startedAt.slice(0, 19).replace('T', ' '),
        account: r.accountId ?? '',
        space: r.spaceToken ?? '',
      })),
    ),
  );
}
