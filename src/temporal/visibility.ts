/**
 * Workflow types and visibility list queries, each defined once. A type is its workflow function's name (the
 * name the worker registers it under, and what `client.workflow.start(fn, …)` sends), never a string literal.
 */
import {
  accountLimiterWorkflow,
  callTaskWorkflow,
  campaignWorkflow,
  contactBatchWorkflow,
  scheduledCampaignWorkflow,
} from '../../workflows';

export const WORKFLOW_TYPES = {
  campaign: campaignWorkflow.name,
  callTask: callTaskWorkflow.name,
  contactBatch: contactBatchWorkflow.name,
  accountLimiter: accountLimiterWorkflow.name,
  scheduledCampaign: scheduledCampaignWorkflow.name,
} as const;
export type WorkflowKind = keyof typeof WORKFLOW_TYPES;

/** A value in a visibility query: double-quoted, with `\` and `"` escaped. */
export function quoteValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * `WorkflowType = '<kind>' AND <attribute> = "<value>" …` over the attributes given (undefined ones left out),
 * e.g. visibilityQuery('campaign', { CampaignSpace: space, ExecutionStatus: 'Running' }).
 */
export function visibilityQuery(kind: WorkflowKind, where: Record<string, string | undefined> = {}): string {
  let q = `WorkflowType = '${WORKFLOW_TYPES[kind]}'`;
  for (const [attribute, value] of Object.entries(where))
    if (value !== undefined) q += ` AND ${attribute} = ${quoteValue(value)}`;
  return q;
}
