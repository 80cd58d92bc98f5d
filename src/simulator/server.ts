/** startSimulator: wires the engine, pipes, faults, the AgentRunner push and the routes into a fastify server. */
import Fastify, { type FastifyError } from 'fastify';
import { DEFAULT_ACCOUNT } from './accounts';
import { AgentPusher } from './agent-push';
import { requestAccount } from './auth';
import { statusWord } from './call-view';
import { FaultInjector } from './faults';
import { LedgerBook } from './ledger';
import { rateLimitHeaders } from './limits';
import { PipeBook } from './pipes';
import { rngStream } from './prng';
import { registerAdminRoutes } from './routes-admin';
import { registerCallRoutes } from './routes-calls';
import { registerResourceRoutes } from './routes-resources';
import { CallEngine } from './state-machine';
import { Timers } from './timers';
import type { RecordedRequest, RunningSimulator, SimulatorOptions } from './types';

export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new Error(`simulator speed must be > 0, got ${speed}`);
  const seed = opts.seed ?? Date.now() >>> 0;
  const vocabulary = opts.statusVocabulary ?? 'new';
  const app = Fastify({
    logger: opts.logger ? { level: 'info' } : false,
    forceCloseConnections: true,
  });
  const log = (msg: string) => app.log.warn(msg);
  const timers = new Timers((err) => app.log.error({ err }, 'simulator timer failed'));
  const ledger = new LedgerBook((sim) => statusWord(sim, vocabulary));
  const push = new AgentPusher(opts.agentPush, rngStream(seed, 1), timers, ledger, log);
  const faults = new FaultInjector(opts.faults, rngStream(seed, 2), rngStream(seed, 3), ledger);
  const pipes = new PipeBook(opts.pipes);
  const engine = new CallEngine({
    accounts: opts.accounts && opts.accounts.length > 0 ? opts.accounts : [DEFAULT_ACCOUNT],
    accountFailures: opts.accountFailures ?? {},
    speed,
    rateWindowMs: opts.rateWindowMs ?? 60_000,
    dayMs: opts.dayMs,
    outcomes: opts.outcomes ?? 'scripted',
    scripts: opts.scripts ?? {},
    vocabulary,
    idempotency: opts.idempotency ?? false,
    rng: rngStream(seed, 0),
    timers,
    ledger,
    push,
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new Error('request body is not valid JSON') as FastifyError;
      err.statusCode = 400;
      done(err, undefined);
    }
  });
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) app.log.error({ err }, 'simulator error');
    void reply.code(status).send({ detail: err.message });
  });
  app.setNotFoundHandler(
    (req, reply) =>
      void reply.code(404).send({ detail: `no route for ${req.method} ${req.url.split('?')[0]}` }),
  );
  app.addHook('onRequest', faults.hook);
  // Every 2xx (and 429) of an authenticated request carries the account's X-RateLimit headers.
  app.addHook('onSend', async (req, reply, payload) => {
    const acct = requestAccount.get(req);
    const code = reply.statusCode;
    if (acct && ((code >= 200 && code < 300) || code === 429))
      void reply.headers(rateLimitHeaders(acct.rate, acct.limits.callsPerMinute));
    return payload;
  });

  const recorded: RecordedRequest[] = [];
  if (opts.recordRequests)
    app.addHook('preHandler', async (req) => {
      const [path = '', qs = ''] = req.url.split('?');
      if (path.startsWith('/_sim')) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
      recorded.push({
        method: req.method,
        path,
        query: Object.fromEntries(new URLSearchParams(qs)),
        headers,
        body: req.body ?? null,
      });
    });

  const hangupAnswer = opts.hangupAnswer ?? 'call';
  const control: Omit<RunningSimulator, 'url' | 'close'> = {
    ledger: () => ledger.snapshot(),
    requests: () => structuredClone(recorded),
    setFaults: (f) => faults.set(f),
    setLimits: (accountId, l) => engine.setLimits(accountId, l),
    setAccountFailure: (accountId, kind) => engine.setFailure(accountId, kind),
    setAgentPush: (p) => push.set(p),
    setPipe: (p) => void pipes.set(p),
    script: (num, steps) => engine.script(num, steps),
    reset: () => {
      engine.reset();
      recorded.length = 0;
    },
  };
  registerCallRoutes(app, { engine, ledger, pipes, faults, hangupAnswer: () => hangupAnswer });
  registerResourceRoutes(app, engine, ledger, pipes);
  registerAdminRoutes(app, control, (id) => engine.accounts.has(id));

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    ...control,
    url: `http://${urlHost}:${port}`,
    close: () => {
      closing ??= (async () => {
        timers.close();
        faults.close();
        await push.close();
        await app.close();
      })();
      return closing;
    },
  };
}
