/**
 * GET …/runs/{run_id}/tasks/: the run's tasks in the Runs API v2 task shape, paged, filtered by status.
 * Visibility lists the task workflows (by the CampaignRunId and TaskStatus search attributes) only up to the end
 * of the page asked for; only that page is read in full (result of a closed task, status query of an open one).
 */
import type { FastifyPluginAsync } from 'fastify';
import { getRunInput } from '../campaign/run-control';
import { RunNotFoundError, tasksQuery } from '../campaign/run-queries';
import type { TaskState } from '../../workflows/definitions';
import { listTasksQuerySchema, runParamsSchema } from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import { loadTask, toV2Task } from '../campaign/run-views';

export const apiTasksRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, auth } = ctx;

  app.get(
    '/runs/:run_id/tasks/',
    { config: { v2ErrorMessage: 'Error retrieving run tasks' } },
    async (request, reply) => {
      const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
      const q = parseWith(listTasksQuerySchema, request.query, 'query');
      await auth.authorize(request, 'canView', space_token, run_id);
      const input = await getRunInput(temporal, run_id);
      if (input.spaceToken !== space_token) throw new RunNotFoundError(run_id);

      // Only as much of the listing as the page needs is read (never every task of a large run), in visibility's
      // own order (stable once the run has ended; while it runs, a task that closes moves); the total is a count.
      const query = tasksQuery(run_id, q.status);
      const offset = (q.page - 1) * q.page_size;
      const { count } = await temporal.workflow.count(query);
      const infos = [];
      let i = 0;
      for await (const info of temporal.workflow.list({
        query,
        pageSize: Math.min(1000, offset + q.page_size),
      })) {
        if (i++ < offset) continue;
        infos.push(info);
        if (infos.length >= q.page_size) break;
      }
      const states = await Promise.all(infos.map((info) => loadTask(temporal, info)));
      const tasks = states.filter((t): t is TaskState => t !== null).map((t) => toV2Task(t, input));
      return sendEnvelope(reply, 200, 'Tasks Fetched Successfully', tasks, count);
    },
  );
};
