import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a webhook rail request; the receiver verifies the signature and deduplicates on the key. */
export const WEBHOOK_HEADERS = {
  signature: 'x-tributary-signature',
  timestamp: 'x-tributary-timestamp',
  idempotencyKey: 'idempotency-key',
} as const;

/**
 * HMAC-SHA256 over `<timestampMs>.<body>`, hex, prefixed `sha256=`. Signing the timestamp with the
 * body lets a receiver refuse replays older than its tolerance.
 */
export function signWebhook(secret: string, timestampMs: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex')}`;
}

/** A receiver's check, in constant time; also what the tests use to prove the header is right. */
export function verifyWebhookSignature(secret: string, timestampMs: number, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestampMs, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
