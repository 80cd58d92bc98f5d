/** The building blocks of /docs/openapi.json, shared by openapi.ts and openapi-console.ts. */
import { z } from 'zod';

export type Json = Record<string, unknown>;

/** A zod schema as JSON Schema (draft 2020-12), without its `$schema` line. */
export function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete out.$schema;
  return out;
}

/** A query schema's fields as OpenAPI query parameters. */
export function queryParams(s: z.ZodObject): Json[] {
  const js = schema(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: p,
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}

export const pathParam = (name: string, description: string): Json => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});
export const SPACE = pathParam(
  'space_token',
  'public token of the space (your API key must be scoped to it)',
);
export const RUN = pathParam('run_id', 'run id, R followed by 32 hex digits');
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
