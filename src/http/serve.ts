/** Builds the server and listens; `close()` stops accepting, finishes in-flight requests and resolves. */
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../config/config';
import { AppError } from '../errors';
import { buildHttpServer, type HttpServerDeps } from './server';

export interface StartHttpServerOptions extends HttpServerDeps {
  host: string;
  port: number;
}

export interface RunningHttpServer {
  /** e.g. http://127.0.0.1:8080 (the bound port when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/** Thrown when a server would listen beyond loopback with no way to tell callers apart. */
export class ExposedWithoutKeysError extends AppError<'exposed_without_keys'> {
  override readonly name = 'ExposedWithoutKeysError';
  constructor(message: string) {
    super('exposed_without_keys', message);
  }
}

export async function startHttpServer(opts: StartHttpServerOptions): Promise<RunningHttpServer> {
  const { host, port, ...deps } = opts;
  if (!isLoopbackHost(host) && !deps.api?.keys.length && !deps.api?.permissions?.getCurrentUser) {
    throw new ExposedWithoutKeysError(
      `refusing to listen on ${host} without API_KEYS: set API_KEYS, or bind HTTP_HOST to 127.0.0.1`,
    );
  }
  const app = await buildHttpServer(deps);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${addr.port}`,
    close: () => (closing ??= app.close().then(() => undefined)),
  };
}
