// An operator's resolution is outside input: every field is checked, and the error names it.
import { parseResolution } from './resolution';

const NOW = Date.parse('2026-12-05T12:00:00Z');

describe('an operator resolution', () => {
  it('records a settlement with the rail reference, who, when and the evidence', () => {
    expect(
      parseResolution(
        {
          outcome: 'settled',
          reference: 'bank-123',
          by: 'ops:alice',
          evidence: 'statement line 42',
          at: '2026-12-05T11:00:00Z',
        },
        NOW,
      ),
    ).toEqual({
      outcome: 'settled',
      detail: 'bank-123',
      by: 'ops:alice',
      at: '2026-12-05T11:00:00.000Z',
      evidence: 'statement line 42',
    });
  });

  it('records a refusal with the reason, at now when no time is given', () => {
    expect(
      parseResolution({ outcome: 'refused', reason: 'never received', by: 'ops:bob', evidence: 'ticket 7' }, NOW),
    ).toMatchObject({ outcome: 'refused', detail: 'never received', at: '2026-12-05T12:00:00.000Z' });
  });

  it.each([
    [null, 'body: must be a JSON object'],
    [{ outcome: 'paid' }, 'outcome: must be "settled" or "refused"'],
    [{ outcome: 'settled', by: 'a', evidence: 'e' }, 'reference: is required for "settled"'],
    [{ outcome: 'settled', reference: 'has space', by: 'a', evidence: 'e' }, 'reference:'],
    [{ outcome: 'settled', reference: 'r', reason: 'x', by: 'a', evidence: 'e' }, 'reason: only for outcome "refused"'],
    [{ outcome: 'refused', reason: '  ', by: 'a', evidence: 'e' }, 'reason: is required for "refused"'],
    [{ outcome: 'refused', reason: 'r', evidence: 'e' }, 'by: is required'],
    [{ outcome: 'refused', reason: 'r', by: 'a' }, 'evidence: must be 1 to 4096 characters'],
    [{ outcome: 'refused', reason: 'r', by: 'a', evidence: 'x'.repeat(4_097) }, 'evidence:'],
    [{ outcome: 'refused', reason: 'r', by: 'a', evidence: 'e', at: 'yesterday' }, 'at: must be an ISO 8601'],
    [
      { outcome: 'refused', reason: 'r', by: 'a', evidence: 'e', at: '2027-01-01T00:00:00Z' },
      'at: must not be in the future',
    ],
    [{ outcome: 'refused', reason: 'r', by: 'a', evidence: 'e', amount: 1 }, 'amount: is not a field of a resolution'],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parseResolution(input, NOW)).toThrow(message);
  });
});
