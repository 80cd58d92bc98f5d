/** Account: the limits in force and their use now (rate tokens, live calls, today's tasks); change them. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { explain, request, type LimitsView, type Session } from '../api';
import { when } from '../format';
import { ErrorLine, onValue, usePoll } from '../ui';

function Meter(props: { label: string; value: number; max: number | null; id: string }) {
  return html`<div class="meter-row">
    <label for=${props.id}>${props.label}</label>
    ${props.max !== null ? html`<meter id=${props.id} min="0" max=${props.max} value=${props.value} high=${props.max * 0.8}></meter>` : null}
    <span data-testid=${props.id}
      >${props.value.toLocaleString()}${props.max !== null ? ` of ${props.max.toLocaleString()}` : ' (no daily limit)'}</span
    >
  </div>`;
}

export function AccountPage(props: { session: Session }) {
  const { value, error, reload } = usePoll(
    (signal) => request<LimitsView>(props.session, 'GET', '/limits/', undefined, signal),
    3000,
    [],
  );
  const [form, setForm] = useState<Record<string, string>>({});
  const [saveError, setSaveError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const v = value?.data;
  const field = (k: string, label: string, current: number | null, hint: string) =>
    html`<div class="field">
      <label for=${`l-${k}`}>${label}</label>
      <input
        id=${`l-${k}`}
        type="number"
        min="0"
        inputmode="numeric"
        placeholder=${current === null ? 'unlimited' : String(current)}
        value=${form[k] ?? ''}
        onInput=${onValue((v) => setForm({ ...form, [k]: v }))}
      />
      <small class="muted">${hint}</small>
    </div>`;
  const save = async (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    setNotice(null);
    const body: Record<string, unknown> = {};
    if (form.plan) body.plan = form.plan;
    for (const k of ['calls_per_minute', 'tasks_per_day', 'concurrency', 'reserved'])
      if (form[k]?.trim()) body[k] = Number(form[k]);
    if (Object.keys(body).length === 0) return setSaveError('Change at least one limit.');
    try {
      await request(props.session, 'PATCH', '/limits/', body);
      setForm({});
      setNotice('Limits changed: running campaigns use them from now on.');
      reload();
    } catch (err) {
      setSaveError(explain(err));
    }
  };
  return html`<section aria-labelledby="acct-h">
    <h1 id="acct-h">Account</h1>
    <${ErrorLine} error=${error ? explain(error) : null} />
    ${
      v
        ? html`<p class="muted">
              Account <span class="mono">${v.account_id}</span
              >${v.running ? '' : ' · no campaign has run yet: the default limits apply'} · day resets at
              midnight ${v.limits.timezone}
            </p>
            <section class="panel" aria-labelledby="use-h">
              <h2 id="use-h">In use now</h2>
              <${Meter} id="use-live" label="Live calls" value=${v.use.live_calls} max=${v.use.capacity} />
              <${Meter}
                id="use-rate"
                label="Dials this minute (rate tokens used)"
                value=${v.use.dials_in_last_minute}
                max=${Math.floor(v.limits.calls_per_minute)}
              />
              <${Meter}
                id="use-today"
                label="Tasks today"
                value=${v.use.tasks_today}
                max=${v.limits.tasks_per_day}
              />
              <p class="muted">
                ${v.use.queued} waiting for a
                slot.${v.use.day_blocked ? ` ${v.use.day_blocked.count} held until the daily budget resets ${when(v.use.day_blocked.resets_at)}.` : ''}
              </p>
            </section>
            <form class="panel" onSubmit=${save} aria-labelledby="lim-h">
              <h2 id="lim-h">Limits</h2>
              <div class="grid">
                <div class="field">
                  <label for="l-plan">Start from a plan</label>
                  <select
                    id="l-plan"
                    value=${form.plan ?? ''}
                    onChange=${onValue((v) => setForm({ ...form, plan: v }))}
                  >
                    <option value="">(keep)</option>
                    <option value="free">Free: 5/min, 50/day, 2 at once</option>
                    <option value="pro">Pro: 60/min, 5,000/day, 10 at once</option>
                    <option value="enterprise">Enterprise: 1,000/min, no daily limit, 100 at once</option>
                  </select>
                </div>
                ${field('calls_per_minute', 'Calls per minute', v.limits.calls_per_minute, 'new dials started per minute')}
                ${field('tasks_per_day', 'Contacts per day', v.limits.tasks_per_day, 'first attempts per day')}
                ${field('concurrency', 'Calls at once', v.limits.concurrency, 'the concurrency cap')}
                ${field('reserved', 'Kept free', v.limits.reserved, 'slots kept for inbound calls')}
              </div>
              ${notice ? html`<p class="ok" role="status">${notice}</p>` : null}
              <${ErrorLine} error=${saveError} />
              <button type="submit" class="primary">Save limits</button>
            </form>`
        : html`<p>Loading…</p>`
    }
  </section>`;
}
