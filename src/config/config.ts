/**
 * Configuration: one zod schema over the environment. `loadConfig(env)` is pure: nothing is read at import
 * time, and every bad variable is named in one error.
 */
import net from 'node:net';
import { z } from 'zod';
import { parseAllowList } from '../net/outbound-url';
import { AppError, issuesText, issuesOf } from '../errors';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .optional()
  .transform((v) => (v === undefined ? undefined : ['true', '1', 'yes'].includes(v)));

/** Defaults the CLI, the API and the embedded stack share (each defined here once). */
export const DEFAULTS = {
  /** The Unpod account (plan limits) of a run that names none. */
  account: 'acct_default',
  /** Most tasks of a run open at once. */
  window: 500,
  /** Largest upload (CSV file or JSON body), bytes. */
  bodyLimitBytes: 10 * 1024 * 1024,
  /** Largest list fetched from a URL, bytes. */
  sourceLimitBytes: 50 * 1024 * 1024,
} as const;

export const envSchema = z
  .object({
    // Temporal: unset TEMPORAL_ADDRESS means "start the embedded dev server".
    TEMPORAL_ADDRESS: optionalString,
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('unpod-campaigns'),
    TEMPORAL_API_KEY: optionalString,
    TEMPORAL_TLS: bool,
    TEMPORAL_TLS_CERT_PATH: optionalString,
    TEMPORAL_TLS_KEY_PATH: optionalString,
    /** The names Temporal's client environment configuration uses; either pair works. */
    TEMPORAL_TLS_CLIENT_CERT_PATH: optionalString,
    TEMPORAL_TLS_CLIENT_KEY_PATH: optionalString,
    TEMPORAL_CLI_PATH: optionalString,
    TEMPORAL_DEV_SERVER_IP: z.string().default('127.0.0.1'),
    TEMPORAL_DEV_SERVER_PORT: port.default(7233),
    TEMPORAL_UI_PORT: port.default(8233),
    TEMPORAL_DB_FILE: z.string().default('.data/temporal.sqlite'),

    // Unpod: both set means "talk to this account"; both unset means "start and use the simulator".
    UNPOD_BASE_URL: optionalString.pipe(z.url().optional()),
    UNPOD_API_KEY: optionalString,
    /** The SDK's auth strategies (`_auth.py`): bearer (direct, the default), token or jwt (+ Org-Handle). */
    UNPOD_AUTH_SCHEME: z.enum(['bearer', 'token', 'jwt']).default('bearer'),
    UNPOD_ORG_HANDLE: optionalString,
    UNPOD_PRODUCT_ID: optionalString,
    /** Header for an idempotency key on creates; unset (the default): none is sent — Unpod documents none. */
    UNPOD_IDEMPOTENCY_HEADER: optionalString,
    UNPOD_PIPE_ID: z.string().min(1).default('pipe_default'),
    UNPOD_AGENT_ID: optionalString,
    UNPOD_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** After a create lost its answer, how long until a call it placed must be listed (then it is looked for). */
    UNPOD_LANDING_DELAY_MS: z.coerce.number().int().positive().default(15_000),
    /** Signs an AgentRunner's call_end push to POST /v1/agent-events; unset: the route is off. */
    AGENT_PUSH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),

    // The simulator, when it is used.
    SIMULATOR_HOST: z.string().default('127.0.0.1'),
    SIMULATOR_PORT: port.default(8090),
    SIMULATOR_SPEED: z.coerce.number().positive().default(20),
    SIMULATOR_API_KEY: z.string().min(1).default('sim_test_key'),

    // Our HTTP server (API, console, health, agent push).
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: port.default(8080),
    /** Base URL under which agents reach our push endpoint; defaults to http://HTTP_HOST:HTTP_PORT. */
    PUBLIC_URL: optionalString.pipe(z.url().optional()),
    /**
     * API keys of the /api/v2 endpoints, each scoped to one space: JSON (`{"key":"space"}` or
     * `[{"key":"…","space":"…","user":"…","account":"…"}]`) or `key:space,key2:space2`. Unset: every API call is 401.
     */
    API_KEYS: optionalString,
    /** Unpod account (plan limits) of runs started through the API when the key names none. */
    API_DEFAULT_ACCOUNT: z.string().min(1).default(DEFAULTS.account),
    /** Largest accepted upload (CSV file or JSON body), bytes; larger gets 413. */
    API_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(DEFAULTS.bodyLimitBytes),
    /** Largest contact list fetched from a `source_url`, bytes. */
    API_SOURCE_LIMIT_BYTES: z.coerce.number().int().positive().default(DEFAULTS.sourceLimitBytes),
    /** The Runs API `run_mode` of runs shown by this deployment; default dev with the simulator, else prod. */
    API_RUN_MODE: z.enum(['dev', 'prod']).optional(),
    /** CORS, as the Runner's ServeOptions: comma-separated lists, `*` for any. */
    CORS_ALLOW_ORIGINS: z.string().default('*'),
    CORS_ALLOW_METHODS: z.string().default('*'),
    CORS_ALLOW_HEADERS: z.string().default('*'),
    CORS_ALLOW_CREDENTIALS: bool,
    /** Secret that signs the callbacks we POST to a run's callback_url (the push endpoint's scheme). */
    CALLBACK_SIGNING_SECRET: optionalString.pipe(
      z.string().min(16, 'must be at least 16 characters').optional(),
    ),

    /**
     * Outbound-URL guard (src/net/outbound-url.ts): hosts, addresses or CIDR ranges that a source_url or
     * callback_url may reach although internal (`loopback`, `10.0.0.0/8`, `crm.internal`, `*.corp.example`).
     * Unset: only public addresses.
     */
    OUTBOUND_ALLOW: optionalString,
    /** Total deadline of one fetch of a user-given URL (connect, headers, whole body), ms. */
    OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    /** Key for GET /metrics and /ready (`Authorization: Bearer <key>`); unset: they answer 401 unless OPS_PUBLIC. */
    OPS_API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** true: /metrics and /ready answer anyone (e.g. on a private network). */
    OPS_PUBLIC: bool,

    DEFAULT_REGION: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 region such as US or IN')
      .default('US'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    // Worker tuning.
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().positive().default(1000),
    /** Each live call holds one (its end is awaited by a heartbeating activity): keep it above the concurrency. */
    WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(2000),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().positive().default(40),
    WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(30_000),
    /** How often `unpod-campaigns worker` logs its stats; 0: never. */
    WORKER_STATS_INTERVAL_MS: z.coerce.number().int().nonnegative().default(30_000),
    /** `unpod-campaigns worker` serves /metrics and /stats here; 0: a free port (logged). */
    WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    WORKER_METRICS_PORT: port.default(9464),
  })
  .superRefine((env, ctx) => {
    if (env.API_KEYS) {
      try {
        parseApiKeys(env.API_KEYS);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: (err as Error).message });
      }
    }
    if (env.CORS_ALLOW_CREDENTIALS && list(env.CORS_ALLOW_ORIGINS).some((o) => o === '*'))
      ctx.addIssue({
        code: 'custom',
        path: ['CORS_ALLOW_CREDENTIALS'],
        message:
          'needs CORS_ALLOW_ORIGINS to list the allowed origins (any origin with credentials is refused)',
      });
    if (env.OUTBOUND_ALLOW) {
      try {
        parseAllowList(env.OUTBOUND_ALLOW);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['OUTBOUND_ALLOW'], message: (err as Error).message });
      }
    }
    if (Boolean(env.UNPOD_BASE_URL) !== Boolean(env.UNPOD_API_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.UNPOD_BASE_URL ? 'UNPOD_API_KEY' : 'UNPOD_BASE_URL'],
        message:
          'UNPOD_BASE_URL and UNPOD_API_KEY go together: set both to use a real Unpod account, or neither to use the simulator',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** Whether a host (name or address, brackets allowed) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h) || /^::ffff:7f[0-9a-f]{2}:/.test(h);
  return false;
}

/** One API key: the space it may act in, who it speaks for, and what its runs may name. */
export interface ApiKeyEntry {
  key: string;
  space: string;
  /** Shown as the Runs API `user` of the runs it starts; default the key's index (`key-1`, …). */
  user: string;
  /** The one Unpod account whose plan limits its runs use; default API_DEFAULT_ACCOUNT. A run naming another is 403. */
  account?: string;
  /** When set, the only pipe_id / agent_id / from_number its runs may name (else 403 naming the field). */
  pipes?: string[];
  agents?: string[];
  fromNumbers?: string[];
}

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550100');
const apiKeyObject = z
  .object({
    key: z.string().min(8, 'an API key must be at least 8 characters'),
    space: z.string().min(1),
    user: z.string().min(1).optional(),
    account: z.string().min(1).optional(),
    pipes: z.array(z.string().min(1)).min(1).optional(),
    agents: z.array(z.string().min(1)).min(1).optional(),
    from_numbers: z.array(e164).min(1).optional(),
  })
  .strict();
const apiKeysJson = z.union([z.array(apiKeyObject), z.record(z.string().min(8), z.string().min(1))]);

/**
 * The well-known API key of the embedded stack (`up`, `demo`) with the simulator, no API_KEYS and the HTTP
 * server on loopback (see localDevKeys); never accepted anywhere else.
 */
export const LOCAL_DEV_API_KEY: ApiKeyEntry = { key: 'local-dev-key', space: 'space_default', user: 'local' };

/** Parses API_KEYS (see the schema); throws naming the entry at fault. */
export function parseApiKeys(value: string): ApiKeyEntry[] {
  const text = value.trim();
  let entries: z.infer<typeof apiKeyObject>[];
  if (text.startsWith('{') || text.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error('is not valid JSON');
    }
    const parsed = apiKeysJson.safeParse(json);
    if (!parsed.success) throw new Error(issuesText(issuesOf(parsed.error)));
    entries = Array.isArray(parsed.data)
      ? parsed.data
      : Object.entries(parsed.data).map(([key, space]) => ({ key, space }));
  } else {
    entries = text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((pair, i) => {
        const at = pair.lastIndexOf(':');
        if (at <= 0 || at === pair.length - 1) throw new Error(`entry ${i + 1} is not key:space`);
        const e = { key: pair.slice(0, at), space: pair.slice(at + 1) };
        if (e.key.length < 8) throw new Error(`entry ${i + 1}: an API key must be at least 8 characters`);
        return e;
      });
  }
  const seen = new Set<string>();
  return entries.map((e, i) => {
    if (seen.has(e.key)) throw new Error(`entry ${i + 1}: the same key is listed twice`);
    seen.add(e.key);
    const o = e as Partial<z.infer<typeof apiKeyObject>>;
    return {
      key: e.key,
      space: e.space,
      user: o.user ?? `key-${i + 1}`,
      ...(o.account ? { account: o.account } : {}),
      ...(o.pipes ? { pipes: o.pipes } : {}),
      ...(o.agents ? { agents: o.agents } : {}),
      ...(o.from_numbers ? { fromNumbers: o.from_numbers } : {}),
    };
  });
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

export interface Config {
  env: Env;
  temporal: {
    /** undefined: start the embedded dev server. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
  };
  unpod: {
    baseUrl: string;
    apiKey: string;
    useSimulator: boolean;
    authScheme: 'bearer' | 'token' | 'jwt';
    orgHandle?: string;
    productId?: string;
    idempotencyHeader?: string;
    pipeId: string;
    agentId?: string;
    timeoutMs: number;
    landingDelayMs: number;
  };
  /** The push accelerator's secret (AGENT_PUSH_SECRET); undefined: POST /v1/agent-events is off. */
  agentPushSecret: string | undefined;
  http: { host: string; port: number; publicUrl: string };
  api: {
    keys: ApiKeyEntry[];
    defaultAccount: string;
    bodyLimitBytes: number;
    sourceLimitBytes: number;
    runMode: 'dev' | 'prod';
    callbackSigningSecret: string | undefined;
    cors: { origins: string[]; methods: string[]; headers: string[]; credentials: boolean };
  };
  /** The guard over user-given URLs (sources, callbacks). */
  outbound: { allow: string[]; timeoutMs: number; maxBytes: number };
  /** Who may read /metrics and /ready. */
  ops: { key: string | undefined; public: boolean };
}

export class ConfigError extends AppError<'invalid_config'> {
  override readonly name = 'ConfigError';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'invalid_config',
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
    );
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        variable: String(i.path[0] ?? '(environment)'),
        message: i.message,
      })),
    );
  }
  const e = parsed.data;
  const useSimulator = !e.UNPOD_BASE_URL;
  return {
    env: e,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
    },
    unpod: {
      useSimulator,
      baseUrl: e.UNPOD_BASE_URL ?? `http://${e.SIMULATOR_HOST}:${e.SIMULATOR_PORT}`,
      apiKey: e.UNPOD_API_KEY ?? e.SIMULATOR_API_KEY,
      authScheme: e.UNPOD_AUTH_SCHEME,
      orgHandle: e.UNPOD_ORG_HANDLE,
      productId: e.UNPOD_PRODUCT_ID,
      idempotencyHeader: e.UNPOD_IDEMPOTENCY_HEADER,
      pipeId: e.UNPOD_PIPE_ID,
      agentId: e.UNPOD_AGENT_ID,
      timeoutMs: e.UNPOD_TIMEOUT_MS,
      landingDelayMs: e.UNPOD_LANDING_DELAY_MS,
    },
    agentPushSecret: e.AGENT_PUSH_SECRET,
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      publicUrl: e.PUBLIC_URL ?? `http://${e.HTTP_HOST}:${e.HTTP_PORT}`,
    },
    api: {
      // No keys: every API call is 401 (the embedded stack on loopback adds LOCAL_DEV_API_KEY: localDevKeys).
      keys: e.API_KEYS ? parseApiKeys(e.API_KEYS) : [],
      defaultAccount: e.API_DEFAULT_ACCOUNT,
      bodyLimitBytes: e.API_BODY_LIMIT_BYTES,
      sourceLimitBytes: e.API_SOURCE_LIMIT_BYTES,
      runMode: e.API_RUN_MODE ?? (useSimulator ? 'dev' : 'prod'),
      callbackSigningSecret: e.CALLBACK_SIGNING_SECRET,
      cors: {
        origins: list(e.CORS_ALLOW_ORIGINS),
        methods: list(e.CORS_ALLOW_METHODS),
        headers: list(e.CORS_ALLOW_HEADERS),
        // Credentials only when asked for: with `*` origins they would reflect any site's origin.
        credentials: e.CORS_ALLOW_CREDENTIALS ?? false,
      },
    },
    outbound: {
      allow: parseAllowList(e.OUTBOUND_ALLOW),
      timeoutMs: e.OUTBOUND_TIMEOUT_MS,
      maxBytes: e.API_SOURCE_LIMIT_BYTES,
    },
    ops: { key: e.OPS_API_KEY, public: e.OPS_PUBLIC ?? false },
  };
}

/**
 * The embedded stack (`up`, `demo`): with the simulator, no API_KEYS and the HTTP server on loopback, the
 * well-known LOCAL_DEV_API_KEY so `curl` works out of the box, /metrics and /ready open (to this machine), and
 * loopback reachable through the outbound guard (the simulator and local test servers live there). Anything
 * else is returned unchanged.
 */
export function embeddedStackConfig(config: Config): Config {
  if (!config.unpod.useSimulator || !isLoopbackHost(config.http.host)) return config;
  return {
    ...config,
    api: { ...config.api, keys: config.api.keys.length ? config.api.keys : [LOCAL_DEV_API_KEY] },
    outbound: {
      ...config.outbound,
      allow: config.outbound.allow.includes('loopback')
        ? config.outbound.allow
        : [...config.outbound.allow, 'loopback'],
    },
    ops: { ...config.ops, public: config.env.OPS_PUBLIC ?? true },
  };
}
