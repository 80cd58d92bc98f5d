/**
 * One run: live counts and progress (the feed's event stream), dials/min against the plan's calls/min and live
 * calls against the concurrency cap over time, outcomes by end_reason, the contacts table (filtered and paged by
 * the server) with each contact's attempts, transcript, summary and recording; pause, resume, cancel (hang up
 * or not), retry, export, and the run in Temporal's Web UI.
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  download,
  explain,
  request,
  streamFeed,
  type FeedSample,
  type Run,
  type Session,
  type Task,
} from '../api';
import { TASK_STATUSES } from '../../../workflows/task-statuses';
import { TimeChart } from '../chart';
import { END_REASON_WORDS, pausedInWords, relative, webLink, when } from '../format';
import type { ConsoleConfig } from '../main';
import { Badge, ErrorLine, onValue, Progress, Table, usePoll } from '../ui';

const ENDED = ['completed', 'canceled', 'failed'];

/** Dials per minute at each sample: attempts over the last minute (or since the first sample). */
export function dialRates(samples: FeedSample[]): number[] {
  return samples.map((s, i) => {
    const t = Date.parse(s.at);
    let j = i;
    while (j > 0 && t - Date.parse(samples[j - 1]!.at) <= 60_000) j--;
    if (j === i) j = Math.max(0, i - 1);
    const dt = (t - Date.parse(samples[j]!.at)) / 60_000;
    return dt > 0 ? Math.round(((s.attempts - samples[j]!.attempts) / dt) * 10) / 10 : 0;
  });
}

function pausedReason(run: Run | null, sample: FeedSample | null): string | null {
  const x = run?.x_campaign;
  return sample?.paused_reason ?? x?.paused_reason ?? x?.pause_reason ?? x?.status_reason ?? null;
}

export function RunPage(props: { session: Session; runId: string; config: ConsoleConfig }) {
  const { session, runId } = props;
  const [samples, setSamples] = useState<FeedSample[]>([]);
  const [feedError, setFeedError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const runPoll = usePoll((signal) => request<Run>(session, 'GET', `/runs/${runId}/`, undefined, signal), 0, [
    runId,
  ]);
  const run = runPoll.value?.data ?? null;
  const last = samples.at(-1) ?? null;
  const state = last?.state ?? run?.x_campaign.state ?? 'running';
  const ended = ENDED.includes(state);

  useEffect(() => {
    setSamples([]);
    const ctl = new AbortController();
    const loop = async () => {
      while (!ctl.signal.aborted) {
        try {
          await streamFeed<FeedSample>(
            session,
            runId,
            (s) => setSamples((prev) => [...prev.slice(-599), s]),
            ctl.signal,
          );
          setFeedError(null);
          return; // the run ended
        } catch (err) {
          if (ctl.signal.aborted) return;
          setFeedError(`Live updates interrupted (${explain(err)}); retrying…`);
          await new Promise((r) => setTimeout(r, 3000));
        }
      }
    };
    void loop();
    return () => ctl.abort();
  }, [runId]);

  // Re-read the run when its state changes (ended, paused, resumed): settings and final numbers.
  const seenState = useRef(state);
  useEffect(() => {
    if (seenState.current !== state) {
      seenState.current = state;
      runPoll.reload();
    }
  }, [state]);

  const act = async (path: string, body?: unknown, done?: string) => {
    setActionError(null);
    setNotice(null);
    try {
      const res = await request<Run | null>(session, 'POST', `/runs/${runId}/${path}`, body ?? {});
      runPoll.reload();
      if (res.data && res.data.run_id !== runId) {
        location.hash = `#/runs/${res.data.run_id}`;
        return;
      }
      setNotice(done ?? res.message);
    } catch (err) {
      setActionError(explain(err));
    }
  };

  if (runPoll.error && !run) return html`<${ErrorLine} error=${explain(runPoll.error)} />`;
  if (!run) return html`<p aria-live="polite">Loading run…</p>`;

  const counts = last?.counts ?? run.x_campaign.counts;
  const total = last?.total ?? run.x_campaign.total;
  const reason = state === 'paused' ? pausedInWords(pausedReason(run, last)) : null;
  const ui = props.config.temporal_ui_url
    ? `${props.config.temporal_ui_url}/namespaces/${encodeURIComponent(props.config.namespace)}/workflows/campaign-${runId}`
    : null;
  const times = samples.map((s) => Date.parse(s.at));
  const chartNote = ended
    ? 'The run had ended by the time this page opened: the charts cover only the time a page watches a run.'
    : 'Collecting samples (one every 2 s)…';

  return html`<section aria-labelledby="run-h">
    <div class="row between wrap">
      <div>
        <h1 id="run-h">Run <span class="mono">${runId}</span></h1>
        <p class="muted">${[run.x_campaign.source, `created ${when(run.created)}`, `agent ${run.x_campaign.agent_id ?? '—'}`, `account ${run.x_campaign.account_id}`].filter(Boolean).join(' · ')}</p>
      </div>
      <div class="row">
        <span aria-live="polite" data-testid="run-state"><${Badge} state=${state} /></span
        >${ui ? html`<a href=${ui} target="_blank" rel="noopener noreferrer">Open in Temporal Web UI</a>` : null}
      </div>
    </div>
    ${reason ? html`<p class="warn" role="status" data-testid="paused-reason">${reason}</p>` : null}
    <div class="actions" role="group" aria-label="Run actions">
      ${
        state === 'paused'
          ? html`<button type="button" onClick=${() => act('resume/', {}, 'Resume requested.')}>
              Resume
            </button>`
          : html`<button
              type="button"
              disabled=${ended || state === 'canceling'}
              onClick=${() => act('pause/', {}, 'Pause requested: calls in progress finish, no new ones start.')}
            >
              Pause
            </button>`
      }
      <button
        type="button"
        class="danger"
        disabled=${ended || state === 'canceling'}
        onClick=${() => setConfirmCancel(true)}
      >
        Cancel run…
      </button>
      <button
        type="button"
        disabled=${!ended}
        title=${ended ? '' : 'once the run has ended'}
        onClick=${() => act('retry/', { which: 'failed' })}
      >
        Retry failed
      </button>
      <button
        type="button"
        disabled=${!ended}
        title=${ended ? '' : 'once the run has ended'}
        onClick=${() => act('retry/', { which: 'no-answer' })}
      >
        Retry unanswered
      </button>
      <button
        type="button"
        onClick=${() => download(session, `/runs/${runId}/export/?format=csv`, `${runId}.csv`).catch((e) => setActionError(explain(e)))}
      >
        Export CSV
      </button>
      <button
        type="button"
        onClick=${() => download(session, `/runs/${runId}/export/?format=json`, `${runId}.json`).catch((e) => setActionError(explain(e)))}
      >
        Export JSON
      </button>
    </div>
    ${
      confirmCancel
        ? html`<${CancelDialog}
            onClose=${() => setConfirmCancel(false)}
            onConfirm=${(hangup: boolean) => {
              setConfirmCancel(false);
              void act(
                'cancel/',
                { hangup },
                hangup
                  ? 'Cancel requested: calls in progress are being hung up.'
                  : 'Cancel requested: calls in progress finish.',
              );
            }}
          />`
        : null
    }
    ${notice ? html`<p class="ok" role="status">${notice}</p>` : null}
    <${ErrorLine} error=${actionError} />
    <${ErrorLine} error=${feedError} />

    <h2 class="sr-only">Progress</h2>
    <${Progress} counts=${counts} total=${total} label="contacts finished" />
    <ul class="cards" aria-label="Contacts by status">
      ${TASK_STATUSES.map((s) => html`<li class=${`card status-${s}`}><span class="num" data-testid=${`count-${s}`}>${counts[s as keyof typeof counts]}</span> ${s}</li>`)}
      <li class="card"><span class="num">${last?.attempts ?? run.x_campaign.attempts}</span> dials</li>
      <li class="card">
        <span class="num"
          >${!ended && (last?.eta ?? run.x_campaign.eta) ? relative(last?.eta ?? run.x_campaign.eta) : '—'}</span
        >
        ETA
      </li>
    </ul>

    <div class="charts">
      <${TimeChart}
        title="Dials per minute against the plan's calls per minute"
        unit="per min"
        empty=${chartNote}
        times=${times}
        series=${[
          { label: 'dials/min', values: dialRates(samples), color: '#1f6feb' },
          {
            label: 'plan calls/min',
            values: samples.map((s) => s.limits?.calls_per_minute ?? null),
            color: '#b35900',
            dash: [6, 4],
          },
        ]}
      />
      <${TimeChart}
        title="Live calls against the concurrency cap"
        unit="calls"
        empty=${chartNote}
        times=${times}
        series=${[
          { label: 'live calls', values: samples.map((s) => s.live_calls), color: '#1a7f37' },
          {
            label: 'concurrency cap',
            values: samples.map((s) => s.limits?.concurrency_cap ?? null),
            color: '#b35900',
            dash: [6, 4],
          },
        ]}
      />
    </div>
    <p class="muted small">Charts cover the time this page has been open, sampled every 2 s.</p>

    <${Outcomes} session=${session} runId=${runId} live=${!ended} />
    <${Contacts} session=${session} runId=${runId} live=${!ended} />
  </section>`;
}

function CancelDialog(props: { onClose: () => void; onConfirm: (hangup: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [hangup, setHangup] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return html`<dialog ref=${ref} aria-labelledby="cancel-h" onClose=${props.onClose}>
    <h2 id="cancel-h">Cancel this run?</h2>
    <p>Contacts not yet called will not be called. This cannot be undone.</p>
    <label class="check"
      ><input
        type="checkbox"
        checked=${hangup}
        onChange=${(e: Event) => setHangup((e.target as HTMLInputElement).checked)}
      />
      Hang up calls in progress?</label
    >
    <div class="row">
      <button type="button" class="danger" onClick=${() => props.onConfirm(hangup)}>Cancel run</button>
      <button type="button" onClick=${() => ref.current?.close()}>Keep running</button>
    </div>
  </dialog>`;
}

function Outcomes(props: { session: Session; runId: string; live: boolean }) {
  const { value, error } = usePoll(
    (signal) =>
      request<{ by_end_reason: Record<string, number> }>(
        props.session,
        'GET',
        `/runs/${props.runId}/outcomes/`,
        undefined,
        signal,
      ),
    props.live ? 5000 : 0,
    [props.runId, props.live],
  );
  const rows = Object.entries(value?.data.by_end_reason ?? {}).sort((a, b) => b[1] - a[1]);
  const sum = rows.reduce((n, [, c]) => n + c, 0);
  return html`<section aria-labelledby="outcomes-h">
    <h2 id="outcomes-h">Outcomes by end reason</h2>
    <${ErrorLine} error=${error ? explain(error) : null} />
    ${
      rows.length === 0
        ? html`<p class="muted">No call has ended yet.</p>`
        : html`<table class="outcomes">
            <thead>
              <tr>
                <th scope="col">End reason</th>
                <th scope="col">Contacts</th>
                <th scope="col">Share</th>
              </tr>
            </thead>
            <tbody>
              ${rows.map(
                ([r, n]) =>
                  html`<tr>
                    <td>
                      <span>${END_REASON_WORDS[r] ?? r}</span> <span class="muted small mono">${r}</span>
                    </td>
                    <td>${n}</td>
                    <td>
                      <span
                        class="bar"
                        style=${`--w:${Math.round((n / sum) * 100)}%`}
                        aria-hidden="true"
                      ></span
                      >${Math.round((n / sum) * 100)}%
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}

function Contacts(props: { session: Session; runId: string; live: boolean }) {
  const [status, setStatus] = useState('');
  const [endReason, setEndReason] = useState('');
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [open, setOpen] = useState<Task | null>(null);
  const token = tokens.at(-1);
  const params = new URLSearchParams({ page_size: '25' });
  if (status) params.set('status', status);
  if (endReason) params.set('end_reason', endReason);
  if (search) params.set('q', search);
  if (token) params.set('page_token', token);
  const { value, error } = usePoll(
    (signal) =>
      request<Task[]>(
        props.session,
        'GET',
        `/runs/${props.runId}/contacts/?${params.toString()}`,
        undefined,
        signal,
      ),
    props.live ? 5000 : 0,
    [props.runId, status, endReason, search, token, props.live],
  );
  const reset = () => setTokens([undefined]);
  const tasks = value?.data ?? [];
  return html`<section aria-labelledby="contacts-h">
    <h2 id="contacts-h">Contacts</h2>
    <form
      class="toolbar"
      role="search"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        setSearch(q.trim());
        reset();
      }}
    >
      <label for="c-status">Status</label>
      <select
        id="c-status"
        value=${status}
        onChange=${(e: Event) => {
          setStatus((e.target as HTMLSelectElement).value);
          reset();
        }}
      >
        <option value="">Any</option>
        ${TASK_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
      <label for="c-reason">End reason</label>
      <select
        id="c-reason"
        value=${endReason}
        onChange=${(e: Event) => {
          setEndReason((e.target as HTMLSelectElement).value);
          reset();
        }}
      >
        <option value="">Any</option>
        ${Object.entries(END_REASON_WORDS).map(([r, w]) => html`<option value=${r}>${w}</option>`)}
      </select>
      <label for="c-q">Number or name</label>
      <input
        id="c-q"
        value=${q}
        onInput=${onValue(setQ)}
        type="search"
        maxlength="100"
        placeholder="+1415… or Ann"
        title="A number or its first digits, or the first letters of the name"
      />
      <button type="submit">Search</button>
      <span class="muted" aria-live="polite"
        >${value ? `${value.count} contact${value.count === 1 ? '' : 's'}` : 'Loading…'}</span
      >
    </form>
    <${ErrorLine} error=${error ? explain(error) : null} />
    <${Table} class="contacts" caption="Contacts of this run; choose one to see its calls" columns=${['Line', 'Name', 'Number', 'Status', 'End reason', 'Attempts']}>
          ${tasks.map(
            (t) =>
              html`<tr>
                <td data-label="Line">${t.x_campaign.line}</td>
                <td data-label="Name">
                  <button
                    type="button"
                    class="link"
                    onClick=${() => setOpen(t)}
                    aria-label=${`Open ${t.input.name ?? t.input.contact_number}`}
                  >
                    ${t.input.name ?? '(no name)'}
                  </button>
                </td>
                <td data-label="Number" class="mono">${t.input.contact_number}</td>
                <td data-label="Status">
                  <span class=${`badge task-${t.x_campaign.status}`}>${t.x_campaign.status}</span>
                </td>
                <td data-label="End reason">
                  ${t.x_campaign.end_reason ? (END_REASON_WORDS[t.x_campaign.end_reason] ?? t.x_campaign.end_reason) : '—'}
                </td>
                <td data-label="Attempts">${t.x_campaign.attempts}</td>
              </tr>`,
          )}
          ${
            value && tasks.length === 0
              ? html`<tr>
                  <td colspan="6" class="muted">No contact matches.</td>
                </tr>`
              : null
          }
    </${Table}>
    <nav class="pager" aria-label="Pages of contacts">
      <button type="button" disabled=${tokens.length <= 1} onClick=${() => setTokens(tokens.slice(0, -1))}>
        Previous
      </button>
      <span>Page ${tokens.length}</span>
      <button
        type="button"
        disabled=${!value?.next_page_token}
        onClick=${() => setTokens([...tokens, value!.next_page_token!])}
      >
        Next
      </button>
    </nav>
    ${open ? html`<${ContactDetail} task=${open} onClose=${() => setOpen(null)} />` : null}
  </section>`;
}

function ContactDetail(props: { task: Task; onClose: () => void }) {
  const t = props.task;
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return html`<dialog ref=${ref} class="detail" aria-labelledby="detail-h" onClose=${props.onClose}>
    <div class="row between">
      <h2 id="detail-h">${t.input.name ?? t.input.contact_number}</h2>
      <button type="button" onClick=${() => ref.current?.close()} aria-label="Close">Close</button>
    </div>
    <p class="muted">
      <span class="mono">${t.input.contact_number}</span>${` · line ${t.x_campaign.line} · ${t.x_campaign.status}${t.x_campaign.reason ? ` — ${t.x_campaign.reason}` : ''}`}
    </p>
    <h3>Attempts</h3>
    <ol class="timeline">
      ${t.x_campaign.attempt_history.map(
        (a) =>
          html`<li>
            <strong>Attempt ${a.attempt}</strong> · ${when(a.created_at)} · ${a.status}
            ${a.end_reason ? html` · ${END_REASON_WORDS[a.end_reason] ?? a.end_reason}` : null}
            ${a.duration_s !== null ? html` · ${a.duration_s} s` : null}
            ${a.decision ? html`<div class="muted small">then: ${a.decision}</div>` : null}
          </li>`,
      )}
      ${t.x_campaign.attempt_history.length === 0 ? html`<li class="muted">Not dialed yet${t.x_campaign.next_attempt_at ? `; next attempt ${relative(t.x_campaign.next_attempt_at)}` : ''}.</li>` : null}
    </ol>
    <h3>Summary</h3>
    <p>${t.output.summary ?? html`<span class="muted">none</span>`}</p>
    <h3>Transcript</h3>
    ${t.output.transcript ? html`<pre class="transcript" data-testid="transcript">${t.output.transcript}</pre>` : html`<p class="muted" data-testid="transcript">No transcript.</p>`}
    <h3>Recording</h3>
    ${
      webLink(t.output.recordingUrl)
        ? html`<p><a href=${webLink(t.output.recordingUrl)} target="_blank" rel="noopener noreferrer">Open the recording</a></p>`
        : t.output.recordingUrl
          ? html`<p class="muted">The recording's address is not a web address: <code>${t.output.recordingUrl}</code></p>`
          : html`<p class="muted">No recording.</p>`
    }
  </dialog>`;
}
