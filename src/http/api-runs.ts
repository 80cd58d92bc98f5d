/**
 * Runs: create (CSV upload as multipart field `file`, JSON contacts, or a source_url), list, read one.
 *
 * Creating streams the list through the same ingestion as the CLI (src/contacts). The key (and its bindings:
 * account, pipes, agents, from-numbers) is checked before a byte of the list is read. An uploaded or fetched list
 * is first spooled to a private temporary file, its size and encoding checked on every chunk, so a list too large
 * or not UTF-8 anywhere starts nothing (413 / 400). A source_url goes through the outbound-URL guard
 * (src/net/outbound-url.ts). The first batch is read BEFORE the campaign starts, so a list that is wrong as a
 * whole (empty, not CSV, no phone column) or has no valid row starts nothing (400 with the report). A problem
 * found only further into the parse (a malformed record) cancels the run already started and answers the error
 * with its run_id. That path is src/campaign/start-from-list.ts, the CLI's and the schedules' too.
 */
import fs from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { policyFrom } from '../campaign/policy-file';
import type { RunSettings } from '../campaign/start-run';
import { NoValidRowsError, startRunFromList } from '../campaign/start-from-list';
import { DEFAULTS } from '../config/config';
import { AppError } from '../errors';
import { ingestContacts, ingestJsonContacts, type IngestResult, type IngestSummary } from '../contacts';
import {
  createRunFormSchema,
  createRunJsonBodySchema,
  listRunsQuerySchema,
  runParamsSchema,
  spaceParamsSchema,
  type CreateRunOptions,
  type ValidationReport,
} from './api-schemas';
import { parseWith, sendEnvelope, type ApiContext } from './api-context';
import { executionStatusOf } from '../campaign/run-queries';
import {
  loadRun,
  loadRunFromInfo,
  runsOfSpaceQuery,
  stateOf,
  toV2Run,
  withLiveEta,
} from '../campaign/run-views';
import type { Principal } from './auth';
import { BadRequestError, HttpError, PayloadTooLargeError } from './errors';
import { runOptionExtras, type RunOptionExtras } from './api-run-options';
import { openSourceUrl, spool } from './source-url';

/** A do-not-call list sent as a multipart file part is read whole, up to this size. */
const DNC_PART_LIMIT_BYTES = 16 * 1024 * 1024;

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

interface Source {
  ingest: IngestResult;
  name: string;
  /** Removes the spooled copy, once the run has read it. */
  remove?: () => Promise<void>;
}

/** 403 naming the field when a key's binding does not allow a value. */
function notAllowed(field: string, value: string, allowed: string): HttpError {
  return new HttpError(403, 'not_allowed', `${field} ${value} is not allowed for this API key (${allowed})`, {
    field,
  });
}

/** The value a run may use for a bound field: the asked one if the key allows it, else the key's first. */
function bound(
  field: string,
  asked: string | undefined,
  fallback: string | undefined,
  allowed: readonly string[] | undefined,
): string | undefined {
  if (!allowed) return asked ?? fallback;
  if (asked !== undefined) {
    if (!allowed.includes(asked)) throw notAllowed(field, asked, `allowed: ${allowed.join(', ')}`);
    return asked;
  }
  return fallback !== undefined && allowed.includes(fallback) ? fallback : allowed[0];
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
    // A key acts for one account (its own, else the default): a run cannot spend another tenant's limits.
    const accountId = principal.account ?? opts.defaultAccount;
    if (o.account_id !== undefined && o.account_id !== accountId)
      throw notAllowed('account_id', o.account_id, 'a key may start runs only on its own account');
    const pipeId = bound('pipe_id', o.pipe_id, opts.defaultPipeId, principal.pipes)!;
    const agentId = bound('agent_id', o.agent_id, opts.defaultAgentId, principal.agents);
    const fromNumber = bound('from_number', o.from_number, undefined, principal.fromNumbers);
    return {
      accountId,
      spaceToken,
      call: {
        pipeId,
        ...(agentId ? { agentId } : {}),
        ...(fromNumber ? { fromNumber } : {}),
      },
      policy: policyFrom(o.policy ?? {}),
      window: o.window ?? DEFAULTS.window,
      source,
      user: principal.user,
      ...(o.callback_url ? { callbackUrl: o.callback_url } : {}),
    };
  }

  async function fromSourceUrl(url: string, region: CountryCode, extras: RunOptionExtras): Promise<Source> {
    const spooled = await openSourceUrl(url, opts);
    return {
      ingest: ingestContacts(fs.createReadStream(spooled.file), {
        ...extras.ingest,
        defaultRegion: region,
        batchSize: opts.batchSize,
      }),
      name: url,
      remove: spooled.remove,
    };
  }

  async function fromMultipart(
    request: FastifyRequest,
    beforeRead: (options: CreateRunOptions) => void,
  ): Promise<{ source: Source; options: CreateRunOptions; extras: RunOptionExtras }> {
    // Option fields and a `dnc` list (a file part or a field) come first; the `file` part is streamed.
    const parts = request.parts();
    const fields: Record<string, string> = {};
    let dnc: string | undefined;
    let part;
    for (;;) {
      const next = await parts.next();
      if (next.done)
        throw new BadRequestError(
          'no_file',
          'the multipart upload has no file: send the CSV as field `file`',
        );
      part = next.value;
      if (part.type === 'field') {
        if (part.fieldname === 'dnc') dnc = String(part.value);
        else if (part.fieldname !== 'file') fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname === 'file') break;
      if (part.fieldname === 'dnc') {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > DNC_PART_LIMIT_BYTES) {
            part.file.resume();
            throw new PayloadTooLargeError(
              'payload_too_large',
              `dnc is larger than the limit of ${DNC_PART_LIMIT_BYTES} bytes`,
              {
                limit_bytes: DNC_PART_LIMIT_BYTES,
              },
            );
          }
          chunks.push(chunk);
        }
        dnc = Buffer.concat(chunks).toString('utf8');
        continue;
      }
      part.file.resume();
      throw new BadRequestError(
        'no_file',
        `the file must be sent as field \`file\`, got \`${part.fieldname}\` (send option fields and \`dnc\` before the file)`,
      );
    }
    const file = part;
    let options: CreateRunOptions;
    let extras: RunOptionExtras;
    try {
      options = parseWith(createRunFormSchema, fields, 'options');
      beforeRead(options);
      extras = await runOptionExtras(options, dnc, (options.region ?? opts.defaultRegion) as CountryCode);
    } catch (err) {
      file.file.resume();
      throw err;
    }
    const region = (options.region ?? opts.defaultRegion) as CountryCode;
    // Read to its end before anything starts: an over-limit or badly encoded file starts no run.
    const spooled = await spool(file.file, opts.bodyLimitBytes, 'the file');
    if (file.file.truncated) {
      await spooled.remove();
      throw new PayloadTooLargeError(
        'payload_too_large',
        `the file is larger than the limit of ${opts.bodyLimitBytes} bytes`,
        {
          limit_bytes: opts.bodyLimitBytes,
        },
      );
    }
    return {
      options,
      extras,
      source: {
        ingest: ingestContacts(fs.createReadStream(spooled.file), {
          ...extras.ingest,
          defaultRegion: region,
          batchSize: opts.batchSize,
        }),
        name: file.filename || 'upload.csv',
        remove: spooled.remove,
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
            'payload_too_large',
            `the body is ${length} bytes, over the limit of ${opts.bodyLimitBytes}`,
            { limit_bytes: opts.bodyLimitBytes },
          );
        }
      },
    },
    async (request, reply) => {
      const { space_token } = parseWith(spaceParamsSchema, request.params, 'path');
      const principal = await auth.authorize(request, 'canStart', space_token);

      // The options (and the key's bindings) are checked before a byte of the list is read or fetched.
      let settings: RunSettings | undefined;
      const settle = (o: CreateRunOptions) => {
        settings = settingsFrom(o, principal, space_token, '');
      };
      let source: Source;
      let extras: RunOptionExtras;
      if (request.isMultipart()) {
        ({ source, extras } = await fromMultipart(request, settle));
      } else {
        if (!request.body || typeof request.body !== 'object') {
          throw new BadRequestError(
            'invalid_body',
            'send a CSV as multipart field `file`, or JSON {contacts} or {source_url}',
          );
        }
        const { dnc, ...body } = parseWith(createRunJsonBodySchema, request.body, 'body');
        settle(body);
        const region = (body.region ?? opts.defaultRegion) as CountryCode;
        extras = await runOptionExtras(body, dnc, region);
        source = body.contacts
          ? {
              ingest: ingestJsonContacts(body.contacts, {
                ...extras.ingest,
                defaultRegion: region,
                batchSize: opts.batchSize,
              }),
              name: 'api',
            }
          : await fromSourceUrl(body.source_url!, region, extras);
      }
      try {
        return await startFrom(
          request,
          reply,
          space_token,
          { ...settings!, ...extras.settings, source: source.name },
          source,
        );
      } finally {
        await source.remove?.();
      }
    },
  );

  async function startFrom(
    request: FastifyRequest,
    reply: FastifyReply,
    space_token: string,
    settings: RunSettings,
    source: Source,
  ) {
    let summary: IngestSummary;
    let runId: string;
    try {
      ({ runId, summary } = await startRunFromList(temporal, taskQueue, settings, source.ingest));
    } catch (err) {
      if (err instanceof NoValidRowsError)
        throw new BadRequestError('no_valid_rows', err.message, { report: toReport(err.summary) });
      if (err instanceof AppError && err.details?.run_id)
        request.log.warn(
          { runId: err.details.run_id, err },
          'contact list failed after the run started: run canceled',
        );
      throw err;
    }
    const run = toV2Run(await loadRun(temporal, runId, space_token), opts.runMode);
    return sendEnvelope(reply, 201, 'Run Created Successfully', run, 1, { x_validation: toReport(summary) });
  }

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
      const runs = await Promise.all(
        infos.map(async (info) => withLiveEta(temporal, await loadRunFromInfo(temporal, info))),
      );
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
    const execution = executionStatusOf(status);
    const matches = [];
    for await (const info of temporal.workflow.list({ query: runsOfSpaceQuery(space_token, execution) })) {
      if (execution === undefined && (info.status.name === 'RUNNING' || info.status.name === 'COMPLETED'))
        continue;
      const snap = await loadRunFromInfo(temporal, info);
      if (stateOf(snap) === status) matches.push(snap);
    }
    const page = (
      await Promise.all(matches.slice(offset, offset + q.page_size).map((r) => withLiveEta(temporal, r)))
    ).map((r) => toV2Run(r, opts.runMode));
    return sendEnvelope(reply, 200, 'Runs Fetched Successfully', page, matches.length);
  });

  app.get('/runs/:run_id/', { config: { v2ErrorMessage: 'Error fetching run' } }, async (request, reply) => {
    const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
    await auth.authorize(request, 'canView', space_token, run_id);
    const run = toV2Run(
      await withLiveEta(temporal, await loadRun(temporal, run_id, space_token)),
      opts.runMode,
    );
    return sendEnvelope(reply, 200, 'Run Fetched Successfully', run, 1);
  });
};
