/**
 * Who is calling, and may they: API keys as the Runs API takes them (`Authorization: Token <key>`), each
 * scoped to one space, and permission hooks in the manner of the Vision Agents Runner's ServeOptions
 * (get_current_user, can_start_session, can_view_session, can_close_session, can_view_metrics) for those who
 * embed the server. A hook answers true (go on) or false (403), or throws an HttpError of its own.
 *
 * A key of space A asking about space B, or about a run of space B, gets 404: the other space's existence is
 * not disclosed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyEntry } from '../config/config';
import { ForbiddenError, NotAuthenticatedError, NotFoundError } from './errors';

export interface Principal {
  /** The one space this caller may act in. */
  space: string;
  /** Shown as `user` of the runs it starts. */
  user: string;
  /** Unpod account of its runs, when the key names one. */
  account?: string;
}

export interface PermissionContext {
  request: FastifyRequest;
  principal: Principal;
  spaceToken: string;
  /** Set on the routes of one run. */
  runId?: string;
}

export type PermissionCheck = (ctx: PermissionContext) => boolean | Promise<boolean>;

export interface ApiPermissions {
  /** Identifies the caller; null means unauthenticated (401). Default: the API keys. */
  getCurrentUser?: (request: FastifyRequest) => Principal | null | Promise<Principal | null>;
  /** Creating a run, and a retry run. Default: allow. */
  canStart?: PermissionCheck;
  /** Listing runs, reading a run, its tasks and its export. Default: allow. */
  canView?: PermissionCheck;
  /** Pause, resume and cancel. Default: allow. */
  canClose?: PermissionCheck;
  /** GET /metrics (no API key is asked by default: Prometheus scrapes it). Default: allow. */
  canViewMetrics?: (request: FastifyRequest) => boolean | Promise<boolean>;
}

export type Permission = 'canStart' | 'canView' | 'canClose';

const sha = (s: string) => createHash('sha256').update(s).digest();

/** The token of `Authorization: Token <key>` (Bearer is accepted too); undefined when absent or malformed. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The default getCurrentUser: looks the key up among API_KEYS, in constant time per key. */
export function apiKeyAuthenticator(
  keys: readonly ApiKeyEntry[],
): (request: FastifyRequest) => Principal | null {
  const table = keys.map((k) => ({
    digest: sha(k.key),
    principal: { space: k.space, user: k.user, ...(k.account ? { account: k.account } : {}) },
  }));
  return (request) => {
    const token = tokenOf(request);
    if (!token) return null;
    const digest = sha(token);
    let found: Principal | null = null;
    for (const row of table) if (timingSafeEqual(row.digest, digest)) found = row.principal;
    return found;
  };
}

export interface Authorizer {
  /** 401 when no caller, 404 when the path's space is not the caller's, 403 when the hook says no. */
  authorize(
    request: FastifyRequest,
    permission: Permission,
    spaceToken: string,
    runId?: string,
  ): Promise<Principal>;
  canViewMetrics(request: FastifyRequest): Promise<void>;
}

export function createAuthorizer(keys: readonly ApiKeyEntry[], hooks: ApiPermissions = {}): Authorizer {
  const getCurrentUser = hooks.getCurrentUser ?? apiKeyAuthenticator(keys);
  return {
    async authorize(request, permission, spaceToken, runId) {
      const principal = await getCurrentUser(request);
      if (!principal) {
        if (!request.headers.authorization) {
          throw new NotAuthenticatedError(
            'not_authenticated',
            'Authentication credentials were not provided: send Authorization: Token <api key>',
          );
        }
        throw new NotAuthenticatedError('invalid_token', 'Invalid token');
      }
      if (principal.space !== spaceToken)
        throw new NotFoundError('space_not_found', `space ${spaceToken} not found`);
      const check = hooks[permission];
      if (check && !(await check({ request, principal, spaceToken, ...(runId ? { runId } : {}) }))) {
        throw new ForbiddenError(`permission denied: ${permission}`);
      }
      return principal;
    },
    async canViewMetrics(request) {
      if (hooks.canViewMetrics && !(await hooks.canViewMetrics(request)))
        throw new ForbiddenError('permission denied: canViewMetrics');
    },
  };
}
