// Proves how an attribution decision becomes a ledger transaction: the consumer is debited the fee, each
// credit is posted as it is, and a decision whose credits do not sum to its fee is refused.
import { transactionOfDecision, UnbalancedTransactionError } from './index';

const decision = {
  eventId: 'attributed:inference-1',
  inferenceId: 'inference-1',
  consumerId: 'flo',
  asset: 'USDC',
  feeMinor: 1_000n,
  credits: [
    { accountId: 'protocol', asset: 'USDC', amountMinor: 100n },
    { accountId: 'model-owner:dee', asset: 'USDC', amountMinor: 900n },
  ],
};

describe('a decision whose credits sum to its fee', () => {
  it('becomes one transaction: the consumer debit first, then the credits', () => {
    expect(transactionOfDecision(decision)).toEqual({
      transactionId: 'inference-1',
      sourceEventId: 'attributed:inference-1',
      postings: [
        { account: 'consumer:flo', asset: 'USDC', amountMinor: -1_000n },
        { account: 'protocol', asset: 'USDC', amountMinor: 100n },
        { account: 'model-owner:dee', asset: 'USDC', amountMinor: 900n },
      ],
    });
  });
});

describe('a decision whose credits do not sum to its fee', () => {
  it('is refused', () => {
    expect(() => transactionOfDecision({ ...decision, feeMinor: 999n })).toThrow(UnbalancedTransactionError);
  });

  it('is refused when a credit is in another asset', () => {
    const credits = [decision.credits[0]!, { ...decision.credits[1]!, asset: 'EURC' }];
    expect(() => transactionOfDecision({ ...decision, credits })).toThrow('postings in USDC sum to -900');
  });
});
