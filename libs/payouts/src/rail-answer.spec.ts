// The webhook rail's contract as a table: which answers are definite (paid, refused) and which leave
// the payout's outcome unknown. The rule that matters: nothing but an explicit refusal is a refusal.
import { paymentAnswer, statusAnswer } from './rail-answer';

describe('a payment answer', () => {
  it.each([
    [200, '{"reference":"tx-1"}', { type: 'paid', reference: 'tx-1' }],
    [201, 'ok', { type: 'paid', reference: 'fallback' }],
    [200, '{"reference":"has space"}', { type: 'paid', reference: 'fallback' }],
    [422, '{"status":"refused","reason":"account closed"}', { type: 'refused', reason: 'account closed' }],
    [200, '{"status":"refused"}', { type: 'refused', reason: 'refused by the rail (no reason given)' }],
  ])('HTTP %i %s is definite', (status, body, expected) => {
    expect(paymentAnswer(status, body, 'fallback')).toEqual(expected);
  });

  it.each([
    [500, '{"status":"refused"}'],
    [503, ''],
    [409, '{"error":"duplicate"}'],
    [400, 'bad request'],
    [302, ''],
    [429, '{"status":"refused"}'.replace('refused', 'slow down')],
  ])('HTTP %i %s is unknown: the receiver may have paid', (status, body) => {
    expect(paymentAnswer(status, body, 'fallback').type).toBe('unknown');
  });
});

describe('a status answer', () => {
  it('is paid only with an explicit status and a printable reference', () => {
    expect(statusAnswer(200, '{"status":"paid","reference":"tx-7"}')).toEqual({ type: 'paid', reference: 'tx-7' });
    expect(statusAnswer(200, '{"status":"paid"}').type).toBe('unknown');
    expect(statusAnswer(200, '{}').type).toBe('unknown');
    expect(statusAnswer(404, '').type).toBe('unknown');
  });

  it('is refused on an explicit refusal, with the reason cleaned of control characters', () => {
    expect(statusAnswer(404, '{"status":"refused","reason":"never\\nreceived"}')).toEqual({
      type: 'refused',
      reason: 'never received',
    });
  });
});
