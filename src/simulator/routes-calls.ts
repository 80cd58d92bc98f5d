/** Calls and sessions: POST/GET /api/v1/calls/, GET /api/v1/calls/:id/, POST …/hangup/, GET sessions. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CALL_STATUSES } from '../unpod/end-reasons';
import { IDEMPOTENCY_HEADER } from '../unpod/paths';
import { createCallRequestSchema, type CreateCallRequest } from '../unpod/schemas';
import type { AccountState } from './accounts';
import { authenticate } from './auth';
import { badRequest, notFound, paginate } from './http-util';
import type { SimCall } from './sim-call';
import type { CallEngine } from './state-machine';

type Q = Record<string, unknown>;

export function sessionView(sim: SimCall) {
  const c = sim.call;
  return {
    session_id: c.session_id!,
    call_id: c.call_id,
    agent_id: c.agent_id ?? null,
    started_at: c.started_at ?? null,
    ended_at: c.ended_at ?? null,
  };
}

/** Shared by calls.create and the v1 tasks endpoint: idempotency, limits, 201. */
export function respondCreate(
  engine: CallEngine,
  acct: AccountState,
  body: CreateCallRequest,
  req: FastifyRequest,
  reply: FastifyReply,
  view: (sim: SimCall) => unknown,
): FastifyReply {
  const raw = req.headers[IDEMPOTENCY_HEADER];
  const key = (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
  const r = engine.create(acct, body, key);
  switch (r.kind) {
    case 'conflict':
      return reply
        .code(422)
        .send({ detail: `Idempotency-Key "${key}" was already used with a different request body.` });
    case 'limited':
      return reply.code(429).header('retry-after', String(r.retryAfterS)).send({ detail: r.detail });
    default:
      if (r.kind === 'replay') void reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(view(r.sim));
  }
}

export function registerCallRoutes(app: FastifyInstance, engine: CallEngine): void {
  app.post('/api/v1/calls/', async (req, reply) => {
    const acct = authenticate(engine, req, reply, 'Bearer');
    if (!acct) return reply;
    const parsed = createCallRequestSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    return respondCreate(engine, acct, parsed.data, req, reply, (s) => s.call);
  });

  app.get('/api/v1/calls/', async (req, reply) => {
    const acct = authenticate(engine, req, reply, 'Bearer');
    if (!acct) return reply;
    const q = req.query as Q;
    const status = typeof q.status === 'string' && q.status ? q.status : undefined;
    if (status && !(CALL_STATUSES as readonly string[]).includes(status)) {
      return reply.code(400).send({
        detail: `status: must be one of ${CALL_STATUSES.join(', ')}`,
        errors: [{ field: 'status', message: 'invalid status' }],
      });
    }
    const calls = engine
      .callsOf(acct)
      .filter((s) => !status || s.call.status === status)
      .reverse()
      .map((s) => s.call);
    return paginate(calls, q, '/api/v1/calls/');
  });

  app.get('/api/v1/calls/:id/', async (req, reply) => {
    const acct = authenticate(engine, req, reply, 'Bearer');
    if (!acct) return reply;
    const sim = engine.callFor(acct, (req.params as { id: string }).id);
    return sim ? sim.call : notFound(reply, 'call');
  });

  app.post('/api/v1/calls/:id/hangup/', async (req, reply) => {
    const acct = authenticate(engine, req, reply, 'Bearer');
    if (!acct) return reply;
    const sim = engine.callFor(acct, (req.params as { id: string }).id);
    if (!sim) return notFound(reply, 'call');
    engine.hangup(sim);
    return sim.call;
  });

  app.get('/api/v1/sessions/', async (req, reply) => {
    const acct = authenticate(engine, req, reply, 'Bearer');
    if (!acct) return reply;
    const sessions = engine
      .callsOf(acct)
      .filter((s) => s.call.session_id)
      .reverse()
      .map(sessionView);
    return paginate(sessions, req.query as Q, '/api/v1/sessions/');
  });

  app.get('/api/v1/sessions/:id/', async (req, reply) => {
    const acct = authenticate(engine, req, reply, 'Bearer');
    if (!acct) return reply;
    const sim = engine.sessionFor(acct, (req.params as { id: string }).id);
    return sim ? sessionView(sim) : notFound(reply, 'session');
  });
}
