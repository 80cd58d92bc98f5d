/**
 * How a simulated call ends: explicit per-number scripts first, then either the documented default rule on the
 * number's last two digits ('scripted') or a weighted draw ('mix'). Others' tests depend on the rule table exactly.
 */
import { normalizeEndReason } from '../unpod/end-reasons';
import { between, type Rng } from './prng';
import type { OutcomeMode, ScriptStep } from './types';

/**
 * End reasons only reached after the call was answered (it ends `connected`, old vocabulary `completed`),
 * compared normalised (`agent_end_call` → AGENT_END_CALL): the lifecycle page's and Unpod's own material's.
 */
export const ANSWERED_REASONS: ReadonlySet<string> = new Set([
  'USER_HUNG_UP_IN_CALL',
  'AGENT_HUNG_UP_SILENCE_DETECTED',
  'AGENT_HUNG_UP_VOICEMAIL_DETECTED',
  'MAX_DURATION_REACHED',
  'IDLE_TIMEOUT',
  'AGENT_END_CALL',
  'CALLER_HANGUP',
  'CUSTOMER_ENDED_CALL',
]);

/** Reasons of a call that was never answered but did not fail (`notConnected`, old `not_connected`). */
export const NOT_CONNECTED_REASONS: ReadonlySet<string> = new Set([
  'USER_DID_NOT_PICK_UP',
  'USER_HUNG_UP_RINGING',
  'VOICEMAIL_DETECTED_PRECONNECT',
  'NO_ANSWER',
  'HANGUP_REQUESTED',
]);

/** A call is answered (reaches `active`) iff it is stuck (null) or its reason is an answered one. */
export function connects(endReason: string | null): boolean {
  return endReason === null || ANSWERED_REASONS.has(normalizeEndReason(endReason) ?? '');
}

/** The terminal outcome of a call that ended with `reason`, answered or not. */
export function outcomeOf(reason: string, answered: boolean): 'connected' | 'notConnected' | 'failed' {
  if (answered) return 'connected';
  return NOT_CONNECTED_REASONS.has(normalizeEndReason(reason) ?? '') ? 'notConnected' : 'failed';
}

/**
 * A realistic mix for `outcomes: { mix: DEFAULT_MIX }`: the lifecycle page's codes and, mixed in, the reasons
 * Unpod's own material shows (`agent_end_call`, `caller_hangup`, `no_answer`, `customer-ended-call`).
 */
export const DEFAULT_MIX: Readonly<Record<string, number>> = {
  agent_end_call: 30,
  USER_HUNG_UP_IN_CALL: 15,
  'customer-ended-call': 5,
  caller_hangup: 5,
  USER_DID_NOT_PICK_UP: 15,
  no_answer: 5,
  VOICEMAIL_DETECTED_PRECONNECT: 5,
  AGENT_HUNG_UP_VOICEMAIL_DETECTED: 3,
  USER_HUNG_UP_RINGING: 3,
  AGENT_HUNG_UP_SILENCE_DETECTED: 4,
  IDLE_TIMEOUT: 2,
  MAX_DURATION_REACHED: 1,
  SIP_FAILED_WRONG_NUMBER: 4,
  SIP_FAILED_NUMBER_BLOCKED: 3,
};

export interface CallPlan {
  endReason: string | null;
  connects: boolean;
  /** Simulated milliseconds. */
  ringMs: number;
  talkMs: number;
  push: 'send' | 'drop';
}

interface Rule {
  from: number;
  to: number;
  text: string;
  step: (attempt: number) => ScriptStep;
}

const ans = (endReason: string | null, push: 'send' | 'drop' = 'send'): ScriptStep => ({
  endReason,
  push,
});
const firstThen = (first: string) => (n: number) => (n <= 1 ? ans(first) : ans('USER_HUNG_UP_IN_CALL'));

export const DEFAULT_RULES: readonly Rule[] = [
  { from: 0, to: 49, text: 'answered, USER_HUNG_UP_IN_CALL', step: () => ans('USER_HUNG_UP_IN_CALL') },
  {
    from: 50,
    to: 59,
    text: 'USER_DID_NOT_PICK_UP on attempt 1, then answered (USER_HUNG_UP_IN_CALL)',
    step: firstThen('USER_DID_NOT_PICK_UP'),
  },
  { from: 60, to: 64, text: 'USER_DID_NOT_PICK_UP always', step: () => ans('USER_DID_NOT_PICK_UP') },
  {
    from: 65,
    to: 69,
    text: 'VOICEMAIL_DETECTED_PRECONNECT on attempt 1, then answered (USER_HUNG_UP_IN_CALL)',
    step: firstThen('VOICEMAIL_DETECTED_PRECONNECT'),
  },
  {
    from: 70,
    to: 72,
    text: 'AGENT_HUNG_UP_VOICEMAIL_DETECTED always (answered, connected)',
    step: () => ans('AGENT_HUNG_UP_VOICEMAIL_DETECTED'),
  },
  { from: 73, to: 74, text: 'USER_HUNG_UP_RINGING always', step: () => ans('USER_HUNG_UP_RINGING') },
  { from: 75, to: 77, text: 'SIP_FAILED_WRONG_NUMBER always', step: () => ans('SIP_FAILED_WRONG_NUMBER') },
  {
    from: 78,
    to: 79,
    text: 'SIP_FAILED_NUMBER_BLOCKED always',
    step: () => ans('SIP_FAILED_NUMBER_BLOCKED'),
  },
  {
    from: 80,
    to: 84,
    text: 'answered, AGENT_HUNG_UP_SILENCE_DETECTED',
    step: () => ans('AGENT_HUNG_UP_SILENCE_DETECTED'),
  },
  { from: 85, to: 86, text: 'answered, MAX_DURATION_REACHED', step: () => ans('MAX_DURATION_REACHED') },
  {
    from: 87,
    to: 89,
    text: 'IDLE_TIMEOUT on attempt 1 (answered, connected), then answered (USER_HUNG_UP_IN_CALL)',
    step: firstThen('IDLE_TIMEOUT'),
  },
  {
    from: 90,
    to: 94,
    text: "the unknown reason 'SIP_TRUNK_CONFIG_ERROR' always (failed)",
    step: () => ans('SIP_TRUNK_CONFIG_ERROR'),
  },
  {
    from: 95,
    to: 95,
    text: "answered, Unpod's 'agent_end_call' (a finished conversation), and NO push is ever sent",
    step: () => ans('agent_end_call', 'drop'),
  },
  {
    from: 96,
    to: 96,
    text: "answered, 'customer-ended-call', and NO push is ever sent",
    step: () => ans('customer-ended-call', 'drop'),
  },
  {
    from: 97,
    to: 97,
    text: "answered, 'caller_hangup', and NO push is ever sent",
    step: () => ans('caller_hangup', 'drop'),
  },
  { from: 98, to: 99, text: 'stuck: rings, goes active and never ends until hung up', step: () => ans(null) },
];

const pad = (n: number) => String(n).padStart(2, '0');

/** The default rule table as Markdown (the README pastes it). */
export function simulatorOutcomeRules(): string {
  const lines = [
    'Default outcomes by the last two digits of `to_number` (attempt = `data.campaign_attempt` if a positive integer, else the count of calls to that number). Per-number scripts override these.',
    '',
    '| last two digits | outcome |',
    '|---|---|',
    ...DEFAULT_RULES.map((r) => `| ${pad(r.from)}–${pad(r.to)} | ${r.text} |`),
    '',
    "Answered reasons end `connected` (old vocabulary `completed`): USER_HUNG_UP_IN_CALL, AGENT_HUNG_UP_SILENCE_DETECTED, AGENT_HUNG_UP_VOICEMAIL_DETECTED, MAX_DURATION_REACHED, IDLE_TIMEOUT, agent_end_call, caller_hangup, customer-ended-call. USER_DID_NOT_PICK_UP, USER_HUNG_UP_RINGING, VOICEMAIL_DETECTED_PRECONNECT and no_answer end `notConnected` (`not_connected`) from `ringing`; every other reason, known or not, ends `failed`. A hangup through the API ends with HANGUP_REQUESTED (`notConnected` before answer, `connected` after). Talk longer than the pipe's `max_call_duration_s` ends MAX_DURATION_REACHED at that cap (stuck calls excepted).",
  ];
  return lines.join('\n');
}

export function defaultStep(toNumber: string, attempt: number): ScriptStep {
  const nn = Number(toNumber.replace(/\D/g, '').slice(-2).padStart(2, '0'));
  const rule = DEFAULT_RULES.find((r) => nn >= r.from && nn <= r.to) ?? DEFAULT_RULES[0]!;
  return rule.step(attempt);
}

function drawMix(mix: Record<string, number>, rng: Rng): ScriptStep {
  const entries = Object.entries(mix).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = rng() * total;
  for (const [reason, w] of entries) {
    x -= w;
    if (x < 0) return ans(reason);
  }
  return ans(entries.at(-1)?.[0] ?? 'USER_HUNG_UP_IN_CALL');
}

/** Simulated ring/talk times (ms) per reason when a step does not fix them. */
function defaultTimes(reason: string | null, rng: Rng): { ringMs: number; talkMs: number } {
  const r = normalizeEndReason(reason);
  const ringMs =
    r === 'USER_DID_NOT_PICK_UP' || r === 'NO_ANSWER'
      ? between(rng, 15_000, 20_000)
      : between(rng, 3_000, 20_000);
  let talkMs: number;
  switch (r) {
    case 'MAX_DURATION_REACHED':
      talkMs = 180_000;
      break;
    case 'AGENT_HUNG_UP_VOICEMAIL_DETECTED':
      talkMs = between(rng, 5_000, 15_000);
      break;
    case 'AGENT_HUNG_UP_SILENCE_DETECTED':
    case 'IDLE_TIMEOUT':
      talkMs = between(rng, 20_000, 60_000);
      break;
    default:
      talkMs = between(rng, 20_000, 180_000);
  }
  return { ringMs: Math.round(ringMs), talkMs: Math.round(talkMs) };
}

export function planCall(args: {
  toNumber: string;
  attempt: number;
  scripts: ReadonlyMap<string, ScriptStep[]>;
  mode: OutcomeMode;
  rng: Rng;
}): CallPlan {
  const script = args.scripts.get(args.toNumber);
  let step: ScriptStep;
  if (script && script.length > 0) step = script[Math.min(args.attempt, script.length) - 1]!;
  else if (args.mode === 'scripted') step = defaultStep(args.toNumber, args.attempt);
  else step = drawMix(args.mode.mix, args.rng);
  const times = defaultTimes(step.endReason, args.rng);
  return {
    endReason: step.endReason,
    connects: connects(step.endReason),
    ringMs: step.ringMs ?? times.ringMs,
    talkMs: step.talkMs ?? times.talkMs,
    push: step.push ?? 'send',
  };
}
