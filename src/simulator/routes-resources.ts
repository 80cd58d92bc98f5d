/**
 * What the engine's preflight reads: `GET …/pipes/{id}` (unpod 0.5.0 `management/pipes.py`) and the numbers list,
 * `GET …/numbers?status=` (proxy mode) and supervoice's own `GET /v1/numbers?status_filter=` (what
 * `numbers.list` calls in direct, Bearer mode: `management/numbers.py` `_SV_NUMBERS`), in a bare `{"data"}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unpodPaths } from '../unpod/paths';
import { authenticate } from './auth';
import { envelope, notFound } from './http-util';
import type { LedgerBook } from './ledger';
import { numberView, pipeView, type PipeBook } from './pipes';
import { route } from './routes-calls';
import type { CallEngine } from './state-machine';

/**
 * Supervoice's own numbers route, relative to the SDK's management base: `/v1/numbers` on a bare host, and
 * `/platform/v1/numbers` under the base `UNPOD_BASE_URL` gives (`_base_url.py` `service_base`).
 */
export const SUPERVOICE_NUMBERS_PATHS = ['/v1/numbers', '/platform/v1/numbers'];

export function registerResourceRoutes(
  app: FastifyInstance,
  engine: CallEngine,
  ledger: LedgerBook,
  pipes: PipeBook,
): void {
  app.get<{ Params: { id: string } }>(route(unpodPaths.pipe), async (req, reply) => {
    if (!authenticate(engine, ledger, req, reply)) return reply;
    const p = pipes.get(req.params.id);
    return p ? envelope(200, 'Pipe fetched', pipeView(p)) : notFound(reply, 'Pipe');
  });

  const numbers = (req: FastifyRequest, statusParam: string) => {
    const q = req.query as Record<string, unknown>;
    const status = typeof q[statusParam] === 'string' && q[statusParam] ? q[statusParam] : undefined;
    return pipes
      .all()
      .filter((p) => p.number !== null)
      .map((p) => numberView(p, engine.activeCallOn(p.number)?.id ?? null))
      .filter((n) => status === undefined || n.status === status);
  };

  app.get(unpodPaths.numbers(), async (req, reply) => {
    if (!authenticate(engine, ledger, req, reply)) return reply;
    return envelope(200, 'Numbers fetched', numbers(req, 'status'));
  });

  for (const path of SUPERVOICE_NUMBERS_PATHS)
    app.get(path, async (req, reply) => {
      if (!authenticate(engine, ledger, req, reply)) return reply;
      return { data: numbers(req, 'status_filter') };
    });
}
