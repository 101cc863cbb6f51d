import * as fc from 'fast-check';
import {
  signWebhook,
  verifyWebhookSignature,
  WebhookVerifierConfigError,
  type WebhookRequestParts,
  type WebhookVerification,
} from './webhook-signature';

const SECRET = 'webhook-secret-of-the-spec-0123456789';
const SENT_AT = 1_760_000_000_000;
const BODY =
  '{"payoutId":"p-1","accountId":"contributor:alice","asset":"USDC","amountMinor":"2500","epoch":1,"attempt":1}';

const at = (nowMs: number) => () => nowMs;
const signed = (body: string | Uint8Array = BODY, timestampMs = SENT_AT) => ({
  timestamp: String(timestampMs),
  signature: signWebhook(SECRET, timestampMs, body),
  body,
});
const reasonOf = (result: WebhookVerification) => (result.ok ? 'ok' : result.reason);

describe('the webhook signature', () => {
  it('signs the timestamp with the body as sha256=<hex>', () => {
    expect(signWebhook(SECRET, SENT_AT, BODY)).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signWebhook(SECRET, SENT_AT + 1, BODY)).not.toBe(signWebhook(SECRET, SENT_AT, BODY));
    // A string body and its UTF-8 bytes sign the same, so a receiver may verify the raw bytes it read.
    expect(signWebhook(SECRET, SENT_AT, Buffer.from('{"n":"é"}'))).toBe(signWebhook(SECRET, SENT_AT, '{"n":"é"}'));
  });

  it('accepts a valid request, at once and up to the tolerance either way', () => {
    expect(verifyWebhookSignature(signed(), SECRET, { now: at(SENT_AT) })).toEqual({
      ok: true,
      timestampMs: SENT_AT,
      ageMs: 0,
    });
    expect(verifyWebhookSignature(signed(), SECRET, { now: at(SENT_AT + 300_000) })).toMatchObject({
      ok: true,
      ageMs: 300_000,
    });
    expect(verifyWebhookSignature(signed(), SECRET, { now: at(SENT_AT - 300_000) })).toMatchObject({
      ok: true,
      ageMs: -300_000,
    });
    expect(verifyWebhookSignature({ ...signed(), body: Buffer.from(BODY) }, SECRET, { now: at(SENT_AT) }).ok).toBe(
      true,
    );
  });

  it('rejects the same request replayed 5 min + 1 s later as too old, naming its age', () => {
    const result = verifyWebhookSignature(signed(), SECRET, { now: at(SENT_AT + 301_000) });
    expect(result).toMatchObject({ ok: false, reason: 'timestamp-too-old', ageMs: 301_000 });
    expect(!result.ok && result.message).toContain('301000 ms old');
  });

  it('rejects a timestamp further in the future than the tolerance as too new', () => {
    const result = verifyWebhookSignature(signed(), SECRET, { now: at(SENT_AT - 301_000) });
    expect(result).toMatchObject({ ok: false, reason: 'timestamp-too-new', ageMs: -301_000 });
    expect(!result.ok && result.message).toContain('301000 ms in the future');
  });

  it('applies a custom tolerance', () => {
    expect(
      reasonOf(verifyWebhookSignature(signed(), SECRET, { toleranceSeconds: 60, now: at(SENT_AT + 61_000) })),
    ).toBe('timestamp-too-old');
    expect(
      reasonOf(verifyWebhookSignature(signed(), SECRET, { toleranceSeconds: 600, now: at(SENT_AT + 400_000) })),
    ).toBe('ok');
  });

  it('rejects a tampered body, a tampered timestamp and another secret as a bad signature', () => {
    const now = at(SENT_AT);
    expect(reasonOf(verifyWebhookSignature({ ...signed(), body: BODY.replace('2500', '9500') }, SECRET, { now }))).toBe(
      'bad-signature',
    );
    // Moving the timestamp (to bring a stale request back into the window) breaks the signature.
    expect(reasonOf(verifyWebhookSignature({ ...signed(), timestamp: String(SENT_AT + 1) }, SECRET, { now }))).toBe(
      'bad-signature',
    );
    expect(reasonOf(verifyWebhookSignature(signed(BODY, SENT_AT - 400_000), SECRET, { now }))).toBe(
      'timestamp-too-old',
    );
    expect(
      reasonOf(
        verifyWebhookSignature({ ...signed(BODY, SENT_AT - 400_000), timestamp: String(SENT_AT) }, SECRET, { now }),
      ),
    ).toBe('bad-signature');
    expect(reasonOf(verifyWebhookSignature(signed(), 'another-secret-0123456789', { now }))).toBe('bad-signature');
  });

  it('rejects missing and malformed headers, naming which', () => {
    const now = at(SENT_AT);
    const valid = signed();
    const cases: Array<[Partial<WebhookRequestParts>, string]> = [
      [{ timestamp: undefined }, 'missing-timestamp'],
      [{ timestamp: '' }, 'malformed-timestamp'],
      [{ timestamp: '1.76e12' }, 'malformed-timestamp'],
      [{ timestamp: '-1' }, 'malformed-timestamp'],
      [{ timestamp: ` ${SENT_AT}` }, 'malformed-timestamp'],
      [{ timestamp: [String(SENT_AT), String(SENT_AT)] }, 'malformed-timestamp'],
      [{ signature: undefined }, 'missing-signature'],
      [{ signature: valid.signature.slice('sha256='.length) }, 'malformed-signature'],
      [{ signature: `sha1=${valid.signature.slice('sha256='.length)}` }, 'malformed-signature'],
      [{ signature: `${valid.signature}z` }, 'malformed-signature'],
      [{ signature: `${valid.signature}0` }, 'malformed-signature'],
      [{ signature: [valid.signature, valid.signature] }, 'malformed-signature'],
    ];
    for (const [change, reason] of cases) {
      expect(reasonOf(verifyWebhookSignature({ ...valid, ...change }, SECRET, { now }))).toBe(reason);
    }
    expect(
      reasonOf(
        verifyWebhookSignature({ ...valid, timestamp: [valid.timestamp], signature: [valid.signature] }, SECRET, {
          now,
        }),
      ),
    ).toBe('ok');
  });

  it('does not throw on signatures of other lengths: they are bad signatures', () => {
    const now = at(SENT_AT);
    const hex = signed().signature.slice('sha256='.length);
    for (const other of ['', hex.slice(0, 62), hex.slice(0, 2), `${hex}00`, `${hex}${hex}`]) {
      expect(() =>
        verifyWebhookSignature({ ...signed(), signature: `sha256=${other}` }, SECRET, { now }),
      ).not.toThrow();
      expect(reasonOf(verifyWebhookSignature({ ...signed(), signature: `sha256=${other}` }, SECRET, { now }))).toBe(
        'bad-signature',
      );
    }
    // Upper-case hex is the same signature.
    expect(
      reasonOf(verifyWebhookSignature({ ...signed(), signature: `sha256=${hex.toUpperCase()}` }, SECRET, { now })),
    ).toBe('ok');
  });

  it('fails for any single-byte change of the body (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (body, position, delta) => {
          const request = signed(body);
          const changed = Uint8Array.from(body);
          const index = position % changed.length;
          changed[index] = (changed[index]! + delta) % 256;
          expect(verifyWebhookSignature(request, SECRET, { now: at(SENT_AT) }).ok).toBe(true);
          expect(reasonOf(verifyWebhookSignature({ ...request, body: changed }, SECRET, { now: at(SENT_AT) }))).toBe(
            'bad-signature',
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('validates its options and secret, naming the option', () => {
    for (const toleranceSeconds of [0, -1, 3_601, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => verifyWebhookSignature(signed(), SECRET, { toleranceSeconds })).toThrow(WebhookVerifierConfigError);
      expect(() => verifyWebhookSignature(signed(), SECRET, { toleranceSeconds })).toThrow(
        /^toleranceSeconds: must be an integer from 1 to 3600/,
      );
    }
    expect(() => verifyWebhookSignature(signed(), SECRET, { toleranceSeconds: 1, now: at(SENT_AT) })).not.toThrow();
    expect(() => verifyWebhookSignature(signed(), SECRET, { toleranceSeconds: 3_600, now: at(SENT_AT) })).not.toThrow();
    expect(() => verifyWebhookSignature(signed(), SECRET, { now: 5 as never })).toThrow(/^now: /);
    expect(() => verifyWebhookSignature(signed(), '', { now: at(SENT_AT) })).toThrow(/^secret: /);
  });
});
