// Proves that account ids are built in one way and can be read back, by a fast-check round trip over every kind and awkward ids (with ':' in them), plus examples of the format.
import fc from 'fast-check';
import { accountId, parseAccountId, type AccountRef } from '@tributary/attribution';

const idArbitrary = fc.string({ minLength: 1, maxLength: 20 });
const refArbitrary: fc.Arbitrary<AccountRef> = fc.oneof(
  idArbitrary.map((consumerId) => ({ kind: 'consumer' as const, consumerId })),
  idArbitrary.map((contributorId) => ({ kind: 'contributor' as const, contributorId })),
  idArbitrary.map((ownerId) => ({ kind: 'model-owner' as const, ownerId })),
  idArbitrary.map((ownerId) => ({ kind: 'datanet-owner' as const, ownerId })),
  idArbitrary.map((protocolId) => ({ kind: 'protocol' as const, protocolId })),
);

describe('any account reference', () => {
  it('then parsing its account id gives the reference back', () => {
    fc.assert(fc.property(refArbitrary, (ref) => expect(parseAccountId(accountId(ref))).toEqual(ref)), { numRuns: 300 });
  });
});

describe('account id format', () => {
  it.each<[AccountRef, string]>([
    [{ kind: 'consumer', consumerId: 'bob' }, 'consumer:bob'],
    [{ kind: 'contributor', contributorId: 'dave' }, 'contributor:dave'],
    [{ kind: 'model-owner', ownerId: 'alice' }, 'model-owner:alice'],
    [{ kind: 'datanet-owner', ownerId: 'carol' }, 'datanet-owner:carol'],
    [{ kind: 'protocol', protocolId: 'tributary' }, 'protocol:tributary'],
    [{ kind: 'contributor', contributorId: 'did:key:z6Mk' }, 'contributor:did:key:z6Mk'],
  ])('given %p, then the account id is %s', (ref, expected) => {
    expect(accountId(ref)).toBe(expected);
  });

  it.each(['', 'bob', ':bob', 'consumer:', 'treasury:x'])('given %p, then it is not an account id', (text) => {
    expect(parseAccountId(text)).toBeNull();
  });
});
