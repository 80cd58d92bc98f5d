/**
 * Auth as the SDK sends it (unpod 0.5.0 `management/_auth.py`): `Authorization: Bearer <key>` (direct mode, the
 * default), `Token <key>` or `JWT <key>` (the platform proxy) with `Org-Handle: <handle>` — required for those two
 * when the account is configured with an orgHandle. Errors are DRF's `{"detail": …}`: 401 without valid
 * credentials, 403 for a missing or foreign Org-Handle. An account-wide `unauthorized` failure answers 401 too.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountState } from './accounts';
import type { LedgerBook } from './ledger';
import type { CallEngine } from './state-machine';

const SCHEMES = ['bearer', 'token', 'jwt'];

/** The account a request authenticated as, for the rate-limit headers of its answer. */
export const requestAccount = new WeakMap<FastifyRequest, AccountState>();

function deny(reply: FastifyReply, code: 401 | 403, detail: string): undefined {
  void reply.code(code).send({ detail });
  return undefined;
}

export function authenticate(
  engine: CallEngine,
  ledger: LedgerBook,
  req: FastifyRequest,
  reply: FastifyReply,
): AccountState | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^(\w+)\s+(\S+)\s*$/.exec(header) : null;
  if (!m) return deny(reply, 401, 'Authentication credentials were not provided.');
  const scheme = m[1]!.toLowerCase();
  if (!SCHEMES.includes(scheme))
    return deny(reply, 401, `Unsupported authorization scheme "${m[1]}": use Bearer, Token or JWT.`);
  const acct = engine.accountForKey(m[2]!);
  if (!acct) return deny(reply, 401, scheme === 'bearer' ? 'Invalid API key.' : 'Invalid token.');
  if (scheme !== 'bearer' && acct.orgHandle !== null) {
    const raw = req.headers['org-handle'];
    const handle = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!handle) return deny(reply, 403, 'Org-Handle header is required.');
    if (handle !== acct.orgHandle)
      return deny(reply, 403, 'You do not have permission to perform this action in this organization.');
  }
  if (acct.failure === 'unauthorized') {
    ledger.count('account_failures');
    return deny(reply, 401, 'Invalid API key.');
  }
  requestAccount.set(req, acct);
  return acct;
}
