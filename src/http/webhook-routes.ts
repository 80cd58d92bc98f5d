/**
 * POST /webhooks/unpod: Unpod's call webhooks in, verified and routed to the task workflow as a signal.
 *
 * 1. The HMAC is verified over the RAW bytes (this plugin's own content-type parser keeps them as a Buffer),
 *    with a timestamp tolerance so a replayed delivery is refused: 401, nothing is signalled.
 * 2. The body is parsed as JSON (400 if it is not) and with `webhookEventSchema` (400 naming the fields).
 * 3. `call.metadata.campaign_task_workflow_id` names the task workflow; a terminal call (completed|failed) is
 *    sent as `callEnded`, any other status as `callStatus`, with `toCallSnapshot(call)` as payload.
 *
 * Answers: 202 `{routed:true}`; 202 `{routed:false, reason}` when there is no routing key or the workflow is
 * closed or unknown (a late webhook is not the sender's error); 503 when Temporal cannot be reached, so the
 * sender retries. Duplicates are routed again: the workflow ignores them, and the server keeps no memory of
 * event ids (several servers may run).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { toCallSnapshot } from '../../activities';
import { callEndedSignal, callStatusSignal } from '../../workflows/definitions';
import {
  METADATA_TASK_WORKFLOW_ID,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../unpod/paths';
import { webhookEventSchema, type WebhookEvent } from '../unpod/schemas';
import { verifyWebhookSignature } from '../unpod/webhook-signature';
import { BadRequestError, ServiceUnavailableError, UnauthorizedError } from './errors';

export interface WebhookRoutesOptions {
  temporal: Client;
  webhookSecret: string;
  /** Accepted clock skew of the signed timestamp, seconds. Default 300. */
  toleranceS?: number;
  /** Current time in ms (tests). */
  now?: () => number;
  /** Deadline of the signal call, ms. Default 5000. */
  signalTimeoutMs?: number;
  /** Largest accepted body, bytes. Default 1 MiB. */
  bodyLimit?: number;
}

export type WebhookReply =
  | { routed: true; workflowId: string; signal: 'callEnded' | 'callStatus' }
  | { routed: false; reason: string };

const TERMINAL = new Set(['completed', 'failed']);

function routingKey(event: WebhookEvent): string | undefined {
  const v = event.call.metadata[METADATA_TASK_WORKFLOW_ID];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now;
  const signalTimeoutMs = opts.signalTimeoutMs ?? 5000;

  // Encapsulated: only this plugin's routes receive the body as raw bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: opts.bodyLimit ?? 1024 * 1024 },
    (_req, body, done) => {
      done(null, body);
    },
  );

  app.post('/webhooks/unpod', async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verified = verifyWebhookSignature({
      secret: opts.webhookSecret,
      timestampHeader: request.headers[WEBHOOK_TIMESTAMP_HEADER],
      signatureHeader: request.headers[WEBHOOK_SIGNATURE_HEADER],
      rawBody: raw,
      toleranceS: opts.toleranceS ?? 300,
      nowMs: now(),
    });
    if (!verified.ok) {
      request.log.warn({ reason: verified.reason }, 'webhook rejected: bad signature');
      throw new UnauthorizedError('invalid_signature', `webhook signature rejected: ${verified.reason}`);
    }

    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadRequestError('invalid_json', 'webhook body is not valid JSON');
    }
    const parsed = webhookEventSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        path: i.path.map(String).join('.'),
        message: i.message,
      }));
      throw new BadRequestError(
        'invalid_webhook_event',
        `invalid webhook event: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
        { issues },
      );
    }
    const event = parsed.data;
    const log = request.log.child({
      eventId: event.event_id,
      eventType: event.type,
      callId: event.call.call_id,
    });

    const workflowId = routingKey(event);
    if (!workflowId) {
      log.info('webhook not routed: no task workflow id in call metadata');
      return reply.status(202).send({
        routed: false,
        reason: `call.metadata.${METADATA_TASK_WORKFLOW_ID} is missing`,
      } satisfies WebhookReply);
    }

    const terminal = TERMINAL.has(event.call.status);
    const signal = terminal ? callEndedSignal : callStatusSignal;
    try {
      await opts.temporal.withDeadline(Date.now() + signalTimeoutMs, () =>
        opts.temporal.workflow.getHandle(workflowId).signal(signal, toCallSnapshot(event.call)),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        log.info({ workflowId }, 'webhook not routed: task workflow closed or unknown');
        return reply.status(202).send({
          routed: false,
          reason: `task workflow ${workflowId} is closed or unknown`,
        } satisfies WebhookReply);
      }
      throw new ServiceUnavailableError(
        'temporal_unavailable',
        'could not deliver the event to Temporal; retry later',
        {
          cause: err,
          retryAfterS: 5,
        },
      );
    }
    log.info({ workflowId, signal: signal.name }, 'webhook routed');
    return reply.status(202).send({
      routed: true,
      workflowId,
      signal: terminal ? 'callEnded' : 'callStatus',
    } satisfies WebhookReply);
  });
};
