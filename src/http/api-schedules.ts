/**
 * Recurring runs over the API, on src/schedules (Temporal Schedules): GET/POST …/schedules/, GET/DELETE
 * …/schedules/{id}/, POST …/schedules/{id}/pause/, /unpause/, /trigger/. A space sees only the schedules whose
 * runs go to it (the space is kept in the schedule's memo and its action's settings). Over the API a schedule's
 * source is an http(s) URL, never a path on the server. Reading needs canView; the rest canStart.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { policyFrom } from '../campaign/policy-file';
import { DEFAULTS } from '../config/config';
import { parseDeadline, parseTiming, TimingOptionError } from '../campaign/timing-options';
import {
  createCampaignSchedule,
  deleteCampaignSchedule,
  describeCampaignSchedule,
  listCampaignSchedules,
  pauseCampaignSchedule,
  triggerCampaignSchedule,
  unpauseCampaignSchedule,
  type ScheduleView,
} from '../schedules/schedules';
import { createScheduleBodySchema, scheduleParamsSchema } from './api-console-schemas';
import { spaceParamsSchema } from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import { BadRequestError, NotFoundError } from './errors';

/** A schedule's timing options are part of the schedule: their refusal answers `invalid_schedule`. */
function toHttp(err: unknown): unknown {
  if (err instanceof TimingOptionError) return new BadRequestError('invalid_schedule', err.message);
  return err;
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toHttp(err);
  }
}

function toApiView(v: ScheduleView) {
  return {
    id: v.id,
    spec: v.spec,
    source: v.source,
    paused: v.paused,
    note: v.note,
    next_run_at: v.nextRunTimes[0] ?? null,
    last_run_at: v.recentRuns[0]?.takenAt ?? null,
    overlap: v.overlap,
    actions: v.actions,
    next_run_times: v.nextRunTimes,
    recent_runs: v.recentRuns.map((r) => ({
      scheduled_at: r.scheduledAt,
      taken_at: r.takenAt,
      run_id: r.runId,
      status: r.status,
      rows: r.result?.rows ?? null,
      valid: r.result?.valid ?? null,
      rejected: r.result?.rejected ?? null,
    })),
  };
}

export const apiSchedulesRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, taskQueue, auth, opts } = ctx;

  /** The schedule, when its runs go to this space; else 404 (another space's schedule is not disclosed). */
  async function scheduleOf(id: string, space: string): Promise<ScheduleView> {
    const v = await mapped(() => describeCampaignSchedule(temporal, id, 5));
    if (v.input?.settings.spaceToken !== space)
      throw new NotFoundError('schedule_not_found', `no schedule '${id}'`);
    return v;
  }

  app.get(
    '/schedules/',
    { config: { v2ErrorMessage: 'Error fetching schedules' } },
    async (request, reply) => {
      const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
      await auth.authorize(request, 'canView', space_token);
      const all = await listCampaignSchedules(temporal);
      const mine = all
        .filter((s) => s.space === space_token)
        .map((s) => ({
          id: s.id,
          spec: s.spec,
          source: s.source,
          paused: s.paused,
          note: s.note,
          next_run_at: s.nextRunAt,
          last_run_at: s.lastRunAt,
        }));
      return sendEnvelope(reply, 200, 'Schedules Fetched Successfully', mine, mine.length);
    },
  );

  app.post(
    '/schedules/',
    { config: { v2ErrorMessage: 'Error creating schedule' } },
    async (request, reply) => {
      const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
      const principal = await auth.authorize(request, 'canStart', space_token);
      const b = parseWith(createScheduleBodySchema, request.body, 'body');
      let timing;
      let deadline;
      try {
        timing = parseTiming({
          callDays: b.call_days || undefined,
          callHours: b.call_hours || undefined,
          blackout: b.blackout || undefined,
          zone: b.zone || undefined,
        }).timing;
        deadline = b.deadline ? parseDeadline(b.deadline) : undefined;
      } catch (err) {
        throw toHttp(err);
      }
      const policy = (() => {
        try {
          return policyFrom(b.policy ?? {});
        } catch (err) {
          throw new BadRequestError('invalid_policy', (err as Error).message);
        }
      })();
      await mapped(() =>
        createCampaignSchedule(temporal, taskQueue, {
          id: b.id,
          timing: {
            cron: b.cron,
            every: b.every,
            timezone: b.schedule_timezone,
          },
          overlap: b.overlap,
          paused: b.paused,
          note: b.note,
          input: {
            source: b.source_url,
            region: (b.region ?? opts.defaultRegion) as CountryCode,
            settings: {
              accountId: principal.account ?? opts.defaultAccount,
              spaceToken: space_token,
              call: {
                pipeId: b.pipe_id ?? opts.defaultPipeId,
                ...((b.agent_id ?? opts.defaultAgentId)
                  ? { agentId: b.agent_id ?? opts.defaultAgentId }
                  : {}),
              },
              policy,
              window: b.window ?? DEFAULTS.window,
              user: principal.user,
              ...timing,
            },
            ...(deadline ? { deadline } : {}),
            timezoneFromNumber: true,
          },
        }),
      );
      const view = toApiView(await scheduleOf(b.id, space_token));
      return sendEnvelope(reply, 201, 'Schedule Created Successfully', view, 1);
    },
  );

  app.get(
    '/schedules/:schedule_id/',
    { config: { v2ErrorMessage: 'Error fetching schedule' } },
    async (request, reply) => {
      const { space_token, schedule_id } = parseWith(scheduleParamsSchema, request.params, 'path');
      await auth.authorize(request, 'canView', space_token);
      const view = toApiView(await scheduleOf(schedule_id, space_token));
      return sendEnvelope(reply, 200, 'Schedule Fetched Successfully', view, 1);
    },
  );

  app.delete(
    '/schedules/:schedule_id/',
    { config: { v2ErrorMessage: 'Error deleting schedule' } },
    async (request, reply) => {
      const { space_token, schedule_id } = parseWith(scheduleParamsSchema, request.params, 'path');
      await auth.authorize(request, 'canStart', space_token);
      await scheduleOf(schedule_id, space_token);
      await mapped(() => deleteCampaignSchedule(temporal, schedule_id));
      return sendEnvelope(reply, 200, 'Schedule Deleted Successfully', { id: schedule_id }, 1);
    },
  );

  const actions = {
    pause: (id: string) => pauseCampaignSchedule(temporal, id, 'paused from the console API'),
    unpause: (id: string) => unpauseCampaignSchedule(temporal, id, 'unpaused from the console API'),
    trigger: (id: string) => triggerCampaignSchedule(temporal, id),
  } as const;
  for (const [action, run] of Object.entries(actions)) {
    app.post(
      `/schedules/:schedule_id/${action}/`,
      { config: { v2ErrorMessage: `Error requesting schedule ${action}` } },
      async (request, reply) => {
        const { space_token, schedule_id } = parseWith(scheduleParamsSchema, request.params, 'path');
        await auth.authorize(request, 'canStart', space_token);
        await scheduleOf(schedule_id, space_token);
        await mapped(() => run(schedule_id));
        const view = toApiView(await scheduleOf(schedule_id, space_token));
        return sendEnvelope(reply, 200, `Schedule ${action} requested`, view, 1);
      },
    );
  }
};
