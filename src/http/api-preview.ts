/**
 * POST …/runs/preview/: a dry run of POST …/runs/ — the same body (a CSV as multipart field `file` after the
 * option fields, or JSON {contacts} or {source_url}) and the same ingestion, but nothing is started: the answer
 * says how many rows will be called, which are duplicates or on the do-not-call list, every rejected row (line,
 * column, reason; the first 500), the first rows as they will be called (E.164, zone, first call time) and
 * whether the least time the account's limits allow fits in the calling window before the deadline.
 */
import fs from 'node:fs';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { limiterState } from '../campaign/limits';
import { ingestContacts, ingestJsonContacts, type IngestResult } from '../contacts';
import { windowZone } from '../../workflows/calling-window';
import { DEFAULT_LIMITS } from '../../workflows/limiter-core';
import {
  createRunFormSchema,
  createRunJsonBodySchema,
  spaceParamsSchema,
  type CreateRunOptions,
} from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import { BadRequestError, PayloadTooLargeError } from './errors';
import { ingestOptionsFor, runTimingFrom } from './run-options';
import { planContact, planFit } from './run-plan';
import { openSourceUrl } from './source-url';

/** Rejected rows listed in a preview (all are counted). */
export const PREVIEW_MAX_REJECTS = 500;
/** Rows shown as they will be called. */
export const PREVIEW_FIRST_ROWS = 20;
export const apiPreviewRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, auth, opts } = ctx;
  const ingestLimits = { maxReportedRejects: PREVIEW_MAX_REJECTS, previewSize: PREVIEW_FIRST_ROWS };

  async function fromMultipart(
    request: FastifyRequest,
  ): Promise<{ ingest: IngestResult; name: string; options: CreateRunOptions; check: () => void }> {
    const part = await request.file();
    if (!part)
      throw new BadRequestError('no_file', 'the multipart upload has no file: send the CSV as field `file`');
    const fields: Record<string, string> = {};
    for (const [name, f] of Object.entries(part.fields)) {
      const one = Array.isArray(f) ? f[0] : f;
      if (one && one.type === 'field' && name !== 'file') fields[name] = String(one.value);
    }
    let options: CreateRunOptions;
    let ingestOptions;
    try {
      if (part.fieldname !== 'file')
        throw new BadRequestError(
          'no_file',
          `the file must be sent as field \`file\`, got \`${part.fieldname}\``,
        );
      options = parseWith(createRunFormSchema, fields, 'options');
      runTimingFrom(options);
      ingestOptions = await ingestOptionsFor(options, (options.region ?? opts.defaultRegion) as CountryCode);
    } catch (err) {
      part.file.resume();
      throw err;
    }
    const stream = part.file;
    return {
      ingest: ingestContacts(stream, { ...ingestOptions, ...ingestLimits }),
      name: part.filename || 'upload.csv',
      options,
      check: () => {
        if (stream.truncated)
          throw new PayloadTooLargeError(
            'payload_too_large',
            `the file is larger than the limit of ${opts.bodyLimitBytes} bytes`,
            {
              limit_bytes: opts.bodyLimitBytes,
            },
          );
      },
    };
  }

  /** The same guarded fetch as a run's (source-url.ts); the spooled file goes once the preview has read it. */
  async function fromUrl(
    url: string,
    ingestOptions: Awaited<ReturnType<typeof ingestOptionsFor>>,
  ): Promise<IngestResult> {
    const spooled = await openSourceUrl(url, opts);
    const result = ingestContacts(fs.createReadStream(spooled.file), { ...ingestOptions, ...ingestLimits });
    result.summary.finally(() => spooled.remove()).catch(() => undefined);
    return result;
  }

  app.post(
    '/runs/preview/',
    { bodyLimit: opts.bodyLimitBytes, config: { v2ErrorMessage: 'Error previewing run' } },
    async (request, reply) => {
      const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
      const principal = await auth.authorize(request, 'canStart', space_token);

      let ingest: IngestResult;
      let options: CreateRunOptions;
      let name: string;
      let check = () => undefined as void;
      if (request.isMultipart()) {
        ({ ingest, options, name, check } = await fromMultipart(request));
      } else {
        if (!request.body || typeof request.body !== 'object')
          throw new BadRequestError(
            'invalid_body',
            'send a CSV as multipart field `file`, or JSON {contacts} or {source_url}',
          );
        const body = parseWith(createRunJsonBodySchema, request.body, 'body');
        options = body;
        runTimingFrom(body);
        const region = (body.region ?? opts.defaultRegion) as CountryCode;
        const ingestOptions = await ingestOptionsFor(body, region);
        ingest = body.contacts
          ? ingestJsonContacts(body.contacts, { ...ingestOptions, ...ingestLimits })
          : await fromUrl(body.source_url!, ingestOptions);
        name = body.source_url ?? 'api';
      }

      for await (const _batch of ingest.batches) {
        // drain: a preview only counts and keeps the first rows
      }
      check();
      const s = await ingest.summary;

      const now = Date.now();
      const { timing } = runTimingFrom(options, now);
      const accountId = options.account_id ?? principal.account ?? opts.defaultAccount;
      const running = await limiterState(temporal, accountId);
      const limits = running?.limits ?? DEFAULT_LIMITS;
      const firstRows = s.preview.map((c) => planContact(c, timing, now));
      const zone = firstRows[0]?.zone ?? windowZone(undefined, timing.timezone);
      const fit = planFit(s.valid, limits, timing, zone, now);
      return sendEnvelope(
        reply,
        200,
        'Run Previewed Successfully',
        {
          source: name,
          rows: s.rows,
          valid: s.valid,
          skipped: { ...s.skipped },
          rejected: s.rejected,
          rejects: s.rejects.map((r) => ({ line: r.line, column: r.column, reason: r.reason })),
          columns: { ...s.columns },
          metadata_columns: s.metadataColumns,
          first_rows: firstRows,
          fit,
          account_id: accountId,
        },
        1,
      );
    },
  );
};
