/**
 * POST /v1/agent-events: the push accelerator. Unpod sends no webhooks ("a poll + process model"); the worker's
 * watcher finds every call's end by listing. An AgentRunner's `call_end` hook may post here as well
 * (examples/agent_push.py), so the task reads its call at once instead of at the watcher's next list.
 *
 * Nothing depends on it: the body is only a hint. It is verified (HMAC over the raw bytes, timestamp
 * tolerance), must name a task in the task-id form in `data.campaign_task_id`, and is sent to that task as
 * `callEndHint {callId}`; the task acts only on its current call, and then reads the call from Unpod itself —
 * the body's claims are never taken as the outcome. Anything else answers 404 and signals nothing.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { callEndHintSignal } from '../../workflows/definitions';
import { parseCallTaskWorkflowId } from '../../workflows/ids';
import { AGENT_PUSH_PATH, DATA_TASK_ID, PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER } from '../unpod/paths';
import { agentPushSchema } from '../unpod/schemas';
import { verifyWebhookSignature } from '../unpod/webhook-signature';
import { BadRequestError, NotFoundError, ServiceUnavailableError, UnauthorizedError } from './errors';
import { issuesText, issuesOf } from '../errors';

export interface AgentPushRoutesOptions {
  temporal: Client;
  /** AGENT_PUSH_SECRET: what the agent signs with. */
  secret: string;
  /** Accepted clock skew of the signed timestamp, seconds. Default 300. */
  toleranceS?: number;
  /** Current time in ms (tests). */
  now?: () => number;
  /** Deadline of the signal call, ms. Default 5000. */
  signalTimeoutMs?: number;
}

export type AgentPushReply = { routed: true; workflowId: string };

export const agentPushRoutes: FastifyPluginAsync<AgentPushRoutesOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now;
  const signalTimeoutMs = opts.signalTimeoutMs ?? 5000;

  // Encapsulated: only this plugin's routes receive the body as raw bytes (the HMAC is over them).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, body),
  );

  app.post(AGENT_PUSH_PATH, async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verified = verifyWebhookSignature({
      secret: opts.secret,
      timestampHeader: request.headers[PUSH_TIMESTAMP_HEADER],
      signatureHeader: request.headers[PUSH_SIGNATURE_HEADER],
      rawBody: raw,
      toleranceS: opts.toleranceS ?? 300,
      nowMs: now(),
    });
    if (!verified.ok) {
      request.log.warn({ reason: verified.reason }, 'agent push rejected: bad signature');
      throw new UnauthorizedError('invalid_signature', `signature rejected: ${verified.reason}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadRequestError('invalid_json', 'body is not valid JSON');
    }
    const parsed = agentPushSchema.safeParse(json);
    if (!parsed.success) {
      const issues = issuesOf(parsed.error);
      throw new BadRequestError('invalid_agent_event', `invalid agent event: ${issuesText(issues)}`, {
        issues,
      });
    }
    const event = parsed.data;
    const taskId = event.data?.[DATA_TASK_ID];
    // Only ids of the task-id form reach Temporal: a limiter's or a campaign's id is not a task.
    if (typeof taskId !== 'string' || !parseCallTaskWorkflowId(taskId)) {
      throw new NotFoundError('task_not_found', `data.${DATA_TASK_ID} does not name a task`);
    }
    try {
      await opts.temporal.withDeadline(Date.now() + signalTimeoutMs, () =>
        opts.temporal.workflow.getHandle(taskId).signal(callEndHintSignal, { callId: event.call_id }),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new NotFoundError('task_not_found', 'no such open task');
      throw new ServiceUnavailableError('temporal_unavailable', 'could not reach Temporal; retry later', {
        cause: err,
        retryAfterS: 5,
      });
    }
    request.log.info({ workflowId: taskId, callId: event.call_id }, 'agent push routed');
    return reply.status(202).send({ routed: true, workflowId: taskId } satisfies AgentPushReply);
  });
};
