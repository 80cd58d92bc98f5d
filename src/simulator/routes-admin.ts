/** /_sim admin endpoints: health, ledger, faults, account limits and failures, the push, pipes, scripts, reset. */
import type { FastifyInstance } from 'fastify';
import {
  accountFailureSchema,
  agentPushSchema,
  apiFaultsSchema,
  limitsSchema,
  pipeSchema,
  scriptStepsSchema,
} from './admin-schemas';
import { badRequest } from './http-util';
import type { RunningSimulator } from './types';

export function registerAdminRoutes(
  app: FastifyInstance,
  sim: Omit<RunningSimulator, 'url' | 'close' | 'requests'>,
  hasAccount: (id: string) => boolean,
): void {
  const noAccount = { detail: 'account not found' };
  app.get('/_sim/health', async () => ({ ok: true }));
  app.get('/_sim/ledger', async () => sim.ledger());

  app.put('/_sim/faults', async (req, reply) => {
    const p = apiFaultsSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setFaults(p.data);
    return { ok: true, faults: p.data };
  });

  app.put<{ Params: { accountId: string } }>('/_sim/accounts/:accountId/limits', async (req, reply) => {
    if (!hasAccount(req.params.accountId)) return reply.code(404).send(noAccount);
    const p = limitsSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setLimits(req.params.accountId, p.data);
    return { ok: true };
  });

  app.put<{ Params: { accountId: string } }>('/_sim/accounts/:accountId/failure', async (req, reply) => {
    if (!hasAccount(req.params.accountId)) return reply.code(404).send(noAccount);
    const p = accountFailureSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setAccountFailure(req.params.accountId, p.data.kind);
    return { ok: true, kind: p.data.kind };
  });

  app.put('/_sim/agent-push', async (req, reply) => {
    const p = agentPushSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    const { url, secret, lossRate } = p.data;
    if (url !== null && !secret) return reply.code(400).send({ detail: 'secret: required with a url' });
    sim.setAgentPush(url === null ? undefined : { url, secret: secret!, lossRate });
    return { ok: true };
  });

  app.put<{ Params: { pipeId: string } }>('/_sim/pipes/:pipeId', async (req, reply) => {
    const p = pipeSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setPipe({ pipeId: req.params.pipeId, ...p.data });
    return { ok: true };
  });

  app.put<{ Params: { number: string } }>('/_sim/scripts/:number', async (req, reply) => {
    const p = scriptStepsSchema.safeParse(req.body);
    if (!p.success) return badRequest(reply, p.error);
    sim.script(req.params.number, p.data);
    return { ok: true };
  });

  app.post('/_sim/reset', async () => {
    sim.reset();
    return { ok: true };
  });
}
