/**
 * One error handler for the whole server: maps HttpError, fastify's own errors (FST_ERR_* with a 4xx status:
 * bad content type, body too large, ...) and anything else to `{ error: { code, message } }`. Unknown errors
 * become a generic 500; their details go to the log only.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError, ServiceUnavailableError, type ErrorBody } from './errors';

function isFastifyClientError(err: unknown): err is FastifyError & { statusCode: number } {
  const e = err as Partial<FastifyError> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    typeof e.message === 'string'
  );
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) request.log.warn({ code: err.code, cause: err.cause }, err.message);
      if (err instanceof ServiceUnavailableError && err.retryAfterS !== undefined) {
        void reply.header('retry-after', String(err.retryAfterS));
      }
      const body: ErrorBody = { error: { ...err.details, code: err.code, message: err.message } };
      return reply.status(err.statusCode).send(body);
    }
    if (isFastifyClientError(err)) {
      const body: ErrorBody = { error: { code: err.code ?? 'bad_request', message: err.message } };
      return reply.status(err.statusCode).send(body);
    }
    request.log.error({ err }, 'unhandled error');
    const body: ErrorBody = { error: { code: 'internal_error', message: 'internal server error' } };
    return reply.status(500).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` },
    };
    return reply.status(404).send(body);
  });
}
