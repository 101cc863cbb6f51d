// Proves the hash chain's tamper evidence on a generated chain: an untouched chain verifies, and
// modifying any field, deleting, duplicating or swapping any row is reported at the first row that no
// longer fits (property, fast-check); and that the digest ignores row order but not content.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EntryChain, entryHash, GENESIS_HASH, ledgerDigest, verifyChain, type ChainedEntry } from './index';

/** The chain's definition, written the obvious way: SHA-256(previous ‖ JSON.stringify of the content as strings). */
function referenceHash(previousHash: Buffer, entry: ChainedEntry): Buffer {
  const content = JSON.stringify([
    entry.sourceTopic,
    String(entry.sourcePartition),
    entry.chainSeq.toString(),
    entry.transactionId,
    String(entry.postingIndex),
    entry.account,
    entry.asset,
    entry.amountMinor.toString(),
    entry.sourceEventId,
    entry.sourceOffset.toString(),
  ]);
  return createHash('sha256').update(previousHash).update(content).digest();
}

function chain(length: number) {
  const rows: Array<ChainedEntry & { hash: Buffer }> = [];
  let previous = GENESIS_HASH;
  for (let index = 0; index < length; index += 1) {
    const entry: ChainedEntry = {
      sourceTopic: 'tributary.attributions',
      sourcePartition: 0,
      chainSeq: BigInt(index + 1),
      transactionId: `i${index >> 1}`,
      postingIndex: index % 2,
      account: index % 2 ? 'protocol:p' : 'consumer:c',
      asset: 'USDC',
      amountMinor: index % 2 ? 10n : -10n,
      sourceEventId: `e${index >> 1}`,
      sourceOffset: BigInt(index >> 1),
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
    const fields = [
      'transactionId',
      'account',
      'asset',
      'amountMinor',
      'sourceEventId',
      'sourceOffset',
      'postingIndex',
      'hash',
    ] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }),
        fc.nat(),
        fc.constantFrom('modify', 'delete', 'duplicate', 'swap'),
        fc.constantFrom(...fields),
        (length, seed, way, field) => {
          const rows = chain(length);
          const at = seed % (length - 1);
          if (way === 'modify') {
            const row = rows[at]! as unknown as Record<string, unknown>;
            const value = row[field];
            row[field] =
              typeof value === 'bigint'
                ? value + 1n
                : typeof value === 'number'
                  ? value + 1
                  : Buffer.isBuffer(value)
                    ? Buffer.alloc(32, 1)
                    : `${String(value)}x`;
          } else if (way === 'delete') rows.splice(at, 1);
          else if (way === 'duplicate') rows.splice(at, 0, { ...rows[at]! });
          else [rows[at], rows[at + 1]] = [rows[at + 1]!, rows[at]!];
          const mismatch = verifyChain(rows);
          expect(mismatch?.rowNumber).toBe(way === 'duplicate' ? at + 2 : at + 1);
        },
      ),
    );
  });
});

describe('entry hashing', () => {
  // Any UTF-16 content: quotes, backslashes, controls, non-ASCII, and unpaired surrogates, which JSON escapes.
  const plain = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ':', '-', '.', ' ', '~'), maxLength: 12 });
  const text = fc.oneof(
    plain,
    fc.string({
      unit: fc.oneof(
        fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\ud800', '\udfff', 'é', '€'),
        fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
        fc.string({ unit: 'binary', maxLength: 2 }),
      ),
      maxLength: 12,
    }),
  );
  const entry = fc.record({
    sourceTopic: text,
    sourcePartition: fc.nat(1_000),
    chainSeq: fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }),
    transactionId: text,
    postingIndex: fc.nat(32_767),
    account: text,
    asset: text,
    amountMinor: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    sourceEventId: text,
    sourceOffset: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
  });

  it('hashes the bytes of the JSON array of the content, whatever the strings (property)', () => {
    fc.assert(
      fc.property(entry, fc.uint8Array({ minLength: 32, maxLength: 32 }), (content, previous) => {
        expect(entryHash(Buffer.from(previous), content).equals(referenceHash(Buffer.from(previous), content))).toBe(
          true,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same hashes when a chain is extended entry by entry (property)', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.nat(1_000_000), (entries, start) => {
        const { sourceTopic, sourcePartition } = entries[0]!;
        const chain = new EntryChain(sourceTopic, sourcePartition, start, GENESIS_HASH);
        let previous = GENESIS_HASH;
        entries.forEach((content, index) => {
          const expected = referenceHash(previous, {
            ...content,
            sourceTopic,
            sourcePartition,
            chainSeq: BigInt(start + index + 1),
          });
          const hash = chain
            .transaction(content.transactionId, content.sourceEventId, Number(content.sourceOffset))
            .append(content.postingIndex, content.account, content.asset, content.amountMinor);
          expect(Buffer.from(hash, 'latin1').equals(expected)).toBe(true);
          expect(chain.chainSeq).toBe(start + index + 1);
          previous = expected;
        });
        expect(chain.head.equals(previous)).toBe(true);
      }),
      { numRuns: 400 },
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
    fc.assert(
      fc.property(
        fc.shuffledSubarray(balances, { minLength: 2 }),
        fc.shuffledSubarray(heads, { minLength: 2 }),
        (b, h) => expect(ledgerDigest(b, h)).toBe(digest),
      ),
    );
    expect(ledgerDigest([...balances, { account: 'x:y', asset: 'USDC', balanceMinor: 0n }], heads)).toBe(digest);
  });

  it('changes with any balance or head', () => {
    const digest = ledgerDigest(balances, heads);
    expect(ledgerDigest([balances[0]!, { ...balances[1]!, balanceMinor: 11n }], heads)).not.toBe(digest);
    expect(ledgerDigest(balances, [heads[0]!, { ...heads[1]!, chainSeq: 4n }])).not.toBe(digest);
  });
});
