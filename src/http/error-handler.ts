/**
 * The error handler of every route outside /api/v2 (health, metrics, the agent push, the console's assets,
 * /docs): `{ error: { code, message, ...details } }`, the code and status from the one table (src/errors) via
 * toHttpError. Unknown errors become a generic 500; their details go to the log only.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, ServiceUnavailableError, toHttpError, type ErrorBody } from './errors';

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const http = toHttpError(err);
    if (!http) {
      request.log.error({ err }, 'unhandled error');
      const body: ErrorBody = { error: { code: 'internal_error', message: 'internal server error' } };
      return reply.status(500).send(body);
    }
    if (http.statusCode >= 500) request.log.warn({ code: http.code, cause: http.cause }, http.message);
    if (http instanceof ServiceUnavailableError && http.retryAfterS !== undefined) {
      void reply.header('retry-after', String(http.retryAfterS));
    }
    const body: ErrorBody = { error: { ...http.details, code: http.code, message: http.message } };
    return reply.status(http.statusCode).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const err = new HttpError(
      404,
      'not_found',
      `no route for ${request.method} ${request.url.split('?')[0]}`,
    );
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    return reply.status(404).send(body);
  });
}
