/** zod schemas for the /_sim admin bodies (standalone use). */
import { z } from 'zod';
import { ACCOUNT_FAILURES } from './types';

const rate = z.number().min(0).max(1);

export const apiFaultsSchema = z.object({
  errorRate: rate.optional(),
  timeoutRate: rate.optional(),
  timeoutMs: z.number().int().nonnegative().optional(),
  lostAnswerRate: rate.optional(),
  slowCreateRate: rate.optional(),
  slowCreateMs: z.number().int().nonnegative().optional(),
  paths: z.array(z.string()).optional(),
  methods: z.array(z.string()).optional(),
});

export const limitsSchema = z.object({
  callsPerMinute: z.number().int().nonnegative().optional(),
  tasksPerDay: z.number().int().nonnegative().optional(),
  concurrency: z.number().int().nonnegative().optional(),
});

export const accountFailureSchema = z.object({ kind: z.enum(ACCOUNT_FAILURES).nullable() });

export const agentPushSchema = z.object({
  url: z.string().url().nullable(),
  secret: z.string().min(1).optional(),
  lossRate: rate.optional(),
});

export const pipeSchema = z.object({
  name: z.string().min(1).optional(),
  agentId: z.string().min(1).nullable().optional(),
  number: z.string().nullable().optional(),
  numberId: z.string().nullable().optional(),
  maxCallDurationS: z.number().int().positive().optional(),
  status: z.string().optional(),
});

export const scriptStepsSchema = z.array(
  z.object({
    endReason: z.string().min(1).nullable(),
    ringMs: z.number().nonnegative().optional(),
    talkMs: z.number().nonnegative().optional(),
    push: z.enum(['send', 'drop']).optional(),
  }),
);
