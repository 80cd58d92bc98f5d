/** Runs: state, progress, counts, ETA and creation time; filtered by state; paged by the server. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { explain, request, type Run, type Session } from '../api';
import { relative, when } from '../format';
import { Badge, ErrorLine, Progress, Table, usePoll } from '../ui';

const FILTERS = [
  ['', 'All states'],
  ['running', 'Running (incl. paused)'],
  ['paused', 'Paused'],
  ['completed', 'Completed'],
  ['canceled', 'Canceled'],
  ['failed', 'Failed or canceled'],
] as const;
const PAGE_SIZE = 20;

export function RunsPage(props: { session: Session }) {
  const [state, setState] = useState('');
  const [page, setPage] = useState(1);
  const { value, error } = usePoll(
    (signal) =>
      request<Run[]>(
        props.session,
        'GET',
        `/runs/?page=${page}&page_size=${PAGE_SIZE}${state ? `&status=${state}` : ''}`,
        undefined,
        signal,
      ),
    5000,
    [state, page],
  );
  const runs = value?.data ?? [];
  const count = value?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  return html`<section aria-labelledby="runs-h">
    <div class="row between">
      <h1 id="runs-h">Runs</h1>
      <a class="button primary" href="#/new">New run</a>
    </div>
    <div class="toolbar">
      <label for="state-filter">State</label>
      <select
        id="state-filter"
        value=${state}
        onChange=${(e: Event) => {
          setState((e.target as HTMLSelectElement).value);
          setPage(1);
        }}
      >
        ${FILTERS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
      <span class="muted" aria-live="polite"
        >${value ? `${count} run${count === 1 ? '' : 's'}` : 'Loading…'}</span
      >
    </div>
    <${ErrorLine} error=${error ? explain(error) : null} />
    <${Table} class="runs" caption="Runs of this space, newest first" columns=${['Run', 'State', 'Progress', 'Completed', 'Failed', 'Other', 'ETA', 'Created']}>
          ${runs.map((r) => {
            const c = r.x_campaign.counts;
            return html`<tr>
              <td data-label="Run">
                <a href=${`#/runs/${r.run_id}`} class="mono">${r.run_id.slice(0, 9)}…</a>
                <div class="muted small">${r.x_campaign.source ?? ''}</div>
              </td>
              <td data-label="State"><${Badge} state=${r.x_campaign.state} /></td>
              <td data-label="Progress">
                <${Progress} counts=${c} total=${r.x_campaign.total} label=${`progress of run ${r.run_id}`} />
              </td>
              <td data-label="Completed">${c.completed}</td>
              <td data-label="Failed">${c.failed}</td>
              <td data-label="Other">${c.skipped + c.expired + c.canceled}</td>
              <td data-label="ETA">
                ${r.x_campaign.eta && ['running', 'paused'].includes(r.x_campaign.state) ? relative(r.x_campaign.eta) : '—'}
              </td>
              <td data-label="Created">${when(r.created)}</td>
            </tr>`;
          })}
          ${
            value && runs.length === 0
              ? html`<tr>
                  <td colspan="8" class="muted">
                    No runs${state ? ' in this state' : ''} yet. <a href="#/new">Start one.</a>
                  </td>
                </tr>`
              : null
          }
    </${Table}>
    <nav class="pager" aria-label="Pages of runs">
      <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
      <span>Page ${page} of ${pages}</span>
      <button type="button" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Next</button>
    </nav>
  </section>`;
}
