/** The building blocks of /docs/openapi.json (openapi-document.ts). */
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
/** The body of POST …/runs/ and …/runs/preview/: a multipart CSV upload or JSON. */
export const RUN_UPLOAD: Json = {
  'multipart/form-data': { schema: ref('CreateRunForm') },
  ...json('CreateRunJson'),
};

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

/** An answer: its description, and the envelope schema it carries (by name) or its own content. */
type Answer = string | [description: string, content: string | Json];

/**
 * One operation of the document. `body` names a JSON schema (or gives the content itself); `answers` maps each
 * success status to its description and envelope; `errors` lists the error statuses it may answer (each with
 * its codes, from the table).
 */
export function operation(o: {
  summary: string;
  description?: string;
  tag: string;
  parameters: Json[];
  body?: string | Json;
  bodyRequired?: boolean;
  answers: Record<string, Answer>;
  errors: number[];
}): Json {
  const content = (c: string | Json) => (typeof c === 'string' ? json(c) : c);
  return {
    summary: o.summary,
    ...(o.description ? { description: o.description } : {}),
    tags: [o.tag],
    parameters: o.parameters,
    ...(o.body ? { requestBody: { required: o.bodyRequired ?? true, content: content(o.body) } } : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(o.answers).map(([status, a]) => [
          status,
          typeof a === 'string' ? { description: a } : { description: a[0], content: content(a[1]) },
        ]),
      ),
      ...errorResponses(...o.errors),
    },
  };
}
