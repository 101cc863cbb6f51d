// Proves that every rejection reason has one wording, used for the line a statement shows, and that a code from a newer policy version is shown as is, by examples over the whole table.
import { REJECTION_REASON_TEXT, rejectionLine, rejectionReasonText } from '@tributary/attribution';

describe('the wording of rejection reasons', () => {
  it.each(Object.entries(REJECTION_REASON_TEXT))(
    'given reason %s, then its line carries the code and its words',
    (reason, text) => {
      expect(text.length).toBeGreaterThan(0);
      expect(rejectionLine('c-1', reason)).toBe(`Contribution c-1 did not count (${reason}): ${text}.`);
    },
  );

  it('given a code this build does not know, then the code stands for its words', () => {
    expect(rejectionReasonText('DATANET_NOT_IN_MODEL')).toBe('DATANET_NOT_IN_MODEL');
    expect(rejectionReasonText('toString')).toBe('toString');
  });
});
