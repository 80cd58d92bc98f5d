/** The Unpod simulator: a local server that behaves like Unpod's calls API as its SDK (unpod 0.5.0) sees it. */
export { startSimulator } from './server';
export {
  simulatorOutcomeRules,
  DEFAULT_RULES,
  DEFAULT_MIX,
  ANSWERED_REASONS,
  NOT_CONNECTED_REASONS,
} from './outcomes';
export { HANGUP_REASON } from './state-machine';
export { DEFAULT_ACCOUNT } from './accounts';
export { DEFAULT_MAX_CALL_DURATION_S } from './pipes';
export { SUPERVOICE_NUMBERS_PATHS } from './routes-resources';
export { ACCOUNT_FAILURES } from './types';
export { distinctShapes, requestShape, type RequestShape } from './request-shape';
export type {
  AccountFailure,
  AccountLimits,
  AgentPushOptions,
  ApiFaults,
  Ledger,
  LedgerCounts,
  LedgerDial,
  LedgerDuplicate,
  LedgerViolation,
  OutcomeMode,
  RecordedRequest,
  RunningSimulator,
  ScriptStep,
  SimPipe,
  SimulatorAccount,
  SimulatorOptions,
  StatusVocabulary,
  ViolationKind,
} from './types';
