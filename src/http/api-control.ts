/**
 * Run control: POST …/runs/{run_id}/pause/, /resume/, /cancel/ (body {hangup}), /retry/ (body {which}).
 * Pause, resume and cancel are signals (applied by the campaign in order; the answer shows the run as read
 * just after sending) and need canClose; a retry starts a new run over the contacts that ended failed or
 * unanswered, with the settings of the first, and needs canStart. A run that has ended answers 409 to pause,
 * resume and cancel; a run still going answers 409 to retry.
 */
import type { FastifyPluginAsync } from 'fastify';
import { controlRun, getRunInput, retryRun, settingsOf, type ControlAction } from '../campaign/run-control';
import { RunNotFoundError } from '../campaign/run-queries';
import { cancelBodySchema, retryBodySchema, runParamsSchema } from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import { loadRun, toV2Run } from '../campaign/run-views';

const MESSAGES: Record<ControlAction, string> = {
  pause: 'Run Pause Requested',
  resume: 'Run Resume Requested',
  cancel: 'Run Cancel Requested',
};

export const apiControlRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, taskQueue, auth, opts } = ctx;

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/runs/:run_id/${action}/`,
      { config: { v2ErrorMessage: `Error requesting ${action}` } },
      async (request, reply) => {
        const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
        await auth.authorize(request, 'canClose', space_token, run_id);
        const body =
          action === 'cancel' ? parseWith(cancelBodySchema, request.body, 'body') : { hangup: false };
        const input = await getRunInput(temporal, run_id);
        if (input.spaceToken !== space_token) throw new RunNotFoundError(run_id);
        await controlRun(temporal, run_id, action, body.hangup);
        const run = toV2Run(await loadRun(temporal, run_id, space_token), opts.runMode);
        return sendEnvelope(reply, 200, MESSAGES[action], run, 1);
      },
    );
  }

  app.post(
    '/runs/:run_id/retry/',
    { config: { v2ErrorMessage: 'Error retrying run' } },
    async (request, reply) => {
      const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
      const principal = await auth.authorize(request, 'canStart', space_token, run_id);
      const { which } = parseWith(retryBodySchema, request.body, 'body');
      const input = await getRunInput(temporal, run_id);
      if (input.spaceToken !== space_token) throw new RunNotFoundError(run_id);
      const started = await retryRun(temporal, taskQueue, run_id, which, {
        ...settingsOf(input),
        user: principal.user,
      });
      if (!started) {
        return sendEnvelope(reply, 200, 'No Tasks To Retry', null, 0, {
          x_campaign: { retry_of: run_id, retried: 0 },
        });
      }
      const run = toV2Run(await loadRun(temporal, started.runId, space_token), opts.runMode);
      return sendEnvelope(reply, 201, 'Retry Run Created Successfully', run, 1, {
        x_campaign: { retry_of: run_id, retried: started.retried },
      });
    },
  );
};
