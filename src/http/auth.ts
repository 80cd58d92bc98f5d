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
import { ForbiddenError, UnauthorizedError, NotFoundError } from './errors';

export interface Principal {
  /** The one space this caller may act in. */
  space: string;
  /** Shown as `user` of the runs it starts. */
  user: string;
  /** Unpod account of its runs, when the key names one. */
  account?: string;
  /** When set, the only pipes / agents / from-numbers its runs may name. */
  pipes?: readonly string[];
  agents?: readonly string[];
  fromNumbers?: readonly string[];
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
  /** GET /metrics and /ready. Default: the ops key (OPS_API_KEY), or anyone with OPS_PUBLIC. */
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
    principal: {
      space: k.space,
      user: k.user,
      ...(k.account ? { account: k.account } : {}),
      ...(k.pipes ? { pipes: k.pipes } : {}),
      ...(k.agents ? { agents: k.agents } : {}),
      ...(k.fromNumbers ? { fromNumbers: k.fromNumbers } : {}),
    },
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
  /**
   * 401 when no caller, 404 when the path's space is not the caller's. Run as an onRequest hook, so nothing of
   * an unauthenticated request's body is read or parsed; the principal is kept for authorize().
   */
  authenticate(request: FastifyRequest, spaceToken: string): Promise<Principal>;
  /** authenticate, then 403 when the permission hook says no. */
  authorize(
    request: FastifyRequest,
    permission: Permission,
    spaceToken: string,
    runId?: string,
  ): Promise<Principal>;
  canViewMetrics(request: FastifyRequest): Promise<void>;
}

/** Who may read /metrics and /ready: a key of their own, or anyone (OPS_PUBLIC). Neither: 401. */
export interface OpsAccess {
  key?: string;
  public?: boolean;
}

export function createAuthorizer(
  keys: readonly ApiKeyEntry[],
  hooks: ApiPermissions = {},
  ops: OpsAccess = {},
): Authorizer {
  const getCurrentUser = hooks.getCurrentUser ?? apiKeyAuthenticator(keys);
  const opsKey = ops.key ? sha(ops.key) : undefined;
  const seen = new WeakMap<FastifyRequest, Principal>();
  async function authenticate(request: FastifyRequest, spaceToken: string): Promise<Principal> {
    const known = seen.get(request);
    if (known && known.space === spaceToken) return known;
    const principal = await getCurrentUser(request);
    if (!principal) {
      if (!request.headers.authorization) {
        throw new UnauthorizedError(
          'not_authenticated',
          'Authentication credentials were not provided: send Authorization: Token <api key>',
        );
      }
      throw new UnauthorizedError('invalid_token', 'Invalid token');
    }
    if (principal.space !== spaceToken)
      throw new NotFoundError('space_not_found', `space ${spaceToken} not found`);
    seen.set(request, principal);
    return principal;
  }
  return {
    authenticate,
    async authorize(request, permission, spaceToken, runId) {
      const principal = await authenticate(request, spaceToken);
      const check = hooks[permission];
      if (check && !(await check({ request, principal, spaceToken, ...(runId ? { runId } : {}) }))) {
        throw new ForbiddenError('forbidden', `permission denied: ${permission}`);
      }
      return principal;
    },
    async canViewMetrics(request) {
      // An embedder's hook decides alone; else the ops key, or OPS_PUBLIC.
      if (hooks.canViewMetrics) {
        if (!(await hooks.canViewMetrics(request)))
          throw new ForbiddenError('forbidden', 'permission denied: canViewMetrics');
        return;
      }
      if (ops.public) return;
      const token = tokenOf(request);
      if (opsKey && token && timingSafeEqual(sha(token), opsKey)) return;
      throw new UnauthorizedError(
        token ? 'invalid_token' : 'not_authenticated',
        opsKey
          ? 'send Authorization: Bearer <OPS_API_KEY>'
          : 'set OPS_API_KEY (then send Authorization: Bearer <key>) or OPS_PUBLIC=true to open this endpoint',
      );
    },
  };
}
