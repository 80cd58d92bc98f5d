/**
 * GET …/runs/{run_id}/export/?format=csv|json: every task of the run as the CLI exports it (toExportRow),
 * streamed as it is read from Temporal — CSV through csv-stringify (formula-like cells neutralised:
 * src/contacts/csv-cells.ts), JSON as an array written row by row.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyPluginAsync } from 'fastify';
import { getRunInput } from '../campaign/run-control';
import { iterateTasks, RunNotFoundError, toExportRow } from '../campaign/run-queries';
import { safeCsvRow } from '../contacts/csv-cells';
import { exportQuerySchema, runParamsSchema } from './api-schemas';
import { parseWith, type ApiContext } from './api-context';

export const apiExportRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { temporal, auth } = ctx;

  app.get(
    '/runs/:run_id/export/',
    { config: { v2ErrorMessage: 'Error exporting run' } },
    async (request, reply) => {
      const { space_token, run_id } = parseWith(runParamsSchema, request.params, 'path');
      const q = parseWith(exportQuerySchema, request.query, 'query');
      await auth.authorize(request, 'canView', space_token, run_id);
      const input = await getRunInput(temporal, run_id);
      if (input.spaceToken !== space_token) throw new RunNotFoundError(run_id);

      const rows = async function* () {
        for await (const t of iterateTasks(temporal, run_id, q.status)) yield toExportRow(t);
      };
      const filename = `${run_id}.${q.format}`;
      void reply.header('content-disposition', `attachment; filename="${filename}"`);
      if (q.format === 'csv') {
        const csv = stringify({ header: true });
        const source = Readable.from(
          (async function* () {
            for await (const row of rows()) yield safeCsvRow(row);
          })(),
        );
        source.on('error', (err) => csv.destroy(err));
        return reply.type('text/csv; charset=utf-8').send(source.pipe(csv));
      }
      const json = Readable.from(
        (async function* () {
          let first = true;
          yield '[';
          for await (const row of rows()) {
            yield `${first ? '\n' : ',\n'}${JSON.stringify(row)}`;
            first = false;
          }
          yield first ? ']\n' : '\n]\n';
        })(),
      );
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );
};
