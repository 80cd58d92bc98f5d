// TEMPORARY re-export for the two importers outside this branch's files (activities/callbacks.ts and the
// console's api-contacts.ts): the run and task views are campaign read models and live in src/campaign/.
// Delete this file once they import '../campaign/run-views' (and run-view-schemas) directly.
export * from '../campaign/run-views';
