/**
 * The custom search attributes this project sets on its workflows, registered on the embedded dev server at
 * start (and by `temporal operator search-attribute create` on a cluster: see README).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CampaignRunId = defineSearchAttributeKey('CampaignRunId', SearchAttributeType.KEYWORD);
export const CampaignAccount = defineSearchAttributeKey('CampaignAccount', SearchAttributeType.KEYWORD);
export const CampaignSpace = defineSearchAttributeKey('CampaignSpace', SearchAttributeType.KEYWORD);
export const TaskStatus = defineSearchAttributeKey('TaskStatus', SearchAttributeType.KEYWORD);
export const TaskEndReason = defineSearchAttributeKey('TaskEndReason', SearchAttributeType.KEYWORD);
/** The contact's name, for search by name (set at the task's start). */
export const TaskContactName = defineSearchAttributeKey('TaskContactName', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  CampaignRunId,
  CampaignAccount,
  CampaignSpace,
  TaskStatus,
  TaskEndReason,
  TaskContactName,
];
