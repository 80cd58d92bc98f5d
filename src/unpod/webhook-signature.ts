/**
 * Our signing scheme, for the agent push we receive and the callbacks we send (Unpod itself signs nothing):
 * `x-campaign-timestamp: <unix seconds>` and `x-campaign-signature: v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * Several `v1=` values separated by commas or spaces are accepted (secret rotation).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

function hmacHex(secret: string, timestamp: string | number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** `v1=<hex>` over `${timestamp}.${rawBody}`. */
export function signWebhook(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return `v1=${hmacHex(secret, timestamp, rawBody)}`;
}

export type WebhookVerifyResult = { ok: true } | { ok: false; reason: string };

type HeaderValue = string | string[] | undefined | null;

function single(h: HeaderValue): string | undefined {
  if (Array.isArray(h)) return h[0];
  return h ?? undefined;
}

export interface VerifyWebhookSignatureArgs {
  secret: string;
  timestampHeader: HeaderValue;
  signatureHeader: HeaderValue;
  rawBody: string | Buffer;
  /** Maximum clock skew accepted, in seconds. Default 300. */
  toleranceS?: number;
  /** Current time in ms (tests). Default Date.now(). */
  nowMs?: number;
}

export function verifyWebhookSignature(args: VerifyWebhookSignatureArgs): WebhookVerifyResult {
  const ts = single(args.timestampHeader)?.trim();
  const sig = single(args.signatureHeader)?.trim();
  if (!ts) return { ok: false, reason: 'missing timestamp header' };
  if (!sig) return { ok: false, reason: 'missing signature header' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'malformed timestamp header' };
  const tolerance = args.toleranceS ?? 300;
  const nowS = Math.floor((args.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowS - Number(ts)) > tolerance) return { ok: false, reason: 'timestamp outside tolerance' };
  const expected = Buffer.from(hmacHex(args.secret, ts, args.rawBody), 'hex');
  const candidates = sig
    .split(/[\s,]+/)
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3));
  if (candidates.length === 0) return { ok: false, reason: 'no v1 signature' };
  for (const c of candidates) {
    if (!/^[0-9a-f]{64}$/i.test(c)) continue;
    const got = Buffer.from(c, 'hex');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return { ok: true };
  }
  return { ok: false, reason: 'signature mismatch' };
}
