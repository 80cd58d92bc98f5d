/**
 * The worker: registers the workflows and the activities over a real Unpod client and Temporal client.
 */
import { Client, Connection } from '@temporalio/client';
import {
  type ActivityInterceptorsFactory,
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkflowBundleOption,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config } from '../config/config';
import type { OutboundOptions } from '../net/outbound-url';
import { UnpodClient } from '../unpod';
import type { CallWatcher } from '../unpod/call-watcher';
import type { WorkerStats } from './stats';

export const WORKFLOWS_PATH = require.resolve('../../workflows');

export interface WorkerTuning {
  maxCachedWorkflows?: number;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  shutdownGraceTimeMs?: number;
  /** After this, run() gives up on a graceful shutdown and throws; unset: it waits for every activity. */
  shutdownForceTimeMs?: number;
}

export interface CreateWorkerOptions {
  connection: NativeConnection;
  /** Used by activities that read Temporal (contact batches). */
  client: Client;
  namespace: string;
  taskQueue: string;
  unpod: UnpodClient;
  /** The worker's end-detection watcher; made over `unpod` when not given. Drain it before shutting down. */
  watcher?: CallWatcher;
  /** After a create lost its answer, how long until a call it placed must be listed (UNPOD_LANDING_DELAY_MS). */
  landingDelayMs?: number;
  /** Signs callbacks to a run's callback_url (CALLBACK_SIGNING_SECRET); unset: none are sent. */
  callbackSigningSecret?: string;
  /** The guard over user-given URLs (sources, callbacks); default: public addresses only. */
  outbound?: OutboundOptions;
  tuning?: WorkerTuning;
  /** A pre-built bundle (tests build once per process); else the worker bundles workflows/ itself. */
  workflowBundle?: WorkflowBundleOption;
  /** Counts this worker's activities (in flight, completed, failed, call durations) through an interceptor. */
  stats?: WorkerStats;
  /** More activity interceptors (tracing, say; the tests use one to play a worker that dies mid-activity). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Shown in the Web UI as the worker that ran a task; default the SDK's pid@host. */
  identity?: string;
}

/**
 * Activity slots when none are given. Each live call holds one (its end is awaited by a heartbeating activity
 * that only waits on the watcher), so this must stay well above the calls a worker has in flight.
 */
export const DEFAULT_ACTIVITY_SLOTS = 2000;

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function createWorker(o: CreateWorkerOptions): Promise<Worker> {
  if (o.stats) o.stats.capacity = o.tuning?.maxConcurrentActivityTaskExecutions ?? DEFAULT_ACTIVITY_SLOTS;
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({
      unpod: o.unpod,
      temporal: o.client,
      // Eager start needs the starter and the worker on one NativeConnection (the SDK refuses it otherwise).
      // (The project uses the default data converter, so this client encodes as `client` does.)
      eagerStarter: new Client({ connection: o.connection, namespace: o.namespace }),
      watcher: o.watcher,
      landingDelayMs: o.landingDelayMs,
      callbackSigningSecret: o.callbackSigningSecret,
      outbound: o.outbound,
    }),
    // Only what is set: the SDK spreads these over its defaults, and an explicit undefined replaces one.
    ...definedOnly({
      maxCachedWorkflows: o.tuning?.maxCachedWorkflows,
      maxConcurrentActivityTaskExecutions:
        o.tuning?.maxConcurrentActivityTaskExecutions ?? DEFAULT_ACTIVITY_SLOTS,
      maxConcurrentWorkflowTaskExecutions: o.tuning?.maxConcurrentWorkflowTaskExecutions,
      shutdownGraceTime: o.tuning?.shutdownGraceTimeMs,
      shutdownForceTime: o.tuning?.shutdownForceTimeMs,
      identity: o.identity,
      interceptors:
        o.stats || o.activityInterceptors?.length
          ? { activity: [...(o.stats ? [o.stats.interceptor] : []), ...(o.activityInterceptors ?? [])] }
          : undefined,
    }),
  });
}

/** The Unpod client as the configuration says: base URL, key, auth scheme, Org-Handle, idempotency header. */
export function unpodClientFromConfig(config: Config): UnpodClient {
  const u = config.unpod;
  return new UnpodClient({
    baseUrl: u.baseUrl,
    apiKey: u.apiKey,
    authScheme: u.authScheme,
    orgHandle: u.orgHandle,
    productId: u.productId,
    idempotencyHeader: u.idempotencyHeader,
    timeoutMs: u.timeoutMs,
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundles workflows/ once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  return bundle;
}

export { Connection };
