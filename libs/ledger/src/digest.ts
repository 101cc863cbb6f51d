import { createHash } from 'node:crypto';

export interface AccountBalance {
  readonly account: string;
  readonly asset: string;
  readonly balanceMinor: bigint;
}

export interface ChainHead {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly chainSeq: bigint;
  readonly hash: Buffer;
}

/**
 * The ledger digest: SHA-256 over every non-zero balance and every chain head, each as one line,
 * lines sorted. Sorting makes it independent of the order partitions were applied in (and of the
 * order rows come back from a query), so the same log gives the same digest on every rebuild.
 * Zero balances are left out so that an account that exists with nothing in it and one that does
 * not exist read the same.
 */
export function ledgerDigest(balances: Iterable<AccountBalance>, heads: Iterable<ChainHead>): string {
  const lines: string[] = [];
  for (const { account, asset, balanceMinor } of balances) {
    if (balanceMinor !== 0n) lines.push(JSON.stringify(['balance', account, asset, balanceMinor.toString()]));
  }
  for (const { sourceTopic, sourcePartition, chainSeq, hash } of heads) {
    if (chainSeq > 0n) lines.push(JSON.stringify(['head', sourceTopic, String(sourcePartition), chainSeq.toString(), hash.toString('hex')]));
  }
  lines.sort();
  const sha = createHash('sha256');
  for (const line of lines) sha.update(line).update('\n');
  return sha.digest('hex');
}
