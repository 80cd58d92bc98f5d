/** Formatting for people: durations, times, states in words. */

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} m`;
  if (m) return `${m} m ${s % 60} s`;
  return `${s} s`;
}

/** The Runs API's UTC timestamps have no zone suffix. */
export function parseTime(t: string | null | undefined): Date | null {
  if (!t) return null;
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function when(t: string | null | undefined): string {
  const d = parseTime(t);
  if (!d) return '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function relative(t: string | null | undefined): string {
  const d = parseTime(t);
  if (!d) return '—';
  const diff = d.getTime() - Date.now();
  const abs = Math.abs(diff);
  const text = abs < 60_000 ? 'less than a minute' : duration(abs).replace(/ \d+ s$/, '');
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

export const STATE_WORDS: Record<string, string> = {
  running: 'Running',
  paused: 'Paused',
  canceling: 'Canceling',
  canceled: 'Canceled',
  completed: 'Completed',
  failed: 'Failed',
};

export const END_REASON_WORDS: Record<string, string> = {
  USER_HUNG_UP_IN_CALL: 'Talked, then hung up',
  AGENT_HUNG_UP_SILENCE_DETECTED: 'Agent ended on silence',
  MAX_DURATION_REACHED: 'Reached the longest call allowed',
  USER_DID_NOT_PICK_UP: 'Did not pick up',
  USER_HUNG_UP_RINGING: 'Hung up while ringing',
  VOICEMAIL_DETECTED_PRECONNECT: 'Voicemail (before connecting)',
  AGENT_HUNG_UP_VOICEMAIL_DETECTED: 'Voicemail (agent hung up)',
  SIP_FAILED_WRONG_NUMBER: 'Wrong number',
  SIP_FAILED_NUMBER_BLOCKED: 'Number blocked',
  IDLE_TIMEOUT: 'Idle timeout',
  UNKNOWN: 'Ended without a reason',
};

/** A pause reason in plain words: the circuit breaker's codes get a sentence, anything else is shown as given. */
export function pausedInWords(reason: string | null | undefined): string | null {
  if (!reason) return null;
  const r = reason.toLowerCase();
  if (r.includes('circuit') || r.includes('breaker'))
    return `Paused automatically: too many calls were failing in a row, so dialing stopped to protect your numbers and budget (${reason}). Check the Unpod account and agent, then resume.`;
  if (r.includes('auth') || r.includes('401') || r.includes('api key'))
    return `Paused automatically: Unpod refused our API key (${reason}). Fix the key, then resume.`;
  if (r.includes('manual') || r.includes('user') || r.includes('console') || r.includes('cli'))
    return `Paused by a person (${reason}).`;
  return `Paused: ${reason}`;
}

/**
 * A link target only when it is an absolute http(s) address: a recording URL comes from Unpod unchecked, and a
 * `javascript:` or `data:` one must not become a link.
 */
export function webLink(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
