/**
 * The console: sign-in, then pages picked by the URL's hash (#/runs, #/runs/<id>, #/new, #/schedules,
 * #/account). Preact components written with htm (tagged templates: no JSX step, no compiler plugin).
 */
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import {
  clearSession,
  explain,
  loadSession,
  saveSession,
  setUnauthorizedHandler,
  signIn,
  type Session,
} from './api';
import { AccountPage } from './pages/account';
import { NewRunPage } from './pages/new-run';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SchedulesPage } from './pages/schedules';
import { onValue } from './ui';

export interface ConsoleConfig {
  temporal_ui_url: string | null;
  namespace: string;
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/runs');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/runs');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn(props: { onSignedIn: (s: Session) => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [space, setSpace] = useState(sessionStorage.getItem('unpod-console.last-space') ?? '');
  const [error, setError] = useState<string | null>(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const s = { key: key.trim(), space: space.trim() };
    if (!s.space) return setError('Enter the space your key was made for.');
    if (!s.key) return setError('Enter an API key to sign in.');
    setBusy(true);
    setError(null);
    try {
      await signIn(s);
      sessionStorage.setItem('unpod-console.last-space', s.space);
      saveSession(s);
      props.onSignedIn(s);
    } catch (err) {
      setError(explain(err, s.space));
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>unpod-campaigns</h1>
    <p class="lead">
      Sign in with your space's API key. It is kept in this tab only and forgotten when the tab closes.
    </p>
    <form onSubmit=${submit} aria-describedby=${error ? 'signin-error' : undefined}>
      <label for="space">Space</label>
      <input
        id="space"
        name="space"
        autocomplete="username"
        value=${space}
        onInput=${onValue(setSpace)}
        placeholder="space_default"
        required
      />
      <label for="key">API key</label>
      <input
        id="key"
        name="key"
        type="password"
        autocomplete="current-password"
        value=${key}
        onInput=${onValue(setKey)}
        required
      />
      ${error ? html`<p id="signin-error" class="error" role="alert">${error}</p>` : null}
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
    </form>
  </main>`;
}

const NAV = [
  ['#/runs', 'Runs'],
  ['#/new', 'New run'],
  ['#/schedules', 'Schedules'],
  ['#/account', 'Account'],
] as const;

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const [notice, setNotice] = useState<string | null>(null);
  const [config, setConfig] = useState<ConsoleConfig>({ temporal_ui_url: null, namespace: 'default' });
  const hash = useHash();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      clearSession();
      setNotice('Your API key is no longer accepted. Sign in again.');
      setSession(null);
    });
    fetch('/console/config.json')
      .then((r) => r.json() as Promise<ConsoleConfig>)
      .then(setConfig)
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    const title = NAV.find(([h]) => hash.startsWith(h))?.[1] ?? 'Run';
    document.title = `${title} · unpod-campaigns`;
    // A new page: keyboard and screen-reader users start at its content, not at the old focus.
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [hash]);

  if (!session) return html`<${SignIn} onSignedIn=${(s: Session) => setSession(s)} notice=${notice} />`;

  const [, page, arg] = hash.split('/');
  let body;
  if (page === 'new') body = html`<${NewRunPage} session=${session} />`;
  else if (page === 'schedules') body = html`<${SchedulesPage} session=${session} />`;
  else if (page === 'account') body = html`<${AccountPage} session=${session} />`;
  else if (page === 'runs' && arg)
    body = html`<${RunPage} session=${session} runId=${arg} config=${config} />`;
  else body = html`<${RunsPage} session=${session} />`;

  const current = page === 'runs' && arg ? '' : `#/${page ?? 'runs'}`;
  return html`<div class="shell">
    <header class="top">
      <a class="brand" href="#/runs">unpod-campaigns</a>
      <nav aria-label="Main">
        <ul>
          ${NAV.map(([href, label]) => html`<li><a href=${href} aria-current=${current === href ? 'page' : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <div class="who">
        <span title="space">${session.space}</span>
        <button
          type="button"
          class="link"
          onClick=${() => {
            clearSession();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </div>
    </header>
    <main id="main" tabindex="-1">${body}</main>
  </div>`;
}

const root = document.getElementById('app')!;
root.textContent = ''; // the boot line; render appends
render(html`<${App} />`, root);
