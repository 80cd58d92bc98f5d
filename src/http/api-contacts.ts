/**
 * What the console's run page reads beside the run itself; no answer reads every task of the run:
 *
 * - GET …/runs/{run_id}/contacts/?page_size&page_token&status&end_reason&q — one page of the run's tasks in the
 *   v2 task shape, straight from Temporal visibility's own paging (a page token, not an offset), filtered by the
 *   TaskStatus and TaskEndReason search attributes, by number prefix (the task's workflow id holds the number)
 *   or by name prefix (the TaskContactName search attribute: the name folded by contactNameKeyword, matched
 *   with STARTS_WITH, which Temporal's SQL visibility supports on Keyword attributes). Only the page's tasks are
 *   read in full. `count` comes from the campaign's counts, or from a visibility count when an end reason,
 *   number or name is asked.
 * - GET …/runs/{run_id}/outcomes/ — final tasks by end_reason (the campaign's own `endReasons` when its
 *   progress has them, else one visibility count per reason) and by status (the campaign's own counts); an
 *   ended run's visibility counts are kept once settled.
 */
import { createHash } from 'node:crypto';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { temporal as proto } from '@temporalio/proto';
import { getProgress, RunNotFoundError, tasksQuery } from '../campaign/run-queries';
import { getRunInput, isEnded } from '../campaign/run-control';
import type { CampaignProgress, TaskState } from '../../workflows/definitions';
import { OUTCOME_BY_END_REASON } from '../../workflows/policy';
import { contactNameKeyword } from '../../workflows/search-attributes';
import { contactsQuerySchema } from './api-console-schemas';
import { runParamsSchema } from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import { loadTask, toV2Task } from '../campaign/run-views';
import { BadRequestError } from './errors';

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The digits of a number typed in a search box (`+1 415-555`, `(415) 555`), or null when it has none. */
export function numberPrefix(q: string): string | null {
  const digits = q.replace(/[\s().+-]/g, '');
  return /^\d{1,15}$/.test(digits) ? digits : null;
}

/**
 * Values of a Keyword attribute that start with `prefix`. STARTS_WITH alone is exact but SQL visibility answers
 * it with LIKE, which reads every row of the run (79 ms at 20,000 tasks on SQLite, growing with the run); the
 * BETWEEN beside it is a range of the attribute's index (2 ms, flat). The upper bound is the prefix and the
 * highest code point, so in code-point order (SQLite; PostgreSQL with the C locale, as `npm run cluster`
 * makes it) every value with the prefix is inside the range; STARTS_WITH keeps the answer exact.
 */
export function prefixFilter(attribute: string, prefix: string): string {
  return (
    `${attribute} BETWEEN ${quote(prefix)} AND ${quote(`${prefix}\u{10FFFF}`)} ` +
    `AND ${attribute} STARTS_WITH ${quote(prefix)}`
  );
}

export function contactsQuery(
  runId: string,
  f: { status?: string | undefined; end_reason?: string | undefined; q?: string | undefined },
): string {
  let q = tasksQuery(runId, f.status as Parameters<typeof tasksQuery>[1]);
  if (f.end_reason) q += ` AND TaskEndReason = ${quote(f.end_reason)}`;
  if (f.q?.trim()) {
    const digits = numberPrefix(f.q);
    q += digits
      ? ` AND ${prefixFilter('WorkflowId', `task-${runId}-${digits}`)}`
      : ` AND ${prefixFilter('TaskContactName', contactNameKeyword(f.q))}`;
  }
  return q;
}

const STATUS_NAMES = proto.api.enums.v1.WorkflowExecutionStatus;

/**
 * Page tokens as the client sees them: Temporal's token with a checksum, so a token that is not one of ours is
 * answered 400 at once (Temporal answers a malformed token with an error the client retries for seconds).
 */
export function encodePageToken(raw: Uint8Array): string {
  const sum = createHash('sha256').update(raw).digest().subarray(0, 6);
  return Buffer.concat([sum, raw]).toString('base64url');
}

export function decodePageToken(token: string): Buffer {
  const buf = Buffer.from(token, 'base64url');
  const raw = buf.subarray(6);
  if (buf.length <= 6 || !createHash('sha256').update(raw).digest().subarray(0, 6).equals(buf.subarray(0, 6)))
    throw new BadRequestError(
      'invalid_page_token',
      'page_token is not one this listing gave: start from the first page',
    );
  return raw;
}

export interface TaskPage {
  infos: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status'>[];
  nextPageToken: string | null;
}

/** One visibility page; only ids and execution statuses are decoded (no memo, no search attributes). */
export async function listTaskPage(
  client: Client,
  query: string,
  pageSize: number,
  pageToken?: string,
): Promise<TaskPage> {
  const res = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query,
    pageSize,
    nextPageToken: pageToken ? decodePageToken(pageToken) : undefined,
  });
  const infos = (res.executions ?? []).map((e) => {
    const code = e.status ?? 0;
    const full = STATUS_NAMES[code] ?? 'WORKFLOW_EXECUTION_STATUS_UNSPECIFIED';
    return {
      workflowId: e.execution?.workflowId ?? '',
      runId: e.execution?.runId ?? '',
      status: {
        code,
        name: full.replace('WORKFLOW_EXECUTION_STATUS_', ''),
      } as WorkflowExecutionInfo['status'],
    };
  });
  const token = res.nextPageToken && res.nextPageToken.length ? encodePageToken(res.nextPageToken) : null;
  return { infos, nextPageToken: token };
}

/**
 * End reasons counted for the outcomes table when the campaign does not count them: the documented ones, the
 * most common first (the counting stops once every final task with an end reason is accounted for), then the
 * task's stand-in for none.
 */
export const COUNTED_END_REASONS = [
  'USER_HUNG_UP_IN_CALL',
  'USER_DID_NOT_PICK_UP',
  'AGENT_END_CALL',
  'CALLER_HANGUP',
  'CUSTOMER_ENDED_CALL',
  'NO_ANSWER',
  ...Object.keys(OUTCOME_BY_END_REASON),
  'UNKNOWN',
].filter((r, i, all) => all.indexOf(r) === i);

/** The task statuses that are final: the outcomes table counts these tasks only (a retry may still change). */
const FINAL_TASK_STATUSES = ['completed', 'failed', 'skipped', 'expired', 'canceled'] as const;

/**
 * The campaign's progress as it may carry the counts itself: `endReasons`, the final tasks by normalised
 * end_reason, kept by the campaign as each task reports its end (absent from campaigns older than that field).
 */
export type ProgressWithEndReasons = CampaignProgress & { endReasons?: Record<string, number> };

export interface EndReasonCounts {
  counts: Record<string, number>;
  /** `campaign`: read from its progress at no cost; `visibility`: visibility count queries. */
  from: 'campaign' | 'visibility';
}

/**
 * Final tasks by end reason, never by reading tasks: the campaign's own `endReasons` when its progress has them;
 * else visibility counts over the run's final tasks — how many have an end reason, then one count per reason
 * (the documented ones, most common first, UNKNOWN, then the unknown ones the campaign has seen), one at a time
 * and only until they add up (a namespace's visibility requests are rate limited: 10 a second by default).
 * `exhaustive` counts every reason instead: right after a run's end visibility may still lag behind, and a first
 * count that lags would stop the counting early. Reasons counted zero are left out.
 */
export async function endReasonCounts(
  progress: ProgressWithEndReasons,
  count: (query: string) => Promise<number>,
  opts: { exhaustive?: boolean } = {},
): Promise<EndReasonCounts> {
  if (progress.endReasons && typeof progress.endReasons === 'object') {
    const counts: Record<string, number> = {};
    for (const [r, n] of Object.entries(progress.endReasons)) if (n > 0) counts[r] = n;
    return { counts, from: 'campaign' };
  }
  const final = FINAL_TASK_STATUSES.map(quote).join(', ');
  const base = `${tasksQuery(progress.runId)} AND TaskStatus IN (${final})`;
  let left = opts.exhaustive
    ? Number.POSITIVE_INFINITY
    : await count(`${base} AND TaskEndReason IS NOT NULL`);
  const reasons = [...new Set([...COUNTED_END_REASONS, ...Object.keys(progress.unknownEndReasons ?? {})])];
  const counts: Record<string, number> = {};
  for (const r of reasons) {
    if (left <= 0) break;
    const n = await count(`${base} AND TaskEndReason = ${quote(r)}`);
    if (n > 0) counts[r] = n;
    left -= n;
  }
  return { counts, from: 'visibility' };
}

export const apiContactsRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, auth } = ctx;

  async function inputOf(runId: string, spaceToken: string) {
    const input = await getRunInput(temporal, runId);
    if (input.spaceToken !== spaceToken) throw new RunNotFoundError(runId);
    return input;
  }

  /**
   * Contacts matching the filter. Without an end-reason or number filter the campaign's own counts say it at
   * once (a visibility count reads every matching row: linear in the run's size); they count the contacts
   * still queued in the campaign too, which have no task workflow yet.
   */
  async function contactCount(
    runId: string,
    query: string,
    f: { status?: string | undefined; end_reason?: string | undefined; q?: string | undefined },
  ): Promise<number> {
    if (f.end_reason || f.q?.trim()) return (await temporal.workflow.count(query)).count;
    const p = await getProgress(temporal, runId);
    return f.status ? p.counts[f.status as keyof typeof p.counts] : p.total;
  }

  /**
   * Outcomes counted in visibility: an ended run's kept for good once settled (a few hundred runs), a running
   * run's until a task becomes final or OUTCOMES_FRESH_MS (the console asks every 5 s; viewers share a count).
   */
  const countedOutcomes = new Map<string, { key: string; counts: Record<string, number>; until: number }>();
  const OUTCOMES_FRESH_MS = 10_000;

  app.get(
    '/runs/:run_id/contacts/',
    { config: { v2ErrorMessage: 'Error retrieving run contacts' } },
    async (request, reply) => {
      const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
      const q = parseWith(contactsQuerySchema, request.query, 'query');
      await auth.authorize(request, 'canView', space_token, run_id);
      const query = contactsQuery(run_id, q);
      const [input, page, count] = await Promise.all([
        inputOf(run_id, space_token),
        listTaskPage(temporal, query, q.page_size, q.page_token),
        contactCount(run_id, query, q),
      ]);
      const states = await Promise.all(
        page.infos.map((info) => loadTask(temporal, info as WorkflowExecutionInfo)),
      );
      const tasks = states.filter((t): t is TaskState => t !== null).map((t) => toV2Task(t, input));
      return sendEnvelope(reply, 200, 'Contacts Fetched Successfully', tasks, count, {
        next_page_token: page.nextPageToken,
      });
    },
  );

  app.get(
    '/runs/:run_id/outcomes/',
    { config: { v2ErrorMessage: 'Error retrieving run outcomes' } },
    async (request, reply) => {
      const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
      await auth.authorize(request, 'canView', space_token, run_id);
      const [, progress] = await Promise.all([
        inputOf(run_id, space_token),
        getProgress(temporal, run_id) as Promise<ProgressWithEndReasons>,
      ]);
      // Kept while no task has become final since (and for OUTCOMES_FRESH_MS at most while the run goes).
      const c = progress.counts;
      const key = `${progress.state}:${c.completed}:${c.failed}:${c.skipped}:${c.expired}:${c.canceled}`;
      const kept = countedOutcomes.get(run_id);
      let byEndReason = kept && kept.key === key && kept.until > Date.now() ? kept.counts : undefined;
      if (!byEndReason) {
        const ended = isEnded(progress.state);
        // Counted after the end was read and settled: final. Just ended: every reason counted, not kept.
        const settled = ended && Date.now() - Date.parse(progress.updatedAt) > 10_000;
        const { counts, from } = await endReasonCounts(
          progress,
          async (query) => (await temporal.workflow.count(query)).count,
          { exhaustive: ended && !settled },
        );
        byEndReason = counts;
        if (from === 'visibility' && (settled || !ended)) {
          countedOutcomes.delete(run_id);
          if (countedOutcomes.size >= 500) countedOutcomes.delete(countedOutcomes.keys().next().value!);
          countedOutcomes.set(run_id, {
            key,
            counts,
            until: settled ? Number.POSITIVE_INFINITY : Date.now() + OUTCOMES_FRESH_MS,
          });
        }
      }
      return sendEnvelope(
        reply,
        200,
        'Outcomes Fetched Successfully',
        { by_end_reason: byEndReason, by_status: { ...progress.counts } },
        Object.keys(byEndReason).length,
      );
    },
  );
};
