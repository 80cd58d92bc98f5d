/**
 * The other documented resources, kept small and consistent with the calls the simulator holds:
 * v1 organizations, spaces, agents, tasks (create → starts a call), runs?task_id, call-logs; v2 runs and run tasks.
 */
import type { FastifyInstance } from 'fastify';
import { createTaskRequestSchema } from '../unpod/schemas';
import type { AccountState } from './accounts';
import { authenticate } from './auth';
import { badRequest } from './http-util';
import { respondCreate } from './routes-calls';
import type { SimCall } from './sim-call';
import type { CallEngine } from './state-machine';

type Q = Record<string, unknown>;
const SIM_AGENT = { handle: 'sim-agent', name: 'Simulator Agent' };
const ADHOC_RUN = 'R_adhoc';
const spaceToken = (a: AccountState) => `sp_${a.id}`;
const v1RunId = (s: SimCall) => `R${s.call.call_id.slice(5)}`;
const v2RunId = (s: SimCall) => s.runId ?? ADHOC_RUN;
const noMs = (iso: string | null | undefined) => (iso ? iso.slice(0, 19) : '');

function v1RunStatus(s: SimCall): 'queued' | 'in_progress' | 'completed' | 'failed' {
  const st = s.call.status;
  return st === 'pending' ? 'queued' : st === 'ringing' || st === 'active' ? 'in_progress' : st;
}

function taskView(s: SimCall) {
  return { task_id: s.taskId, run_id: v1RunId(s), call_id: s.call.call_id, status: v1RunStatus(s) };
}

function v1Run(s: SimCall) {
  return {
    run_id: v1RunId(s),
    task_id: s.taskId,
    call_id: s.call.call_id,
    status: v1RunStatus(s),
    end_reason: s.call.end_reason,
  };
}

function v2Task(a: AccountState, s: SimCall) {
  const c = s.call;
  const ended = c.status === 'completed' || c.status === 'failed';
  return {
    space_id: a.id,
    thread_id: null,
    user: a.id,
    run_id: v2RunId(s),
    task_id: s.taskId,
    execution_type: 'call',
    status: c.status,
    task: { objective: 'outbound call' },
    input: { ...c.metadata, contact_number: c.to_number },
    output: ended
      ? {
          id: c.call_id,
          type: 'outbound',
          startedAt: c.started_at ?? null,
          endedAt: c.ended_at ?? null,
          endedReason: c.end_reason,
          transcript: c.transcript ?? null,
          recordingUrl: c.recording_url ?? null,
          summary: c.summary ?? null,
          cost: c.cost ?? null,
          customer: { number: c.to_number },
        }
      : null,
    created: noMs(c.created_at),
    modified: noMs(c.ended_at ?? c.started_at ?? c.created_at),
  };
}

const envelope = (message: string, data: unknown[]) => ({
  count: data.length,
  status_code: 200,
  message,
  data,
});

export function registerResourceRoutes(app: FastifyInstance, engine: CallEngine): void {
  app.get('/api/v1/organizations/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Bearer');
    return a ? { results: [{ id: a.id, name: `Simulated org ${a.id}` }] } : reply;
  });

  app.get('/api/v1/spaces/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Bearer');
    return a
      ? { results: [{ id: 1, name: 'Simulator Space', token: spaceToken(a), domain: 'simulator' }] }
      : reply;
  });

  app.get('/api/v1/agents/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Bearer');
    return a ? { results: [SIM_AGENT] } : reply;
  });

  app.post('/api/v1/tasks/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Bearer');
    if (!a) return reply;
    const parsed = createTaskRequestSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const t = parsed.data;
    if (!/^\+[1-9]\d{6,14}$/.test(t.phone_number)) {
      return reply.code(400).send({
        detail: 'invalid request body: phone_number: must be E.164, e.g. +14155552671',
        errors: [{ field: 'phone_number', message: 'must be E.164, e.g. +14155552671' }],
      });
    }
    const body = {
      pipe_id: `pipe_${t.space_token}`,
      to_number: t.phone_number,
      agent_id: t.agent_handle,
      ...(t.metadata ? { metadata: t.metadata } : {}),
    };
    return respondCreate(engine, a, body, req, reply, taskView);
  });

  app.get('/api/v1/runs/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Bearer');
    if (!a) return reply;
    const taskId = (req.query as Q).task_id;
    return {
      results: engine
        .callsOf(a)
        .filter((s) => !taskId || s.taskId === taskId)
        .map(v1Run),
    };
  });

  app.get('/api/v1/call-logs/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Bearer');
    if (!a) return reply;
    const results = engine
      .callsOf(a)
      .filter((s) => s.call.status === 'completed' || s.call.status === 'failed')
      .map((s) => ({
        call_id: s.call.call_id,
        task_id: s.taskId,
        phone_number: s.call.to_number,
        duration: s.call.duration_s ?? null,
        transcript: s.call.transcript ?? null,
        outcome: s.call.end_reason,
        sentiment: s.call.status === 'completed' ? 'neutral' : null,
        created: s.call.created_at,
      }));
    return { results };
  });

  const v2Runs = (a: AccountState) => {
    const groups = new Map<string, SimCall[]>();
    for (const s of engine.callsOf(a)) groups.set(v2RunId(s), [...(groups.get(v2RunId(s)) ?? []), s]);
    return [...groups.entries()].map(([runId, sims]) => {
      const running = sims.some((s) => s.call.status !== 'completed' && s.call.status !== 'failed');
      return {
        space_id: a.id,
        user: a.id,
        thread_id: null,
        run_id: runId,
        collection_ref: null,
        run_mode: 'dev',
        status: running ? 'running' : 'completed',
        batch_count: 1,
        created: noMs(sims[0]!.call.created_at),
        modified: noMs(sims.at(-1)!.call.ended_at ?? sims.at(-1)!.call.created_at),
      };
    });
  };

  app.get('/api/v2/platform/spaces/:space/runs/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Token');
    return a ? envelope('Runs Fetched Successfully', v2Runs(a)) : reply;
  });

  app.get('/api/v2/platform/spaces/:space/runs/:run/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Token');
    if (!a) return reply;
    const run = v2Runs(a).find((r) => r.run_id === (req.params as { run: string }).run);
    return run
      ? envelope('Run Fetched Successfully', [run])
      : reply.code(404).send({ message: 'Run not found', errors: 'no such run' });
  });

  app.get('/api/v2/platform/spaces/:space/runs/:run/tasks/', async (req, reply) => {
    const a = authenticate(engine, req, reply, 'Token');
    if (!a) return reply;
    const runId = (req.params as { run: string }).run;
    const tasks = engine.callsOf(a).filter((s) => v2RunId(s) === runId);
    if (tasks.length === 0) return reply.code(404).send({ message: 'Run not found', errors: 'no such run' });
    return envelope(
      'Tasks Fetched Successfully',
      tasks.map((s) => v2Task(a, s)),
    );
  });
}
