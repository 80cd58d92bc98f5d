/**
 * A call as Unpod sends it, in the SDK's `Call` shape (unpod 0.5.0 `models/call.py`): `id` and `call_id`,
 * `to_number` and `user_number`, `data`, `transcript` as turns on a GET (`[]` for none) and null on list rows
 * (with `transcript_turns` on both), `created` / `modified`, and the 0.5.0 extras (`traces.call_timings`, …).
 */
import type { Phase, SimCall } from './sim-call';
import type { StatusVocabulary } from './types';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** call_timings are "ISO-8601, to the second" (models/call.py). */
const isoS = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().slice(0, 19) + 'Z');

const IN_FLIGHT_WORD: Record<Exclude<Phase, 'ended'>, Record<StatusVocabulary, string>> = {
  pending: { new: 'pending', old: 'pending' },
  dispatching: { new: 'dispatching', old: 'pending' },
  ringing: { new: 'ringing', old: 'ringing' },
  active: { new: 'active', old: 'active' },
};
const TERMINAL_WORD = {
  connected: { new: 'connected', old: 'completed' },
  notConnected: { new: 'notConnected', old: 'not_connected' },
  failed: { new: 'failed', old: 'failed' },
} as const;

export function statusWord(sim: SimCall, vocab: StatusVocabulary): string {
  if (sim.phase === 'ended') return TERMINAL_WORD[sim.outcome ?? 'failed'][vocab];
  return IN_FLIGHT_WORD[sim.phase][vocab];
}

function callTimings(sim: SimCall) {
  const ring =
    sim.dialedMs === null ? null : ((sim.connectedMs ?? sim.endedMs ?? sim.dialedMs) - sim.dialedMs) / 1000;
  return {
    call_dialed_at: isoS(sim.dialedMs),
    call_connected_at: isoS(sim.connectedMs),
    call_ended_at: isoS(sim.endedMs),
    ring_duration_seconds: ring === null ? null : Math.round(ring * 10) / 10,
    talk_duration_seconds: sim.connectedMs === null ? null : (sim.durationS ?? null),
  };
}

/** The full record of `GET …/calls/{id}` (and of create and hangup answers). */
export function callDetail(sim: SimCall, vocab: StatusVocabulary): Record<string, unknown> {
  return {
    id: sim.id,
    call_id: sim.id,
    org_id: sim.accountId,
    project_id: '',
    user_id: null,
    pipe_id: sim.pipeId,
    agent_id: sim.agentId,
    direction: 'outbound',
    from_number: sim.fromNumber,
    to_number: sim.toNumber,
    user_number: sim.toNumber,
    number_id: sim.numberId,
    trunk_id: null,
    provider_trunk_id: null,
    session_id: sim.sessionId,
    room_name: sim.roomName,
    instructions: sim.instructions,
    data: sim.data,
    status: statusWord(sim, vocab),
    end_reason: sim.endReason,
    disposition: null,
    started_at: iso(sim.dialedMs),
    scheduled_at: null,
    ended_at: iso(sim.endedMs),
    duration_s: sim.durationS,
    recording_url: sim.recordingUrl,
    initial_call_id: null,
    latency_summary: null,
    analytics: [],
    traces: {
      call_timings: callTimings(sim),
      ...(sim.endReason ? { supervoice_end_reason: sim.endReason } : {}),
    },
    transcript: sim.transcript.map((t) => ({ ...t })),
    transcript_turns: sim.transcript.length,
    created: iso(sim.createdMs),
    modified: iso(sim.modifiedMs),
  };
}

/** A row of `GET …/calls`: the same record with the turns projected out (`transcript: null`). */
export function callRow(sim: SimCall, vocab: StatusVocabulary): Record<string, unknown> {
  return { ...callDetail(sim, vocab), transcript: null };
}
