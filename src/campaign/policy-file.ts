/**
 * A campaign's retry policy from a JSON file (or API body): every field optional, durations as milliseconds
 * or strings such as "2h", "30 minutes". Validated with zod; errors name the field.
 */
import fs from 'node:fs';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { DEFAULT_POLICY, type CampaignPolicy } from '../../workflows/policy';
import { AppError, issuesOf, issuesText } from '../errors';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function human(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** A duration within [min, max], as milliseconds or a string such as "2h"; the error names the bounds. */
function duration(min: number, max: number) {
  return z.union([z.number().int().nonnegative(), z.string().min(1)]).transform((v, ctx) => {
    let ms: number;
    try {
      ms = typeof v === 'number' ? v : msToNumber(v as Parameters<typeof msToNumber>[0]);
      if (!Number.isFinite(ms) || ms < 0) throw new Error('negative');
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `'${v}' is not a duration (use milliseconds or e.g. "2h", "30m")`,
      });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be between ${human(min)} and ${human(max)} (got ${human(ms)})`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/** Bounds of the policy's durations: a poll every 0 ms or a 100,000-year call cap is refused. */
export const POLICY_BOUNDS = {
  retryDelay: { min: 0, max: 30 * DAY },
  retryShift: { min: 0, max: 7 * DAY },
  pollInterval: { min: SECOND, max: HOUR },
  maxCallDuration: { min: 10 * SECOND, max: 4 * HOUR },
} as const;
const delay = duration(POLICY_BOUNDS.retryDelay.min, POLICY_BOUNDS.retryDelay.max);
const retries = z.number().int().min(0).max(20);

export const policyFileSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(20).optional(),
    noAnswer: z.object({ maxRetries: retries.optional(), delay: delay.optional() }).strict().optional(),
    voicemail: z
      .object({ retry: z.boolean().optional(), maxRetries: retries.optional(), delay: delay.optional() })
      .strict()
      .optional(),
    failure: z.object({ maxRetries: retries.optional(), delay: delay.optional() }).strict().optional(),
    retryShift: duration(POLICY_BOUNDS.retryShift.min, POLICY_BOUNDS.retryShift.max).optional(),
    pollInterval: duration(POLICY_BOUNDS.pollInterval.min, POLICY_BOUNDS.pollInterval.max).optional(),
    maxCallDuration: duration(
      POLICY_BOUNDS.maxCallDuration.min,
      POLICY_BOUNDS.maxCallDuration.max,
    ).optional(),
  })
  .strict();

export class PolicyError extends AppError<'invalid_policy'> {
  override readonly name = 'PolicyError';
  constructor(message: string) {
    super('invalid_policy', message);
  }
}

export function policyFrom(
  value: unknown,
  base: CampaignPolicy = DEFAULT_POLICY,
  source = 'policy',
): CampaignPolicy {
  const parsed = policyFileSchema.safeParse(value);
  if (!parsed.success) {
    throw new PolicyError(
      `${source} is not a valid policy:\n  ${issuesText(issuesOf(parsed.error), '\n  ')}`,
    );
  }
  const p = parsed.data;
  const policy: CampaignPolicy = {
    maxAttempts: p.maxAttempts ?? base.maxAttempts,
    noAnswer: {
      maxRetries: p.noAnswer?.maxRetries ?? base.noAnswer.maxRetries,
      delayMs: p.noAnswer?.delay ?? base.noAnswer.delayMs,
    },
    voicemail: {
      retry: p.voicemail?.retry ?? base.voicemail.retry,
      maxRetries: p.voicemail?.maxRetries ?? base.voicemail.maxRetries,
      delayMs: p.voicemail?.delay ?? base.voicemail.delayMs,
    },
    failure: {
      maxRetries: p.failure?.maxRetries ?? base.failure.maxRetries,
      delayMs: p.failure?.delay ?? base.failure.delayMs,
    },
    retryShiftMs: p.retryShift ?? base.retryShiftMs,
    pollIntervalMs: p.pollInterval ?? base.pollIntervalMs,
    maxCallMs: p.maxCallDuration ?? base.maxCallMs,
  };
  if (policy.maxCallMs !== undefined && policy.pollIntervalMs > policy.maxCallMs)
    throw new PolicyError(
      `${source} is not a valid policy:\n  pollInterval: must not be longer than maxCallDuration (${human(policy.maxCallMs)})`,
    );
  return policy;
}

export function loadPolicyFile(path: string): CampaignPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PolicyError(`--policy ${path}: cannot read JSON (${(err as Error).message})`);
  }
  return policyFrom(raw, DEFAULT_POLICY, `--policy ${path}`);
}

/** Short delays for demos and tests: the same shape, seconds instead of hours. */
export const DEMO_POLICY: CampaignPolicy = {
  ...DEFAULT_POLICY,
  noAnswer: { maxRetries: 2, delayMs: 3_000 },
  voicemail: { retry: true, maxRetries: 1, delayMs: 3_000 },
  failure: { maxRetries: 1, delayMs: 2_000 },
  pollIntervalMs: 1_000,
  maxCallMs: 60_000,
};

/** Policies `--policy` names instead of a file: the defaults, and the demo's short delays. */
export const POLICY_PRESETS = { default: DEFAULT_POLICY, demo: DEMO_POLICY } as const;
export type PolicyPresetName = keyof typeof POLICY_PRESETS;

/** `--policy`: a preset name (default, demo) or a JSON file. */
export function resolvePolicy(value: string): CampaignPolicy {
  if (Object.hasOwn(POLICY_PRESETS, value) && !fs.existsSync(value))
    return POLICY_PRESETS[value as PolicyPresetName];
  if (!fs.existsSync(value))
    throw new PolicyError(
      `--policy ${value}: no such file, and not a preset (${Object.keys(POLICY_PRESETS).join(', ')})`,
    );
  return loadPolicyFile(value);
}
