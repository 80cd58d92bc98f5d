/** The Unpod simulator: a local server that behaves like Unpod's calls API (see DESIGN.md, "The simulator"). */
export { startSimulator } from './server';
export { simulatorOutcomeRules, DEFAULT_RULES, ANSWERED_REASONS } from './outcomes';
export { HANGUP_REASON } from './state-machine';
export { DEFAULT_ACCOUNT } from './accounts';
export { signWebhook } from '../unpod/webhook-signature';
export type {
  AccountLimits,
  ApiFaults,
  Ledger,
  LedgerCounts,
  LedgerDial,
  LedgerDuplicate,
  LedgerViolation,
  OutcomeMode,
  RunningSimulator,
  ScriptStep,
  SimulatorAccount,
  SimulatorOptions,
  ViolationKind,
  WebhookFaults,
} from './types';
