/**
 * The custom search attributes this project sets on its workflows, registered on the embedded dev server at
 * start (and by `temporal operator search-attribute create` on a cluster: see README).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const CampaignRunId = defineSearchAttributeKey('CampaignRunId', SearchAttributeType.KEYWORD);
export const CampaignAccount = defineSearchAttributeKey('CampaignAccount', SearchAttributeType.KEYWORD);
export const CampaignSpace = defineSearchAttributeKey('CampaignSpace', SearchAttributeType.KEYWORD);
export const TaskStatus = defineSearchAttributeKey('TaskStatus', SearchAttributeType.KEYWORD);
export const TaskEndReason = defineSearchAttributeKey('TaskEndReason', SearchAttributeType.KEYWORD);
/** The contact's name as contactNameKeyword() folds it: the console's search by name is a prefix of it. */
export const TaskContactName = defineSearchAttributeKey('TaskContactName', SearchAttributeType.KEYWORD);

/** Longest name kept in TaskContactName (a search attribute value is small; a prefix search needs no more). */
export const CONTACT_NAME_KEYWORD_MAX = 100;

/**
 * A name as it is indexed and searched: NFKC, lower case, spaces trimmed and collapsed, at most
 * CONTACT_NAME_KEYWORD_MAX characters. Folding both sides makes the prefix search case-insensitive on every
 * visibility store (SQLite's LIKE folds ASCII case, PostgreSQL's does not). Pure: safe in a workflow.
 */
export function contactNameKeyword(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().slice(0, CONTACT_NAME_KEYWORD_MAX);
}

/** The task's TaskContactName pair, to spread into its first upsert: none when the contact has no name. */
export function contactNameAttribute(name: string | undefined): SearchAttributePair[] {
  const value = name === undefined ? '' : contactNameKeyword(name);
  return value ? [{ key: TaskContactName, value }] : [];
}

export const ALL_SEARCH_ATTRIBUTES = [
  CampaignRunId,
  CampaignAccount,
  CampaignSpace,
  TaskStatus,
  TaskEndReason,
  TaskContactName,
];
