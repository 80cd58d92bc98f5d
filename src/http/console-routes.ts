/**
 * The web console at /console/: the page, its bundle and stylesheet from dist/console/ (built by
 * console-build.ts at install, or here on start when missing or stale), and /console/config.json with what the
 * page cannot know by itself (the Temporal Web UI address, the namespace). The console talks only to the
 * documented /api/v2 routes with the API key the user signs in with; nothing here reads a key.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { buildConsole, consoleIsStale, CONSOLE_DIST } from './console-build';

export interface ConsoleOptions {
  /** e.g. http://127.0.0.1:8233: runs link to their workflow there. Absent: no link. */
  temporalUiUrl?: string;
  namespace?: string;
  /** Directory of the built console (tests). Default dist/console. */
  dir?: string;
  /** Build when missing or stale (default true). */
  build?: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Same-origin only: no inline script, no third-party anything. uPlot sizes its canvas with style attributes. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "media-src 'self' https: http:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, o) => {
  const dir = o.dir ?? CONSOLE_DIST;
  if (o.build !== false && consoleIsStale(dir)) {
    const { bytes } = await buildConsole(dir);
    app.log.info({ dir, bytes }, 'console built');
  }
  const files = new Set(fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  const config = { temporal_ui_url: o.temporalUiUrl ?? null, namespace: o.namespace ?? 'default' };

  const sendFile = (name: string, reply: FastifyReply) => {
    const type = TYPES[path.extname(name)];
    if (!files.has(name) || !type)
      return reply.code(404).send({ error: { code: 'not_found', message: `no console file ${name}` } });
    return reply
      .type(type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', name === 'index.html' ? 'no-cache' : 'public, max-age=300')
      .send(fs.createReadStream(path.join(dir, name)));
  };

  app.get('/console/', async (_request, reply) => sendFile('index.html', reply));
  app.get('/console/config.json', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(config),
  );
  app.get<{ Params: { file: string } }>('/console/:file', async (request, reply) =>
    sendFile(request.params.file, reply),
  );
};
