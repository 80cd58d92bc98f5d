/** Schedules: recurring runs with their next firings and last runs; create, pause/unpause, trigger, delete. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { explain, request, type ScheduleSummary, type ScheduleView, type Session } from '../api';
import { relative, when } from '../format';
import { ErrorLine, Table, usePoll } from '../ui';

export function SchedulesPage(props: { session: Session }) {
  const { session } = props;
  const list = usePoll(
    (signal) => request<ScheduleSummary[]>(session, 'GET', '/schedules/', undefined, signal),
    5000,
    [],
  );
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const act = async (id: string, action: 'pause' | 'unpause' | 'trigger' | 'delete') => {
    setError(null);
    setNotice(null);
    if (action === 'delete' && !confirm(`Delete schedule ${id}? Runs it started go on.`)) return;
    try {
      if (action === 'delete') await request(session, 'DELETE', `/schedules/${encodeURIComponent(id)}/`);
      else await request(session, 'POST', `/schedules/${encodeURIComponent(id)}/${action}/`, {});
      setNotice(
        action === 'trigger'
          ? `Schedule ${id} fired: its run starts once the list is read.`
          : `Schedule ${id} ${action === 'delete' ? 'deleted' : `${action}d`}.`,
      );
      list.reload();
    } catch (err) {
      setError(explain(err));
    }
  };

  const items = list.value?.data ?? [];
  return html`<section aria-labelledby="sched-h">
    <h1 id="sched-h">Schedules</h1>
    ${notice ? html`<p class="ok" role="status">${notice}</p>` : null}
    <${ErrorLine} error=${error ?? (list.error ? explain(list.error) : null)} />
    <${Table} class="schedules" columns=${['Schedule', 'When', 'Next run', 'Last run', 'Actions']}>
          ${items.map(
            (s) =>
              html`<tr>
                <td data-label="Schedule">
                  <button
                    type="button"
                    class="link"
                    onClick=${() => setOpen(open === s.id ? null : s.id)}
                    aria-expanded=${open === s.id}
                  >
                    ${s.id}</button
                  >${s.paused ? html` <span class="badge state-paused">Paused</span>` : null}
                  <div class="muted small">${s.source}</div>
                </td>
                <td data-label="When">${s.spec}</td>
                <td data-label="Next run">
                  ${s.paused ? '—' : `${when(s.next_run_at)} (${relative(s.next_run_at)})`}
                </td>
                <td data-label="Last run">${s.last_run_at ? relative(s.last_run_at) : 'never'}</td>
                <td data-label="Actions" class="row">
                  <button
                    type="button"
                    onClick=${() => act(s.id, s.paused ? 'unpause' : 'pause')}
                    aria-label=${`${s.paused ? 'Unpause' : 'Pause'} ${s.id}`}
                  >
                    ${s.paused ? 'Unpause' : 'Pause'}
                  </button>
                  <button type="button" onClick=${() => act(s.id, 'trigger')} aria-label=${`Run ${s.id} now`}>
                    Run now
                  </button>
                  <button
                    type="button"
                    class="danger"
                    onClick=${() => act(s.id, 'delete')}
                    aria-label=${`Delete ${s.id}`}
                  >
                    Delete
                  </button>
                </td>
              </tr>`,
          )}
          ${
            list.value && items.length === 0
              ? html`<tr>
                  <td colspan="5" class="muted">No schedule yet.</td>
                </tr>`
              : null
          }
    </${Table}>
    ${open ? html`<${ScheduleDetail} session=${session} id=${open} />` : null}
    <${CreateSchedule}
      session=${session}
      onCreated=${(id: string) => {
        setNotice(`Schedule ${id} created.`);
        list.reload();
      }}
    />
  </section>`;
}

function ScheduleDetail(props: { session: Session; id: string }) {
  const { value, error } = usePoll(
    (signal) =>
      request<ScheduleView>(
        props.session,
        'GET',
        `/schedules/${encodeURIComponent(props.id)}/`,
        undefined,
        signal,
      ),
    5000,
    [props.id],
  );
  const v = value?.data;
  return html`<section class="panel" aria-labelledby="sd-h">
    <h2 id="sd-h">${props.id}</h2>
    <${ErrorLine} error=${error ? explain(error) : null} />
    ${
      v
        ? html`<h3>Next firings</h3>
            <ul>
              ${v.next_run_times.map((t) => html`<li>${when(t)}</li>`)}
            </ul>
            <h3>Recent runs</h3>
            ${v.recent_runs.length === 0 ? html`<p class="muted">None yet.</p>` : null}
            <ul>
              ${v.recent_runs.map((r) => html`<li>${when(r.taken_at)} · ${r.run_id ? html`<a href=${`#/runs/${r.run_id}`} class="mono">${r.run_id.slice(0, 9)}…</a>` : 'no run yet'} · ${r.status.toLowerCase()}${r.valid !== null ? ` · ${r.valid} contacts, ${r.rejected} rejected` : ''}</li>`)}
            </ul>`
        : html`<p>Loading…</p>`
    }
  </section>`;
}

function CreateSchedule(props: { session: Session; onCreated: (id: string) => void }) {
  const [f, setF] = useState({
    id: '',
    source_url: '',
    kind: 'cron',
    when: '0 9 * * MON-FRI',
    schedule_timezone: '',
    call_hours: '',
    paused: false,
  });
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof f) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setF({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await request(props.session, 'POST', '/schedules/', {
        id: f.id.trim(),
        source_url: f.source_url.trim(),
        [f.kind]: f.when.trim(),
        ...(f.schedule_timezone.trim() ? { schedule_timezone: f.schedule_timezone.trim() } : {}),
        ...(f.call_hours.trim() ? { call_hours: f.call_hours.trim() } : {}),
        paused: f.paused,
      });
      props.onCreated(f.id.trim());
      setF({ ...f, id: '' });
    } catch (err) {
      setError(explain(err));
    }
  };
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="cs-h">
    <h2 id="cs-h">New schedule</h2>
    <div class="grid">
      <div class="field">
        <label for="s-id">Name</label
        ><input id="s-id" required value=${f.id} onInput=${set('id')} placeholder="weekday-reminders" />
      </div>
      <div class="field wide">
        <label for="s-src">Contact list URL</label
        ><input
          id="s-src"
          type="url"
          required
          value=${f.source_url}
          onInput=${set('source_url')}
          placeholder="https://example.com/today.csv"
        /><small class="muted">Read again at every firing</small>
      </div>
      <div class="field">
        <label for="s-kind">Repeat by</label
        ><select id="s-kind" value=${f.kind} onChange=${set('kind')}>
          <option value="cron">cron</option>
          <option value="every">interval</option>
        </select>
      </div>
      <div class="field">
        <label for="s-when"
          >${f.kind === 'cron' ? 'Cron (min hour day month weekday)' : 'Every (e.g. 1h, 1d)'}</label
        ><input id="s-when" required value=${f.when} onInput=${set('when')} />
      </div>
      <div class="field">
        <label for="s-tz">Zone of the cron times</label
        ><input
          id="s-tz"
          value=${f.schedule_timezone}
          onInput=${set('schedule_timezone')}
          placeholder="UTC"
        />
      </div>
      <div class="field">
        <label for="s-hours">Calling hours</label
        ><input id="s-hours" value=${f.call_hours} onInput=${set('call_hours')} placeholder="09:00-17:00" />
      </div>
      <label class="check"
        ><input type="checkbox" checked=${f.paused} onChange=${set('paused')} /> Create paused</label
      >
    </div>
    <${ErrorLine} error=${error} />
    <button type="submit" class="primary">Create schedule</button>
  </form>`;
}
