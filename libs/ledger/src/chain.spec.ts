// Proves the hash chain's tamper evidence on a generated chain: an untouched chain verifies, and
// modifying any field, deleting, duplicating or swapping any row is reported at the first row that no
// longer fits (property, fast-check); and that the digest ignores row order but not content.
import fc from 'fast-check';
import { entryHash, GENESIS_HASH, ledgerDigest, verifyChain, type ChainedEntry } from './index';

function chain(length: number) {
  const rows: Array<ChainedEntry & { hash: Buffer }> = [];
  let previous = GENESIS_HASH;
  for (let index = 0; index < length; index += 1) {
    const entry: ChainedEntry = {
      sourceTopic: 'tributary.attributions', sourcePartition: 0, chainSeq: BigInt(index + 1), transactionId: `i${index >> 1}`,
      postingIndex: index % 2, account: index % 2 ? 'protocol:p' : 'consumer:c', asset: 'USDC', amountMinor: index % 2 ? 10n : -10n,
      sourceEventId: `e${index >> 1}`, sourceOffset: BigInt(index >> 1),
    };
    previous = entryHash(previous, entry);
    rows.push({ ...entry, hash: previous });
  }
  return rows;
}

describe('a hash chain', () => {
  it('verifies when untouched', () => {
    expect(verifyChain(chain(20))).toBeNull();
  });

  it('reports the first row that does not fit, whatever the tampering (property)', () => {
    const fields = ['transactionId', 'account', 'asset', 'amountMinor', 'sourceEventId', 'sourceOffset', 'postingIndex', 'hash'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.nat(), fc.constantFrom('modify', 'delete', 'duplicate', 'swap'), fc.constantFrom(...fields), (length, seed, way, field) => {
        const rows = chain(length);
        const at = seed % (length - 1);
        if (way === 'modify') {
          const row = rows[at]! as unknown as Record<string, unknown>;
          const value = row[field];
          row[field] = typeof value === 'bigint' ? value + 1n : typeof value === 'number' ? value + 1 : Buffer.isBuffer(value) ? Buffer.alloc(32, 1) : `${String(value)}x`;
        } else if (way === 'delete') rows.splice(at, 1);
        else if (way === 'duplicate') rows.splice(at, 0, { ...rows[at]! });
        else [rows[at], rows[at + 1]] = [rows[at + 1]!, rows[at]!];
        const mismatch = verifyChain(rows);
        expect(mismatch?.rowNumber).toBe(way === 'duplicate' ? at + 2 : at + 1);
      }),
    );
  });
});

describe('the ledger digest', () => {
  const balances = [
    { account: 'consumer:c', asset: 'USDC', balanceMinor: -10n },
    { account: 'protocol:p', asset: 'USDC', balanceMinor: 10n },
  ];
  const heads = [
    { sourceTopic: 't', sourcePartition: 0, chainSeq: 2n, hash: Buffer.alloc(32, 7) },
    { sourceTopic: 't', sourcePartition: 1, chainSeq: 5n, hash: Buffer.alloc(32, 9) },
  ];

  it('is the same in any order (property) and ignores zero balances', () => {
    const digest = ledgerDigest(balances, heads);
    fc.assert(fc.property(fc.shuffledSubarray(balances, { minLength: 2 }), fc.shuffledSubarray(heads, { minLength: 2 }), (b, h) => expect(ledgerDigest(b, h)).toBe(digest)));
    expect(ledgerDigest([...balances, { account: 'x:y', asset: 'USDC', balanceMinor: 0n }], heads)).toBe(digest);
  });

  it('changes with any balance or head', () => {
    const digest = ledgerDigest(balances, heads);
    expect(ledgerDigest([balances[0]!, { ...balances[1]!, balanceMinor: 11n }], heads)).not.toBe(digest);
    expect(ledgerDigest(balances, [heads[0]!, { ...heads[1]!, chainSeq: 4n }])).not.toBe(digest);
  });
});
