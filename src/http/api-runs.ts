/**
 * Runs: create (CSV upload as multipart field `file`, JSON contacts, or a source_url), list, read one.
 *
 * Creating streams the list through the same ingestion as the CLI (src/contacts). The first batch is read
 * BEFORE the campaign starts, so a list that is wrong as a whole (empty, not CSV, no phone column) or has no
 * valid row starts nothing (400 with the report). A problem found further into a stream (a chunked upload
 * over the size limit, a source that breaks off) cancels the run already started and answers the error with
 * its run_id.
 */
import { Transform } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { request as undiciRequest } from 'undici';
import { policyFrom } from '../campaign/policy-file';
import { newRunId, startRun, type RunSettings } from '../campaign/start-run';
import { ingestContacts, ingestJsonContacts, type IngestResult, type IngestSummary } from '../contacts';
import type { ContactBatch } from '../contacts/contact';
import { cancelSignal } from '../../workflows/definitions';
import { campaignWorkflowId } from '../../workflows/ids';
import {
  createRunFormSchema,
  createRunJsonBodySchema,
  listRunsQuerySchema,
  runParamsSchema,
  spaceParamsSchema,
  type CreateRunOptions,
  type ValidationReport,
} from './api-schemas';
import { parseWith, sendEnvelope, toHttpError, type ApiContext } from './api-v2';
import { loadRun, loadRunFromInfo, runsOfSpaceQuery, stateOf, toV2Run, v2StatusOf } from './api-views';
import type { Principal } from './auth';
import { BadRequestError, HttpError, PayloadTooLargeError } from './errors';
import { ingestOptionsFor, runTimingFrom } from './run-options';

export function toReport(s: IngestSummary): ValidationReport {
  return {
    rows: s.rows,
    valid: s.valid,
    skipped: { duplicate: s.skipped.duplicate, do_not_call: s.skipped.do_not_call },
    rejected: s.rejected,
    rejects: s.rejects.map((r) => ({ line: r.line, column: r.column, reason: r.reason })),
    batches: s.batches,
    columns: { ...s.columns },
    metadata_columns: s.metadataColumns,
  };
}

/** Counts bytes through; errors with 413 past `limit`. */
function byteLimit(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit)
        cb(
          new PayloadTooLargeError(`${what} is larger than the limit of ${limit} bytes`, {
            limit_bytes: limit,
          }),
        );
      else cb(null, chunk);
    },
  });
}

async function* prepend(
  first: ContactBatch,
  rest: AsyncIterator<ContactBatch>,
  after?: () => void,
): AsyncGenerator<ContactBatch> {
  yield first;
  for (;;) {
    const n = await rest.next();
    if (n.done) break;
    yield n.value;
  }
  after?.();
}

interface Source {
  ingest: IngestResult;
  name: string;
  /** Called after the last batch: throws if the input turned out truncated. */
  check?: () => void;
}

export const apiRunsRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, taskQueue, auth, opts } = ctx;

  function settingsFrom(
    o: CreateRunOptions,
    principal: Principal,
    spaceToken: string,
    source: string,
  ): RunSettings {
    if (o.callback_url && !opts.callbacksEnabled) {
      throw new BadRequestError(
        'callbacks_not_configured',
        'callback_url needs CALLBACK_SIGNING_SECRET set on the server and its workers',
      );
    }
    return {
      accountId: o.account_id ?? principal.account ?? opts.defaultAccount,
      spaceToken,
      call: {
        pipeId: o.pipe_id ?? opts.defaultPipeId,
        ...((o.agent_id ?? opts.defaultAgentId) ? { agentId: o.agent_id ?? opts.defaultAgentId } : {}),
        ...(o.from_number ? { fromNumber: o.from_number } : {}),
      },
      policy: policyFrom(o.policy ?? {}),
      window: o.window ?? 500,
      source,
      user: principal.user,
      ...runTimingFrom(o).timing,
      ...(o.callback_url ? { callbackUrl: o.callback_url } : {}),
    };
  }

  async function fromSourceUrl(url: string, region: CountryCode, o: CreateRunOptions): Promise<Source> {
    let res;
    try {
      res = await undiciRequest(url, {
        method: 'GET',
        headersTimeout: opts.sourceTimeoutMs ?? 30_000,
        bodyTimeout: opts.sourceTimeoutMs ?? 30_000,
      });
    } catch (err) {
      throw new BadRequestError(
        'source_unreachable',
        `source_url could not be fetched: ${(err as Error).message}`,
      );
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw new BadRequestError('source_unavailable', `source_url answered HTTP ${res.statusCode}`);
    }
    const length = Number(res.headers['content-length']);
    if (Number.isFinite(length) && length > opts.sourceLimitBytes) {
      await res.body.dump();
      throw new PayloadTooLargeError(
        `source_url is ${length} bytes, over the limit of ${opts.sourceLimitBytes}`,
        { limit_bytes: opts.sourceLimitBytes },
      );
    }
    const limited = res.body.pipe(byteLimit(opts.sourceLimitBytes, 'source_url'));
    res.body.on('error', (err) => limited.destroy(err));
    return {
      ingest: ingestContacts(limited, await ingestOptionsFor(o, region, opts.batchSize)),
      name: url,
    };
  }

  async function fromMultipart(
    request: FastifyRequest,
  ): Promise<{ source: Source; options: CreateRunOptions }> {
    const part = await request.file();
    if (!part)
      throw new BadRequestError('no_file', 'the multipart upload has no file: send the CSV as field `file`');
    if (part.fieldname !== 'file') {
      part.file.resume();
      throw new BadRequestError(
        'no_file',
        `the file must be sent as field \`file\`, got \`${part.fieldname}\` (send option fields before the file)`,
      );
    }
    const fields: Record<string, string> = {};
    for (const [name, f] of Object.entries(part.fields)) {
      const one = Array.isArray(f) ? f[0] : f;
      if (one && one.type === 'field' && name !== 'file') fields[name] = String(one.value);
    }
    let options: CreateRunOptions;
    let ingestOptions;
    try {
      options = parseWith(createRunFormSchema, fields, 'options');
      runTimingFrom(options);
      ingestOptions = await ingestOptionsFor(options, (options.region ?? opts.defaultRegion) as CountryCode);
    } catch (err) {
      part.file.resume();
      throw err;
    }
    const stream = part.file;
    return {
      options,
      source: {
        ingest: ingestContacts(stream, { ...ingestOptions, batchSize: opts.batchSize }),
        name: part.filename || 'upload.csv',
        check: () => {
          if (stream.truncated) {
            throw new PayloadTooLargeError(
              `the file is larger than the limit of ${opts.bodyLimitBytes} bytes`,
              { limit_bytes: opts.bodyLimitBytes },
            );
          }
        },
      },
    };
  }

  app.post(
    '/runs/',
    {
      bodyLimit: opts.bodyLimitBytes,
      config: { v2ErrorMessage: 'Error creating run' },
      onRequest: async (request) => {
        const length = Number(request.headers['content-length']);
        if (Number.isFinite(length) && length > opts.bodyLimitBytes) {
          throw new PayloadTooLargeError(
            `the body is ${length} bytes, over the limit of ${opts.bodyLimitBytes}`,
            { limit_bytes: opts.bodyLimitBytes },
          );
        }
      },
    },
    async (request, reply) => {
      const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
      const principal = await auth.authorize(request, 'canStart', space_token);

      let source: Source;
      let options: CreateRunOptions;
      if (request.isMultipart()) {
        ({ source, options } = await fromMultipart(request));
      } else {
        if (!request.body || typeof request.body !== 'object') {
          throw new BadRequestError(
            'invalid_body',
            'send a CSV as multipart field `file`, or JSON {contacts} or {source_url}',
          );
        }
        const body = parseWith(createRunJsonBodySchema, request.body, 'body');
        options = body;
        const region = (body.region ?? opts.defaultRegion) as CountryCode;
        source = body.contacts
          ? {
              ingest: ingestJsonContacts(body.contacts, await ingestOptionsFor(body, region, opts.batchSize)),
              name: 'api',
            }
          : await fromSourceUrl(body.source_url!, region, body);
      }

      const settings = settingsFrom(options, principal, space_token, source.name);
      const { batches, summary } = source.ingest;
      summary.catch(() => undefined); // awaited below; the batches carry the same error first

      // A list wrong as a whole, or with no valid row, starts nothing.
      const it = batches[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done) {
        source.check?.();
        const s = await summary;
        throw new BadRequestError(
          'no_valid_rows',
          `no valid contact in ${s.rows} rows: nothing was started`,
          { report: toReport(s) },
        );
      }

      const runId = newRunId();
      try {
        await startRun(
          temporal,
          taskQueue,
          { ...settings, runId },
          { [Symbol.asyncIterator]: () => prepend(first.value, it, source.check) },
        );
      } catch (err) {
        // The campaign may have started before the stream failed: cancel it, so nothing half-read is dialed on.
        const started = await temporal.workflow
          .getHandle(campaignWorkflowId(runId))
          .signal(cancelSignal, { hangup: true })
          .then(() => true)
          .catch(() => false);
        if (started) {
          request.log.warn({ runId, err }, 'contact list failed after the run started: run canceled');
          const http = toHttpError(err);
          if (http && http.statusCode < 500) {
            throw new HttpError(http.statusCode, http.code, `${http.message}; run ${runId} was canceled`, {
              ...http.details,
              run_id: runId,
            });
          }
        }
        throw err;
      }
      const report = toReport(await summary);
      const run = toV2Run(await loadRun(temporal, runId, space_token), opts.runMode);
      return sendEnvelope(reply, 201, 'Run Created Successfully', run, 1, { x_validation: report });
    },
  );

  app.get('/runs/', { config: { v2ErrorMessage: 'Error fetching runs' } }, async (request, reply) => {
    const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
    const q = parseWith(listRunsQuerySchema, request.query, 'query');
    await auth.authorize(request, 'canView', space_token);

    const offset = (q.page - 1) * q.page_size;
    if (!q.status) {
      const { count } = await temporal.workflow.count(runsOfSpaceQuery(space_token));
      const infos = [];
      let i = 0;
      for await (const info of temporal.workflow.list({
        query: runsOfSpaceQuery(space_token),
        pageSize: Math.min(1000, offset + q.page_size),
      })) {
        if (i++ < offset) continue;
        infos.push(info);
        if (infos.length >= q.page_size) break;
      }
      const runs = await Promise.all(infos.map((info) => loadRunFromInfo(temporal, info)));
      return sendEnvelope(
        reply,
        200,
        'Runs Fetched Successfully',
        runs.map((r) => toV2Run(r, opts.runMode)),
        count,
      );
    }

    // A status filter needs each run's state: narrow by execution status first, then read and filter.
    const status = q.status;
    const execution =
      status === 'running' || status === 'paused' || status === 'canceling' ? 'Running' : undefined;
    const matches = [];
    for await (const info of temporal.workflow.list({ query: runsOfSpaceQuery(space_token, execution) })) {
      if (execution === undefined && info.status.name === 'RUNNING') continue;
      const snap = await loadRunFromInfo(temporal, info);
      const state = stateOf(snap);
      const v2 = v2StatusOf(state);
      const wanted =
        status === 'running' || status === 'completed' || status === 'failed'
          ? v2 === status
          : state === status;
      if (wanted) matches.push(snap);
    }
    const page = matches.slice(offset, offset + q.page_size).map((r) => toV2Run(r, opts.runMode));
    return sendEnvelope(reply, 200, 'Runs Fetched Successfully', page, matches.length);
  });

  app.get('/runs/:run_id/', { config: { v2ErrorMessage: 'Error fetching run' } }, async (request, reply) => {
    const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
    await auth.authorize(request, 'canView', space_token, run_id);
    const run = toV2Run(await loadRun(temporal, run_id, space_token), opts.runMode);
    return sendEnvelope(reply, 200, 'Run Fetched Successfully', run, 1);
  });
};
