/**
 * Connections to Temporal from configuration: TEMPORAL_ADDRESS (else the embedded dev server's address),
 * namespace, and TLS or an API key for a cluster or Temporal Cloud.
 */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type * as WorkerPackage from '@temporalio/worker';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config/config';

/**
 * Connection.connect, but a connection that fails is closed. The SDK's own leaves the failed gRPC channel open
 * and reconnecting in the background: a readiness loop (dev-server.ts, cluster.ts) left one per attempt (seen:
 * 5 failed connects to a port that hangs up, then 3 more connection attempts in the next 10 s; 1 with this).
 */
export async function openConnection(options: ConnectionOptions): Promise<Connection> {
  const connection = Connection.lazy(options);
  try {
    await connection.ensureConnected();
    return connection;
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
}

export function temporalAddress(config: Config): string {
  return (
    config.temporal.address ?? `${config.env.TEMPORAL_DEV_SERVER_IP}:${config.env.TEMPORAL_DEV_SERVER_PORT}`
  );
}

function tlsOptions(config: Config): ConnectionOptions['tls'] {
  const { TEMPORAL_TLS, TEMPORAL_API_KEY } = config.env;
  const cert = config.env.TEMPORAL_TLS_CLIENT_CERT_PATH ?? config.env.TEMPORAL_TLS_CERT_PATH;
  const key = config.env.TEMPORAL_TLS_CLIENT_KEY_PATH ?? config.env.TEMPORAL_TLS_KEY_PATH;
  if (cert && key) return { clientCertPair: { crt: fs.readFileSync(cert), key: fs.readFileSync(key) } };
  if (TEMPORAL_TLS || TEMPORAL_API_KEY) return true;
  return undefined;
}

export async function connectClient(
  config: Config,
  address = temporalAddress(config),
  options: { connectTimeoutMs?: number } = {},
): Promise<Client> {
  const connection = await openConnection({
    address,
    tls: tlsOptions(config),
    apiKey: config.env.TEMPORAL_API_KEY,
    ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}),
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}

export async function connectNative(
  config: Config,
  address = temporalAddress(config),
): Promise<NativeConnection> {
  const options: NativeConnectionOptions = {
    address,
    tls: tlsOptions(config),
    apiKey: config.env.TEMPORAL_API_KEY,
  };
  // Loaded here, not at the top: the CLI's client commands then never load the worker package (seconds).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const worker = require('@temporalio/worker') as typeof WorkerPackage;
  return worker.NativeConnection.connect(options);
}
