/**
 * The calls API as the SDK calls it (unpod 0.5.0 `management/calls.py`), paths from src/unpod/paths.ts:
 * POST …/calls (201, status pending), GET …/calls/{id}, GET …/calls?call_status=&pipe_id=, POST …/calls/{id}/hangup.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_IDEMPOTENCY_HEADER, IN_FLIGHT_FILTER, unpodPaths } from '../unpod/paths';
import { createCallRequestSchema } from '../unpod/schemas';
import { authenticate } from './auth';
import { callDetail, callRow, statusWord } from './call-view';
import type { FaultInjector } from './faults';
import { badRequest, envelope, notFound, rateLimited } from './http-util';
import type { LedgerBook } from './ledger';
import type { PipeBook, PipeState } from './pipes';
import type { CallEngine, CreateResult, PlacedCreate } from './state-machine';
import type { AccountFailure } from './types';

export interface CallRouteDeps {
  engine: CallEngine;
  ledger: LedgerBook;
  pipes: PipeBook;
  faults: FaultInjector;
  hangupAnswer: () => 'call' | 'empty';
}

const CREATE_FAILURES: Partial<Record<AccountFailure, { code: 400 | 409 | 503; detail: string }>> = {
  no_from_number: { code: 400, detail: 'no_from_number' },
  playbook_not_published: { code: 400, detail: 'playbook_not_published' },
  no_worker_available: { code: 503, detail: 'no_worker_available' },
  number_in_use: { code: 409, detail: 'number_in_use' },
};

/** A fastify route pattern from a path builder of paths.ts: its one parameter as `:id`. */
export function route(build: (id: string) => string): string {
  return build('__id__').replace('__id__', ':id');
}

function header(req: FastifyRequest, name: string): string | undefined {
  const raw = req.headers[name];
  return (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
}

export function registerCallRoutes(app: FastifyInstance, d: CallRouteDeps): void {
  const { engine, ledger, pipes, faults } = d;
  const vocab = () => engine.vocabulary;

  function answerCreate(reply: FastifyReply, r: CreateResult, key: string | undefined): FastifyReply {
    switch (r.kind) {
      case 'conflict':
        return reply
          .code(422)
          .send({ detail: `Idempotency-Key "${key}" was already used with a different request body.` });
      case 'limited':
        return rateLimited(reply, r.retryAfterS, r.detail);
      default:
        if (r.kind === 'replay') void reply.header('idempotent-replayed', 'true');
        return reply.code(201).send(envelope(201, 'Call queued', callDetail(r.sim, vocab())));
    }
  }

  app.post(unpodPaths.calls(), async (req, reply) => {
    const acct = authenticate(engine, ledger, req, reply);
    if (!acct) return reply;
    const parsed = createCallRequestSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const body = parsed.data;
    const failure = acct.failure ? CREATE_FAILURES[acct.failure] : undefined;
    if (failure) {
      ledger.count('account_failures');
      return reply.code(failure.code).send({ detail: failure.detail });
    }
    // "Provide agent_id OR pipe_id (agent_id takes priority)": a pipe_id names the pipe, else the agent's pipe.
    const pipe: PipeState | undefined =
      body.pipe_id !== undefined ? pipes.get(body.pipe_id) : pipes.forAgent(body.agent_id!);
    if (!pipe)
      return reply.code(404).send({
        detail:
          body.pipe_id !== undefined
            ? `pipe ${body.pipe_id} not found`
            : `no pipe for agent ${body.agent_id}`,
      });
    const fromNumber = body.from_number ?? pipe.number;
    if (!fromNumber) return reply.code(400).send({ detail: 'no_from_number' });
    const key = header(req, DEFAULT_IDEMPOTENCY_HEADER);
    const placed: PlacedCreate = { body, pipe, fromNumber, idempotencyKey: key };

    const fault = faults.drawCreate(req.url);
    if (fault?.kind === 'slow') {
      ledger.count('creates_slowed');
      const closing = await faults.holdFor(fault.ms);
      if (closing) {
        reply.hijack();
        req.raw.socket?.destroy();
        return reply;
      }
      // Placed at the end of the hold, whether or not the client is still there.
      const r = engine.create(acct, placed);
      if (req.raw.socket?.destroyed) {
        reply.hijack();
        return reply;
      }
      return answerCreate(reply, r, key);
    }
    const r = engine.create(acct, placed);
    if (fault?.kind === 'lost' && r.kind === 'created') {
      ledger.count('answers_lost');
      reply.hijack();
      req.raw.socket?.destroy();
      return reply;
    }
    return answerCreate(reply, r, key);
  });

  app.get(unpodPaths.calls(), async (req, reply) => {
    const acct = authenticate(engine, ledger, req, reply);
    if (!acct) return reply;
    const q = req.query as Record<string, unknown>;
    const status = typeof q.call_status === 'string' && q.call_status ? q.call_status : undefined;
    const pipeId = typeof q.pipe_id === 'string' && q.pipe_id ? q.pipe_id : undefined;
    const source = status === IN_FLIGHT_FILTER ? [...acct.live] : acct.calls;
    const rows = [];
    for (let i = source.length - 1; i >= 0; i--) {
      const s = source[i]!;
      if (pipeId !== undefined && s.pipeId !== pipeId) continue;
      if (status !== undefined && status !== IN_FLIGHT_FILTER && statusWord(s, vocab()) !== status) continue;
      rows.push(callRow(s, vocab()));
    }
    return envelope(200, 'Calls fetched', rows);
  });

  app.get<{ Params: { id: string } }>(route(unpodPaths.call), async (req, reply) => {
    const acct = authenticate(engine, ledger, req, reply);
    if (!acct) return reply;
    const sim = engine.callFor(acct, req.params.id);
    return sim ? envelope(200, 'Call fetched', callDetail(sim, vocab())) : notFound(reply, 'Call');
  });

  app.post<{ Params: { id: string } }>(route(unpodPaths.callHangup), async (req, reply) => {
    const acct = authenticate(engine, ledger, req, reply);
    if (!acct) return reply;
    const sim = engine.callFor(acct, req.params.id);
    if (!sim) return notFound(reply, 'Call');
    engine.hangup(sim);
    if (d.hangupAnswer() === 'empty') return reply.code(200).send('');
    return envelope(200, 'Call hung up', callDetail(sim, vocab()));
  });
}
