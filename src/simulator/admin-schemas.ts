/** zod schemas for the /_sim admin bodies (standalone use). */
import { z } from 'zod';

const rate = z.number().min(0).max(1);

export const apiFaultsSchema = z.object({
  errorRate: rate.optional(),
  timeoutRate: rate.optional(),
  timeoutMs: z.number().int().nonnegative().optional(),
  paths: z.array(z.string()).optional(),
});

export const webhookFaultsSchema = z.object({
  lossRate: rate.optional(),
  duplicateRate: rate.optional(),
  delayMs: z.tuple([z.number().nonnegative(), z.number().nonnegative()]).optional(),
  reorder: z.boolean().optional(),
});

export const webhookUrlSchema = z.object({ url: z.string().url().nullable().optional() });

export const limitsSchema = z.object({
  callsPerMinute: z.number().int().nonnegative().optional(),
  tasksPerDay: z.number().int().nonnegative().optional(),
  concurrency: z.number().int().nonnegative().optional(),
});

export const scriptStepsSchema = z.array(
  z.object({
    endReason: z.string().min(1).nullable(),
    ringMs: z.number().nonnegative().optional(),
    talkMs: z.number().nonnegative().optional(),
    webhook: z.enum(['send', 'drop']).optional(),
  }),
);
