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

/** One producer's totals in one asset (the ledger's producer_funding row). */
export interface ProducerFundingTotals {
  readonly producer: string;
  readonly asset: string;
  readonly feesMinor: bigint;
  readonly creditedMinor: bigint;
  readonly depositsMinor: bigint;
  readonly chargebacksMinor: bigint;
}

/** What one account was credited from one producer's inferences in one asset (the ledger's producer_credits row). */
export interface ProducerCreditTotal {
  readonly account: string;
  readonly producer: string;
  readonly asset: string;
  readonly creditedMinor: bigint;
}

/**
 * The ledger digest: SHA-256 over every non-zero balance and every chain head, each as one line,
 * lines sorted. Sorting makes it independent of the order partitions were applied in (and of the
 * order rows come back from a query), so the same log gives the same digest on every rebuild.
 * Zero balances are left out so that an account that exists with nothing in it and one that does
 * not exist read the same.
 *
 * `producers`, when given, adds the per-producer totals the backed-credit rules read (funding and
 * credits by producer), each non-zero row as a line of its own kind, so a rebuild that disagrees on
 * any of them does not match. Without them, or with none that is non-zero, the digest is what it was
 * before they existed.
 */
export function ledgerDigest(
  balances: Iterable<AccountBalance>,
  heads: Iterable<ChainHead>,
  producers?: { readonly funding: Iterable<ProducerFundingTotals>; readonly credits: Iterable<ProducerCreditTotal> },
): string {
  const lines: string[] = [];
  for (const { account, asset, balanceMinor } of balances) {
    if (balanceMinor !== 0n) lines.push(JSON.stringify(['balance', account, asset, balanceMinor.toString()]));
  }
  for (const { sourceTopic, sourcePartition, chainSeq, hash } of heads) {
    if (chainSeq > 0n)
      lines.push(
        JSON.stringify(['head', sourceTopic, String(sourcePartition), chainSeq.toString(), hash.toString('hex')]),
      );
  }
  for (const { producer, asset, feesMinor, creditedMinor, depositsMinor, chargebacksMinor } of producers?.funding ??
    []) {
    if (feesMinor !== 0n || creditedMinor !== 0n || depositsMinor !== 0n || chargebacksMinor !== 0n) {
      lines.push(
        JSON.stringify([
          'producer-funding',
          producer,
          asset,
          feesMinor.toString(),
          creditedMinor.toString(),
          depositsMinor.toString(),
          chargebacksMinor.toString(),
        ]),
      );
    }
  }
  for (const { account, producer, asset, creditedMinor } of producers?.credits ?? []) {
    if (creditedMinor !== 0n)
      lines.push(JSON.stringify(['producer-credit', account, producer, asset, creditedMinor.toString()]));
  }
  lines.sort();
  const sha = createHash('sha256');
  for (const line of lines) sha.update(line).update('\n');
  return sha.digest('hex');
}
