// Proves that account ids are built and read back in one way, by a fast-check round trip over every role and awkward owner ids (with ':' in them), examples of the format and of ids no role builds, and the role sets derived from the one list.
import fc from 'fast-check';
import {
  ACCOUNT_ROLES,
  EARNER_ROLES,
  accountId,
  accountPrefix,
  classifyAccount,
  parseAccount,
  type AccountRef,
  type NamedRole,
} from '@tributary/attribution';

const NAMED: readonly NamedRole[] = ACCOUNT_ROLES.filter((role): role is NamedRole => role !== 'other');
const refArbitrary: fc.Arbitrary<AccountRef> = fc.record({
  role: fc.constantFrom(...NAMED),
  ownerId: fc.string({ minLength: 1, maxLength: 20 }),
});

describe('any account reference', () => {
  it('then parsing its account id gives the reference back, and classifying it agrees', () => {
    fc.assert(
      fc.property(refArbitrary, (ref) => {
        const id = accountId(ref.role, ref.ownerId);
        expect(parseAccount(id)).toEqual(ref);
        expect(classifyAccount(id)).toEqual(ref);
        expect(id.startsWith(accountPrefix(ref.role))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('account id format', () => {
  it.each<[NamedRole, string, string]>([
    ['consumer', 'bob', 'consumer:bob'],
    ['contributor', 'dave', 'contributor:dave'],
    ['model-owner', 'alice', 'model-owner:alice'],
    ['datanet-owner', 'carol', 'datanet-owner:carol'],
    ['protocol', 'tributary', 'protocol:tributary'],
    ['clearing', 'payouts-in-flight', 'clearing:payouts-in-flight'],
    ['settlement', 'ledger', 'settlement:ledger'],
    ['contributor', 'did:key:z6Mk', 'contributor:did:key:z6Mk'],
  ])('given role %s and owner %s, then the account id is %s', (role, ownerId, expected) => {
    expect(accountId(role, ownerId)).toBe(expected);
  });

  it.each(['', 'bob', ':bob', 'consumer:', 'treasury:x', 'other:x'])(
    'given %p, then it is not an account id',
    (text) => {
      expect(parseAccount(text)).toBeNull();
    },
  );
});

describe('classifying ids no role builds', () => {
  it.each([
    ['protocol', { role: 'other', ownerId: 'protocol' }],
    ['treasury:x', { role: 'other', ownerId: 'treasury:x' }],
    ['consumer:', { role: 'other', ownerId: 'consumer:' }],
    ['clearing:', { role: 'clearing', ownerId: '' }],
    ['settlement:', { role: 'settlement', ownerId: '' }],
  ])('given %p, then it is kept as %p', (text, expected) => {
    expect(classifyAccount(text)).toEqual(expected);
  });
});

describe('role sets', () => {
  it('earners are the roles decisions credit and payouts pay, in the order of the one list', () => {
    expect(EARNER_ROLES).toEqual(['contributor', 'model-owner', 'datanet-owner', 'protocol']);
  });
});
