/** API-key auth: `Authorization: Bearer <key>` on v1 paths, `Token <key>` on v2 paths (as documented). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountState } from './accounts';
import type { CallEngine } from './state-machine';

export function authenticate(
  engine: CallEngine,
  req: FastifyRequest,
  reply: FastifyReply,
  scheme: 'Bearer' | 'Token',
): AccountState | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^(\w+)\s+(\S+)\s*$/.exec(header) : null;
  let detail: string;
  if (!m)
    detail = `Authentication credentials were not provided (expected "Authorization: ${scheme} <api key>").`;
  else if (m[1]!.toLowerCase() !== scheme.toLowerCase())
    detail = `Invalid authorization scheme: use "${scheme} <api key>" on this path.`;
  else {
    const acct = engine.accountForKey(m[2]!);
    if (acct) return acct;
    detail = 'Invalid API key.';
  }
  void reply.code(401).send({ detail, message: detail });
  return undefined;
}
