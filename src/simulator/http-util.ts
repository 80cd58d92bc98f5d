/**
 * Answer shapes of the simulator. Success: the backend-core renderer's envelope `{"status_code", "message",
 * "data"}` on /api/v2/platform paths, a bare `{"data"}` on supervoice's own /v1 paths (`_http.py` `unwrap_data`
 * takes both). Errors in the three shapes Unpod uses: `{"detail"}` (auth, preconditions, faults, validation),
 * `{"error": {"code", "message"}}` (429), `{"status_code", "message"}` (404).
 */
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

export function envelope(statusCode: number, message: string, data: unknown) {
  return { status_code: statusCode, message, data };
}

export function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const errors = error.issues.map((i) => ({
    field: i.path.length ? i.path.join('.') : '(body)',
    message: i.message,
  }));
  const detail = `invalid request body: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
  return reply.code(400).send({ detail, errors });
}

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).send({ status_code: 404, message: `${what} not found` });
}

export function rateLimited(reply: FastifyReply, retryAfterS: number, message: string): FastifyReply {
  return reply
    .code(429)
    .header('retry-after', String(retryAfterS))
    .send({ error: { code: 'rate_limited', message } });
}
