/** The workflows the worker registers. */
export { campaignWorkflow } from './campaign';
export { callTaskWorkflow } from './call-task';
export { contactBatchWorkflow } from './contact-batch';
export { accountLimiterWorkflow } from './account-limiter';
export { scheduledCampaignWorkflow } from './scheduled-campaign';
