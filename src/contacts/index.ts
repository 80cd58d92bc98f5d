export * from './contact';
export * from './errors';
export {
  FIELD_ALIASES,
  FIELDS_ALSO_IN_METADATA,
  normaliseHeader,
  type ColumnSources,
  type ContactField,
} from './headers';
export { parseDuration } from './durations';
export { zoneForContact, zoneFromNumber, singleZoneOfCountry } from './phone-zone';
export {
  normalisePhone,
  canonicalTimeZone,
  parseCallAt,
  parseAppointmentAt,
  MAX_INSTRUCTIONS_CHARS,
  MAX_CONTACT_BYTES,
} from './validate';
export { RejectsWriter } from './rejects-writer';
export { ingestContacts } from './ingest-csv';
export { ingestJsonContacts } from './ingest-json';
export { loadDoNotCall } from './do-not-call';
export {
  DEFAULT_MAX_REPORTED_REJECTS,
  DEFAULT_PREVIEW_SIZE,
  DEFAULT_MAX_BATCH_BYTES,
  type IngestOptions,
  type IngestSummary,
  type IngestResult,
} from './collector';
