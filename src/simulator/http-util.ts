/** Small helpers shared by the route files: zod validation errors as `{detail, errors}`, pagination. */
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

export function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const errors = error.issues.map((i) => ({
    field: i.path.length ? i.path.join('.') : '(body)',
    message: i.message,
  }));
  const detail = `invalid request body: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
  return reply.code(400).send({ detail, errors });
}

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).send({ detail: `${what} not found`, message: `${what} not found` });
}

export function intParam(v: unknown, dflt: number, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : dflt;
}

export function paginate<T>(
  items: T[],
  query: Record<string, unknown>,
  basePath: string,
): { count: number; next: string | null; previous: string | null; results: T[] } {
  const limit = intParam(query.limit, 50, 1, 1000);
  const offset = intParam(query.offset, 0, 0, Number.MAX_SAFE_INTEGER);
  const extra = Object.entries(query)
    .filter(([k, v]) => k !== 'limit' && k !== 'offset' && typeof v === 'string')
    .map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(v as string)}`)
    .join('');
  const link = (o: number) => `${basePath}?limit=${limit}&offset=${o}${extra}`;
  return {
    count: items.length,
    next: offset + limit < items.length ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    results: items.slice(offset, offset + limit),
  };
}
