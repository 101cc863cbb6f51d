import { createHash } from 'node:crypto';

/** The content of one ledger entry that its hash covers: everything but the hash itself. */
export interface ChainedEntry {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  /** Position in the partition's chain, from 1, with no gaps. */
  readonly chainSeq: bigint;
  readonly transactionId: string;
  readonly postingIndex: number;
  readonly account: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly sourceEventId: string;
  readonly sourceOffset: bigint;
}

/** The hash before the first entry of every chain. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/**
 * SHA-256 over the previous hash and the entry's content. The content is a JSON array of strings, so
 * field boundaries are unambiguous ("ab","c" never hashes like "a","bc") and bigint needs no care.
 */
export function entryHash(previousHash: Buffer, entry: ChainedEntry): Buffer {
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

export interface ChainMismatch {
  /** The chainSeq the row claims (or the one expected, when a row is missing). */
  readonly chainSeq: bigint;
  readonly rowNumber: number;
  readonly reason: string;
}

/**
 * Walks one partition's entries in stored order (by chainSeq) and returns the first that does not
 * fit: a sequence gap or repeat (a deleted, inserted or reordered row), or a hash that the content
 * and the previous hash do not give (a modified row). Null when the whole chain holds.
 */
export function verifyChain(entries: Iterable<ChainedEntry & { readonly hash: Buffer }>, from: { chainSeq: bigint; hash: Buffer } = { chainSeq: 0n, hash: GENESIS_HASH }, rowNumberStart = 0): ChainMismatch | null {
  let previousHash = from.hash;
  let expectedSeq = from.chainSeq + 1n;
  let rowNumber = rowNumberStart;
  for (const entry of entries) {
    rowNumber += 1;
    if (entry.chainSeq !== expectedSeq) {
      return { chainSeq: entry.chainSeq, rowNumber, reason: `chain_seq ${entry.chainSeq} where ${expectedSeq} was expected (a row was deleted, inserted or reordered)` };
    }
    const hash = entryHash(previousHash, entry);
    if (!hash.equals(entry.hash)) {
      return { chainSeq: entry.chainSeq, rowNumber, reason: 'hash does not match the content and the previous hash (the row or its hash was modified)' };
    }
    previousHash = hash;
    expectedSeq += 1n;
  }
  return null;
}
