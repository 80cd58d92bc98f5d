/** Small shared pieces: state badge, progress bar, error line, polling hook. */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Counts } from './api';
import { STATE_WORDS } from './format';
import { FINAL_TASK_STATUSES } from '../../workflows/task-statuses';

export function Badge(props: { state: string }) {
  return html`<span class=${`badge state-${props.state}`}>${STATE_WORDS[props.state] ?? props.state}</span>`;
}

/** The statuses a task ends in: the workflows' own list. */
export const FINAL = FINAL_TASK_STATUSES;

export function finished(c: Counts): number {
  return FINAL.reduce((n, k) => n + c[k], 0);
}

export function Progress(props: { counts: Counts; total: number; label: string }) {
  const done = finished(props.counts);
  const total = Math.max(props.total, done);
  const pct = total ? Math.round((done / total) * 100) : 0;
  return html`<div class="progress-wrap">
    <progress max=${total || 1} value=${done} aria-label=${props.label}>${pct}%</progress>
    <span class="muted nowrap">${done.toLocaleString()} / ${total.toLocaleString()} (${pct}%)</span>
  </div>`;
}

export function ErrorLine(props: { error: string | null }) {
  return props.error ? html`<p class="error" role="alert">${props.error}</p>` : null;
}

/** Calls `fn` now and every `everyMs` while mounted (and while `enabled`); keeps the last value and error. */
export function usePoll<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  everyMs: number,
  deps: unknown[],
  enabled = true,
): { value: T | null; error: unknown; reload: () => void } {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const once = async () => {
      try {
        const v = await fnRef.current(ctl.signal);
        if (!ctl.signal.aborted) {
          setValue(v);
          setError(null);
        }
      } catch (err) {
        if (!ctl.signal.aborted) setError(err);
      }
      if (!ctl.signal.aborted && enabled && everyMs > 0) timer = setTimeout(once, everyMs);
    };
    void once();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [...deps, tick, enabled]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}

/**
 * A table in its scrolling wrapper: one header row from `columns` (each cell also labels its column on narrow
 * screens, by its data-label), a caption for screen readers when given, and the rows as children.
 */
export function Table(props: { class: string; caption?: string; columns: string[]; children?: unknown }) {
  return html`<div class="table-wrap">
    <table class=${props.class}>
      ${props.caption ? html`<caption class="sr-only">${props.caption}</caption>` : null}
      <thead>
        <tr>
          ${props.columns.map((c) => html`<th scope="col">${c}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${props.children}
      </tbody>
    </table>
  </div>`;
}

/** An input or select event handler that hands its element's new value to `set`. */
export function onValue(set: (value: string) => void): (e: Event) => void {
  return (e) => set((e.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value);
}
