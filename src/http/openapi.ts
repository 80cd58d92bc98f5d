/**
 * GET /docs (Swagger UI page), its assets, and GET /docs/openapi.json (the document: openapi-document.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { buildOpenApi } from './openapi-document';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>unpod-campaigns API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<noscript>The OpenAPI document is at <a href="/docs/openapi.json">/docs/openapi.json</a>.</noscript>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#ui' });</script>
</body></html>`;

/** Swagger UI's own files, served from the swagger-ui-dist package: /docs works without the internet. */
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'],
]);

export const openApiRoutes: FastifyPluginAsync = async (app) => {
  const doc = buildOpenApi();
  const assetDir = getAbsoluteFSPath();
  const loaded = new Map<string, Promise<Buffer>>();
  app.get('/docs/openapi.json', async () => doc);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get<{ Params: { file: string } }>('/docs/assets/:file', async (request, reply) => {
    // A fixed table looked up by own key only: `constructor`, `__proto__` and the like are no asset.
    const name = request.params.file;
    const type = ASSETS.get(name);
    if (!type) return reply.code(404).send({ error: { code: 'not_found', message: 'no such asset' } });
    let data: Buffer;
    try {
      // Read once, kept (under 2 MB in all): no file stream per request whose error could go unhandled.
      let cached = loaded.get(name);
      if (!cached) {
        cached = fs.promises.readFile(path.join(assetDir, name));
        loaded.set(name, cached);
        cached.catch(() => loaded.delete(name));
      }
      data = await cached;
    } catch (err) {
      request.log.error({ err, asset: name }, 'swagger-ui asset cannot be read');
      return reply.code(404).send({ error: { code: 'not_found', message: 'asset not available' } });
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(data);
  });
};
