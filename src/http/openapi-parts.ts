/** The building blocks of /docs/openapi.json, shared by openapi.ts and openapi-console.ts. */
import { z } from 'zod';
import { codesWithStatus, ERROR_CODES, statusText } from '../errors';

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

/**
 * The error responses of an operation, from the one table of codes (src/errors): each status's text
 * (http.STATUS_CODES) and the codes that answer with it, in the v2 error body (`x_campaign.code`).
 */
export function errorResponses(...statuses: number[]): Json {
  return Object.fromEntries(
    statuses.map((s) => [
      String(s),
      {
        description: `${statusText(s)}; x_campaign.code: ${codesWithStatus(s).join(', ') || 'internal_error'}`,
        content: json('Error'),
      },
    ]),
  );
}

/** Every code a client can see, with what it means: the table itself, for the document's components. */
export function errorCodeSchema(): Json {
  const codes = Object.entries(ERROR_CODES).filter(([, e]) => 'status' in e);
  return {
    type: 'string',
    enum: codes.map(([c]) => c),
    description: codes
      .map(([c, e]) => `- \`${c}\` (${(e as { status: number }).status}): ${e.description}`)
      .join('\n'),
  };
}
