/**
 * New run: a CSV dropped or picked (or a URL), the options, then a preview before anything is dialed — rows to
 * call, duplicates, do-not-call, each rejected row with line, column and reason, the first rows as they will be
 * called, and whether the limits let it finish inside the window before the deadline — then Start.
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { explain, request, type PlannedContact, type Preview, type Run, type Session } from '../api';
import { duration } from '../format';
import { Table } from '../ui';

/** Retry presets, as policies the API takes (see the README's retry policy). */
export const RETRY_PRESETS: Record<string, { label: string; policy: Record<string, unknown> | null }> = {
  standard: { label: 'Standard: no answer twice more after 2 h, voicemail once after 4 h', policy: null },
  quick: {
    label: 'Quick: retry after 1 minute (for a test list)',
    policy: { noAnswer: { delay: '1m' }, voicemail: { delay: '1m' }, failure: { delay: '1m' } },
  },
  patient: {
    label: 'Patient: next day, up to 4 attempts',
    policy: { maxAttempts: 4, noAnswer: { maxRetries: 3, delay: '1d' }, voicemail: { delay: '1d' } },
  },
  once: { label: 'Once: no retries', policy: { maxAttempts: 1 } },
  custom: { label: 'Custom policy (JSON)', policy: null },
};

interface Options {
  pipe_id: string;
  agent_id: string;
  call_days: string;
  call_hours: string;
  zone: string;
  deadline: string;
  preset: string;
  policy: string;
  dnc: string;
  region: string;
}

const EMPTY: Options = {
  pipe_id: '',
  agent_id: '',
  call_days: '',
  call_hours: '',
  zone: '',
  deadline: '',
  preset: 'standard',
  policy: '',
  dnc: '',
  region: '',
};

/** A datetime-local value read on this browser's clock, as an ISO instant with offset. */
function deadlineIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function fields(o: Options): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['pipe_id', 'agent_id', 'call_days', 'call_hours', 'zone', 'region'] as const)
    if (o[k].trim()) out[k] = o[k].trim();
  // One number a line, whatever was typed (the API reads the list as the CLI reads a --dnc file).
  const dnc = o.dnc
    .split(/[\n,;]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  if (dnc.length > 0) out.dnc = dnc.join('\n');
  const deadline = deadlineIso(o.deadline);
  if (deadline) out.deadline = deadline;
  const preset = RETRY_PRESETS[o.preset];
  if (o.preset === 'custom' && o.policy.trim()) out.policy = o.policy.trim();
  else if (preset?.policy) out.policy = JSON.stringify(preset.policy);
  return out;
}

function body(o: Options, file: File | null, url: string): FormData | Record<string, unknown> {
  const f = fields(o);
  if (file) {
    const form = new FormData();
    for (const [k, v] of Object.entries(f)) form.append(k, v); // option fields BEFORE the file
    form.append('file', file, file.name);
    return form;
  }
  const json: Record<string, unknown> = { ...f, source_url: url.trim() };
  if (f.policy) json.policy = JSON.parse(f.policy) as unknown;
  return json;
}

export function NewRunPage(props: { session: Session }) {
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState('');
  const [o, setO] = useState<Options>(EMPTY);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'preview' | 'start' | null>(null);
  const [dragging, setDragging] = useState(false);

  const set = (k: keyof Options) => (e: Event) => {
    setO({ ...o, [k]: (e.target as HTMLInputElement).value });
    setPreview(null);
  };
  const pick = (f: File | null) => {
    setFile(f);
    if (f) setUrl('');
    setPreview(null);
  };
  const ready = file !== null || /^https?:\/\//.test(url.trim());

  const run = async (what: 'preview' | 'start') => {
    setError(null);
    if (!ready) return setError('Drop a CSV file, pick one, or give its http(s) URL.');
    let b;
    try {
      b = body(o, file, url);
    } catch {
      return setError('The custom policy is not valid JSON.');
    }
    setBusy(what);
    try {
      if (what === 'preview') {
        const res = await request<Preview>(props.session, 'POST', '/runs/preview/', b);
        setPreview(res.data);
      } else {
        const res = await request<Run>(props.session, 'POST', '/runs/', b);
        location.hash = `#/runs/${res.data.run_id}`;
      }
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(null);
    }
  };

  /** An option's field: its label, its input (a textarea when `multiline`: a wide field), its hint. */
  const text = (
    id: keyof Options,
    label: string,
    hint: string,
    extra: Record<string, unknown> = {},
    multiline = false,
  ) => {
    const control = {
      id: `opt-${id}`,
      value: o[id],
      onInput: set(id),
      'aria-describedby': `opt-${id}-hint`,
      ...extra,
    };
    return html`<div class=${multiline ? 'field wide' : 'field'}>
      <label for=${control.id}>${label}</label>
      ${multiline ? html`<textarea ...${control}></textarea>` : html`<input ...${control} />`}
      <small id=${`opt-${id}-hint`} class="muted">${hint}</small>
    </div>`;
  };

  return html`<section aria-labelledby="new-h">
    <h1 id="new-h">New run</h1>
    <form
      onSubmit=${(e: Event) => {
        e.preventDefault();
        void run('preview');
      }}
    >
      <fieldset>
        <legend>Contact list</legend>
        <label
          for="csv-file"
          class=${`dropzone${dragging ? ' over' : ''}`}
          onDragOver=${(e: DragEvent) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave=${() => setDragging(false)}
          onDrop=${(e: DragEvent) => {
            e.preventDefault();
            setDragging(false);
            pick(e.dataTransfer?.files[0] ?? null);
          }}
        >
          <strong>${file ? file.name : 'Drop a CSV here, or choose a file'}</strong>
          <span class="muted"
            >${file ? `${Math.ceil(file.size / 1024)} KiB` : 'A phone column is needed; name, timezone, call_at and others are optional.'}</span
          >
        </label>
        <input
          id="csv-file"
          type="file"
          accept=".csv,text/csv"
          class="file-input"
          onChange=${(e: Event) => pick((e.target as HTMLInputElement).files?.[0] ?? null)}
        />
        <div class="field">
          <label for="csv-url">…or the list's URL</label>
          <input
            id="csv-url"
            type="url"
            placeholder="https://example.com/contacts.csv"
            value=${url}
            onInput=${(e: Event) => {
              setUrl((e.target as HTMLInputElement).value);
              if ((e.target as HTMLInputElement).value) setFile(null);
              setPreview(null);
            }}
          />
        </div>
      </fieldset>
      <fieldset class="grid">
        <legend>Options</legend>
        ${text('agent_id', 'Agent', 'Unpod agent to call with; empty: the server default')}
        ${text('pipe_id', 'Pipe', 'Unpod pipe; empty: the server default')}
        ${text('call_days', 'Calling days', 'e.g. mon-fri; empty: every day')}
        ${text('call_hours', 'Calling hours', "in each contact's zone, e.g. 09:00-17:00")}
        ${text('zone', 'Zone for contacts without one', 'IANA zone, e.g. America/New_York')}
        ${text('deadline', 'Deadline', 'Your clock; contacts not reached by then end expired', {
          type: 'datetime-local',
        })}
        <div class="field">
          <label for="opt-preset">Retries</label>
          <select id="opt-preset" value=${o.preset} onChange=${set('preset')}>
            ${Object.entries(RETRY_PRESETS).map(([k, p]) => html`<option value=${k}>${p.label}</option>`)}
          </select>
        </div>
        ${
          o.preset === 'custom'
            ? html`<div class="field wide">
                <label for="opt-policy">Policy (JSON)</label>
                <textarea
                  id="opt-policy"
                  rows="3"
                  value=${o.policy}
                  onInput=${set('policy')}
                  placeholder='{"maxAttempts": 3, "noAnswer": {"maxRetries": 2, "delay": "2h"}}'
                ></textarea>
              </div>`
            : null
        }
        ${text('dnc', 'Do-not-call numbers', 'One a line; these are never called', { rows: 2 }, true)}
      </fieldset>
      <div class="row">
        <button type="submit" class=${preview ? '' : 'primary'} disabled=${busy !== null}>
          ${busy === 'preview' ? 'Checking…' : 'Preview'}
        </button>
        <button
          type="button"
          class="primary"
          disabled=${!preview || busy !== null || preview.valid === 0}
          onClick=${() => void run('start')}
        >
          ${busy === 'start' ? 'Starting…' : preview ? `Start calling ${preview.valid.toLocaleString()} contacts` : 'Start'}
        </button>
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </form>
    ${preview ? html`<${PreviewView} p=${preview} />` : null}
  </section>`;
}

function firstCall(c: PlannedContact): string {
  if (!c.call_at || !c.call_at_local) return c.note ?? 'not called';
  const soon = Date.parse(c.call_at) - Date.now() < 120_000;
  return soon ? `now (${c.call_at_local} local)` : `${c.call_at_local} local`;
}

function PreviewView(props: { p: Preview }) {
  const p = props.p;
  return html`<section class="preview" aria-labelledby="preview-h" aria-live="polite">
    <h2 id="preview-h">Preview of ${p.source}: nothing has been dialed</h2>
    <ul class="cards">
      <li class="card"><span class="num" data-testid="to-call">${p.valid.toLocaleString()}</span> to call</li>
      <li class="card"><span class="num">${p.skipped.duplicate}</span> duplicates</li>
      <li class="card"><span class="num">${p.skipped.do_not_call}</span> on do-not-call</li>
      <li class=${`card${p.rejected ? ' bad' : ''}`}><span class="num">${p.rejected}</span> rejected</li>
      <li class="card"><span class="num">${p.rows}</span> rows read</li>
    </ul>
    <p class=${p.fit.fits ? 'ok' : 'warn'} role="status">
      ${p.fit.fits ? '✓ ' : '⚠ '}${p.fit.message[0]?.toUpperCase()}${p.fit.message.slice(1)}.
      ${!p.fit.fits && p.fit.short_by_ms ? html` <strong>Short by ${duration(p.fit.short_by_ms)}.</strong>` : null}
    </p>
    ${
      p.rejects.length
        ? html`<h3>Rejected rows</h3>
            <${Table} class="rejects" caption="Rows that will not be called, with the reason" columns=${['Line', 'Column', 'Reason']}>
                  ${p.rejects.map(
                    (r) =>
                      html`<tr>
                        <td data-label="Line">${r.line}</td>
                        <td data-label="Column">${r.column ?? '—'}</td>
                        <td data-label="Reason">${r.reason}</td>
                      </tr>`,
                  )}
            </${Table}>
            ${p.rejected > p.rejects.length ? html`<p class="muted">…and ${p.rejected - p.rejects.length} more.</p>` : null}`
        : null
    }
    <h3>First rows as they will be called</h3>
    <${Table} class="first-rows" columns=${['Line', 'Name', 'Number (E.164)', 'Zone', 'First call']}>
          ${p.first_rows.map(
            (c) =>
              html`<tr>
                <td data-label="Line">${c.line}</td>
                <td data-label="Name">${c.name ?? '—'}</td>
                <td data-label="Number" class="mono">${c.phone}</td>
                <td data-label="Zone">${c.zone}</td>
                <td data-label="First call">${firstCall(c)}</td>
              </tr>`,
          )}
    </${Table}>
  </section>`;
}
