// Proves that lineage maps each contributor credit back to the contributions that earned it: only
// counted (ACCEPTED, not rejected) contributions of that contributor, weighted as the decision's policy
// version weighs them (an unknown version is refused), and (property, fast-check) the parts always sum
// exactly to the credit.
import fc from 'fast-check';
import { contributionCredits, UnknownPolicyVersionError } from './index';

const seen = (
  contributionId: string,
  contributorId: string,
  scorePpm: bigint,
  datanetId = 'd1',
  status = 'ACCEPTED',
) => ({ contributionId, status, datanetId, contributorId, scorePpm });

describe('a decision crediting a contributor with two counted contributions', () => {
  it('splits the credit by score × (10000 − curator share) and skips rejected and unaccepted ones', () => {
    const credits = contributionCredits({
      policyVersion: 1,
      postings: [
        { accountId: 'contributor:ana', amountMinor: 100n },
        { accountId: 'model-owner:dee', amountMinor: 50n },
      ],
      rejected: [{ contributionId: 'c3' }],
      contributionsSeen: [
        seen('c1', 'ana', 300n),
        seen('c2', 'ana', 100n, 'd2'),
        seen('c3', 'ana', 900n),
        seen('c4', 'ana', 900n, 'd1', 'PENDING'),
      ],
      datanetsSeen: [
        { datanetId: 'd1', curatorShareBps: 0 },
        { datanetId: 'd2', curatorShareBps: 5_000 },
      ],
    });
    // Weights: c1 300 × 10000, c2 100 × 5000, so c1 gets 6/7 of 100.
    expect(credits).toEqual([
      { account: 'contributor:ana', contributionId: 'c1', datanetId: 'd1', scorePpm: 300n, amountMinor: 86n },
      { account: 'contributor:ana', contributionId: 'c2', datanetId: 'd2', scorePpm: 100n, amountMinor: 14n },
    ]);
  });
});

describe('any contributor credit (property)', () => {
  it('is split into parts that sum to it exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 1n, max: 1_000_000n }), { minLength: 1, maxLength: 20 }),
        (creditMinor, scores) => {
          const credits = contributionCredits({
            policyVersion: 2,
            postings: [{ accountId: 'contributor:ana', amountMinor: creditMinor }],
            rejected: [],
            contributionsSeen: scores.map((score, index) => seen(`c${index}`, 'ana', score)),
            datanetsSeen: [{ datanetId: 'd1', curatorShareBps: 1_000 }],
          });
          expect(credits.reduce((sum, credit) => sum + credit.amountMinor, 0n)).toBe(creditMinor);
        },
      ),
    );
  });
});

describe('a credit with a single counted contribution behind it', () => {
  const decisionWith = (scorePpm: bigint, curatorShareBps: number, policyVersion = 1) => ({
    policyVersion,
    postings: [
      { accountId: 'contributor:ana', amountMinor: 101n },
      { accountId: 'contributor:bob', amountMinor: 7n },
    ],
    rejected: [],
    contributionsSeen: [seen('c1', 'ana', scorePpm), seen('c2', 'bob', 0n, 'd1', 'REJECTED')],
    datanetsSeen: [{ datanetId: 'd1', curatorShareBps }],
  });

  it('gives that contribution the whole credit, and nothing when its weight is zero or nobody is behind', () => {
    expect(contributionCredits(decisionWith(5n, 2_500))).toEqual([
      { account: 'contributor:ana', contributionId: 'c1', datanetId: 'd1', scorePpm: 5n, amountMinor: 101n },
    ]);
    expect(contributionCredits(decisionWith(0n, 0))).toEqual([]);
    expect(contributionCredits(decisionWith(5n, 10_000))).toEqual([]);
  });
});

describe('a decision made by a policy version the ledger does not know', () => {
  it("is refused rather than traced with another version's weights", () => {
    const decision = {
      policyVersion: 3,
      postings: [{ accountId: 'contributor:ana', amountMinor: 1n }],
      rejected: [],
      contributionsSeen: [seen('c1', 'ana', 5n)],
      datanetsSeen: [],
    };
    expect(() => contributionCredits(decision)).toThrow(UnknownPolicyVersionError);
  });
});
