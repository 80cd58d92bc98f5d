/** /_sim admin endpoints: ledger, faults, webhook target and faults, account limits, scripts, reset, health. */
import type { FastifyInstance } from 'fastify';
import {
  apiFaultsSchema,
  limitsSchema,
  scriptStepsSchema,
  webhookFaultsSchema,
  webhookUrlSchema,
} from './admin-schemas';
import { badRequest, notFound } from './http-util';
import type { RunningSimulator } from './types';

export function registerAdminRoutes(
  app: FastifyInstance,
  sim: Omit<RunningSimulator, 'url' | 'close'>,
  hasAccount: (id: string) => boolean,
): void {
  app.get('/_sim/health', async () => ({ ok: true }));
  app.get('/_sim/ledger', async () => sim.ledger());

  app.put('/_sim/faults', async (req, reply) => {
    const p = apiFaultsSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setFaults(p.data);
    return { ok: true, faults: p.data };
  });

  app.put('/_sim/webhook-faults', async (req, reply) => {
    const p = webhookFaultsSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setWebhookFaults(p.data as { delayMs?: [number, number] });
    return { ok: true, webhookFaults: p.data };
  });

  app.put('/_sim/webhook', async (req, reply) => {
    const p = webhookUrlSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setWebhookUrl(p.data.url ?? undefined);
    return { ok: true, url: p.data.url ?? null };
  });

  app.put('/_sim/accounts/:accountId/limits', async (req, reply) => {
    const { accountId } = req.params as { accountId: string };
    if (!hasAccount(accountId)) return notFound(reply, 'account');
    const p = limitsSchema.safeParse(req.body ?? {});
    if (!p.success) return badRequest(reply, p.error);
    sim.setLimits(accountId, p.data);
    return { ok: true };
  });

  app.put('/_sim/scripts/:number', async (req, reply) => {
    const p = scriptStepsSchema.safeParse(req.body);
    if (!p.success) return badRequest(reply, p.error);
    sim.script((req.params as { number: string }).number, p.data);
    return { ok: true };
  });

  app.post('/_sim/reset', async () => {
    sim.reset();
    return { ok: true };
  });
}
