/**
 * Speech Pipes and their numbers (unpod 0.5.0 `models/pipe.py`, `models/number.py`). Without configured pipes
 * any pipe id (or agent id) gets a pipe on first use, with a number of its own attached.
 */
import type { SimPipe } from './types';

export interface PipeState {
  pipeId: string;
  name: string;
  agentId: string | null;
  number: string | null;
  numberId: string | null;
  maxCallDurationS: number;
  status: string;
  createdMs: number;
}

export const DEFAULT_MAX_CALL_DURATION_S = 3600;

export class PipeBook {
  private readonly pipes = new Map<string, PipeState>();
  private made = 0;

  constructor(
    configured: SimPipe[] | undefined,
    /** False when pipes were configured: unknown ids are 404. */
    private readonly auto = configured === undefined,
  ) {
    for (const p of configured ?? []) this.set(p);
  }

  set(p: SimPipe): PipeState {
    const number = p.number === undefined ? this.freshNumber() : p.number;
    const state: PipeState = {
      pipeId: p.pipeId,
      name: p.name ?? `Simulated pipe ${p.pipeId}`,
      agentId: p.agentId ?? null,
      number,
      numberId: number === null ? null : (p.numberId ?? `num_${number.replace(/\D/g, '')}`),
      maxCallDurationS: p.maxCallDurationS ?? DEFAULT_MAX_CALL_DURATION_S,
      status: p.status ?? 'active',
      createdMs: Date.now(),
    };
    this.pipes.set(p.pipeId, state);
    return state;
  }

  private freshNumber(): string {
    this.made++;
    return `+1555010${String(this.made).padStart(4, '0')}`;
  }

  get(pipeId: string): PipeState | undefined {
    return this.pipes.get(pipeId) ?? (this.auto ? this.set({ pipeId }) : undefined);
  }

  /** "Provide agent_id OR pipe_id (agent_id takes priority)": the pipe bound to the agent. */
  forAgent(agentId: string): PipeState | undefined {
    for (const p of this.pipes.values()) if (p.agentId === agentId) return p;
    return this.auto ? this.set({ pipeId: `pipe_${agentId}`, agentId }) : undefined;
  }

  all(): PipeState[] {
    return [...this.pipes.values()];
  }
}

export function pipeView(p: PipeState): Record<string, unknown> {
  const created = new Date(p.createdMs).toISOString();
  return {
    pipe_id: p.pipeId,
    id: p.pipeId,
    project_id: '',
    name: p.name,
    agent_id: p.agentId,
    number_id: p.numberId,
    number: p.number,
    max_call_duration_s: p.maxCallDurationS,
    status: p.status,
    recording: false,
    created,
    modified: created,
  };
}

/** A number row (status available | assigned | in_call | disabled): a pipe's number is assigned, in_call while used. */
export function numberView(p: PipeState, activeCallId: string | null): Record<string, unknown> {
  return {
    id: p.numberId,
    number_id: p.numberId,
    number: p.number,
    status: activeCallId ? 'in_call' : 'assigned',
    pipe_id: p.pipeId,
    active_call_id: activeCallId,
    trunk_id: null,
    trunk_type: 'livekit',
    country: 'US',
    capabilities: ['voice'],
    created_at: new Date(p.createdMs).toISOString(),
  };
}
