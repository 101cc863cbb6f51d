/**
 * Backed credits: the part of an account's credits that money actually received from the producers
 * whose inferences earned them stands behind. Pure functions, no database: the caller passes the facts
 * (decisions with their producer, deposits and chargebacks) and what each account has already been paid
 * or has in flight, and gets plain, deterministically ordered views back.
 *
 * ## The rule (per asset, producers kept apart)
 *
 * For producer P in asset X: fees F = sum of its decisions' fees; net deposits D = deposits - chargebacks
 * (negative D is debt); each account a was credited c(a,P) by P's decisions.
 *
 * - backedFrom(a,P) = floor(c(a,P) * min(max(0,D), F) / F), 0 when F = 0: pro-rata, exact bigint
 *   arithmetic, never more than c(a,P). backed(a) = the sum over producers. Deposits of A never enter
 *   the backing from B (producer isolation), and every output is a function of the SET of facts: only
 *   sums are taken, so any interleaving across partitions and topics, or a rebuild, gives the same answer.
 * - The treasury keeps the rounding remainder min(max(0,D), F) - sum over a of backedFrom(a,P) (>= 0):
 *   rounding never creates money. Deposits beyond the fees are reported as the producer's prepaid.
 *
 * ## Paid or in flight, overpayment and debt
 *
 * Money that has left or is leaving is known per account and asset only, so it is attributed to
 * producers by one deterministic rule:
 *
 * 1. An account paid more than it is now backed for (possible only after a chargeback, or after new
 *    unfunded fees diluted the producer's ratio) is overpaid by excess = paid - backed. The excess is
 *    charged first to the producers whose backing of that account chargebacks took away
 *    (backing at gross deposits minus backing at net deposits), then to any producer whose credit to
 *    it is still unbacked, each pass in producer id order. paid <= earned is validated, so it always fits.
 * 2. debt(P) = the excess charged to P + max(0, -D): what went out on P's credits beyond what P now backs,
 *    plus chargebacks beyond deposits. While debt(P) > 0 nothing backed by P is payable: its later deposits
 *    first raise the backing of the overpaid accounts (which lowers the debt) and whatever they back for
 *    the other accounts is reported as held, not payable, until the debt is gone.
 * 3. The rest of an account's paid amount (up to its backing) is taken from the backing of producers in
 *    good standing first, then from producers in debt, each group in producer id order. So a deposit of a
 *    producer still in debt never moves what an account may draw from other producers.
 *
 * payableFrom(a,P) = 0 if debt(P) > 0, else backedFrom(a,P) - paidFrom(a,P) (never negative); payable(a) =
 * the sum. Hence payable(a) <= max(0, backed(a) - paid(a)), with equality when no producer it earned from is
 * in debt, and per producer paid + payable <= max(0, D) + debt: nothing unbacked is ever made payable.
 *
 * Inputs are validated: amounts are integers in 0..2^63-1 per fact, ids are non-empty, a decision's credits
 * sum to at most its fee, and an account's paid or in-flight amount is at most what it earned; a violation
 * is a RangeError naming the field and the rule.
 */
import { balanceKey } from './accounts';

/** The most one fact may carry, in minor units: what a signed 64-bit ledger column holds. */
export const BACKING_AMOUNT_MAX = 2n ** 63n - 1n;

/** One credit of a decision to an earning account (contributor, datanet owner, model owner, protocol). */
export interface BackingCredit {
  readonly accountId: string;
  readonly amountMinor: bigint;
}

/** An attribution decision as backing needs it: who produced the inference, the fee, and who earned from it. */
export interface BackingDecision {
  readonly producer: string;
  readonly asset: string;
  readonly feeMinor: bigint;
  readonly credits: readonly BackingCredit[];
}

/** Money received from a producer (deposit) or its reversal (chargeback), recorded by the treasury. */
export interface FundingFact {
  readonly producer: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly kind: 'deposit' | 'chargeback';
}

export type BackingFact = BackingDecision | FundingFact;

/** What one producer means to one account. */
export interface AccountSource {
  readonly producer: string;
  readonly earnedMinor: bigint;
  readonly backedMinor: bigint;
  /** The account's paid or in-flight amount attributed to this producer (see the module comment). */
  readonly paidOrInFlightMinor: bigint;
  readonly payableMinor: bigint;
  /** Backed but not payable because the producer is in debt. */
  readonly heldMinor: bigint;
}

/** A producer an account waits on: `amountMinor` of its credits from that producer are not backed yet. */
export interface PendingProducer {
  readonly producer: string;
  readonly amountMinor: bigint;
}

export interface AccountBacking {
  readonly accountId: string;
  readonly asset: string;
  readonly earnedMinor: bigint;
  readonly backedMinor: bigint;
  readonly paidOrInFlightMinor: bigint;
  readonly payableMinor: bigint;
  /** earned - backed. */
  readonly pendingFundingMinor: bigint;
  /** Backed, not yet paid, but held because a producer it comes from is in debt. */
  readonly heldMinor: bigint;
  /** paid - backed when positive: paid before a chargeback (or dilution) took the backing away. */
  readonly overpaidMinor: bigint;
  /** Producers whose backing of this account is less than its credits from them, in producer order. */
  readonly waitingOn: readonly PendingProducer[];
  readonly sources: readonly AccountSource[];
}

export interface ProducerBacking {
  readonly producer: string;
  readonly asset: string;
  readonly feesReportedMinor: bigint;
  readonly creditedMinor: bigint;
  readonly depositsMinor: bigint;
  readonly chargebacksMinor: bigint;
  /** deposits - chargebacks; negative when more was reversed than received. */
  readonly netDepositsMinor: bigint;
  /** max(0, fees - max(0, net deposits)): fees nobody has paid for. */
  readonly shortfallMinor: bigint;
  /** max(0, net deposits - fees): money received ahead of fees. */
  readonly prepaidMinor: bigint;
  readonly backedMinor: bigint;
  readonly paidOrInFlightMinor: bigint;
  readonly payableMinor: bigint;
  readonly heldMinor: bigint;
  /** Excess paid on its credits beyond its backing, plus chargebacks beyond deposits. */
  readonly debtMinor: bigint;
  /** min(max(0, net deposits), fees) - backed: rounding and uncredited fee, kept by the treasury. */
  readonly treasuryRemainderMinor: bigint;
}

export interface AssetBacking {
  readonly asset: string;
  readonly depositsMinor: bigint;
  readonly chargebacksMinor: bigint;
  readonly netDepositsMinor: bigint;
  /** Sum over producers of max(0, net deposits): the most that can ever back credits. */
  readonly fundedMinor: bigint;
  readonly feesReportedMinor: bigint;
  readonly earnedMinor: bigint;
  readonly backedTotalMinor: bigint;
  readonly paidOrInFlightTotalMinor: bigint;
  readonly payableTotalMinor: bigint;
  readonly heldTotalMinor: bigint;
  readonly debtTotalMinor: bigint;
  readonly shortfallTotalMinor: bigint;
  readonly treasuryRemainderMinor: bigint;
  /** backedTotal <= funded, always true for the rule above; reported so a reconciliation can assert it. */
  readonly backedWithinDeposits: boolean;
}

export interface BackingReport {
  readonly accounts: readonly AccountBacking[];
  readonly producers: readonly ProducerBacking[];
  readonly assets: readonly AssetBacking[];
}

/** Paid plus in flight per account and asset, keyed by `balanceKey(accountId, asset)`. */
export type PaidOrInFlight = ReadonlyMap<string, bigint>;

/** floor(credit * min(max(0, net), fees) / fees), 0 when fees is 0: the pro-rata backing of one credit. */
export function backedShare(creditMinor: bigint, netDepositsMinor: bigint, feesMinor: bigint): bigint {
  if (feesMinor <= 0n) return 0n;
  const funded = min(max(0n, netDepositsMinor), feesMinor);
  return (creditMinor * funded) / feesMinor; // bigint division of non-negatives floors
}

export function isFundingFact(fact: BackingFact): fact is FundingFact {
  return 'kind' in fact;
}

interface ProducerTotals {
  fees: bigint;
  credited: bigint;
  deposits: bigint;
  chargebacks: bigint;
  credits: Map<string, bigint>;
}

interface Cell {
  earned: bigint;
  backed: bigint;
  grossBacked: bigint;
  paid: bigint;
}

/** The backing of every account, producer and asset, from the set of facts and what has left. */
export function computeBacking(
  facts: readonly BackingFact[],
  paidOrInFlight: PaidOrInFlight = new Map(),
): BackingReport {
  const byAsset = new Map<string, Map<string, ProducerTotals>>();
  facts.forEach((fact, index) => {
    validateFact(fact, index);
    const producers = getOrSet(byAsset, fact.asset, () => new Map<string, ProducerTotals>());
    const totals = getOrSet(producers, fact.producer, () => ({
      fees: 0n,
      credited: 0n,
      deposits: 0n,
      chargebacks: 0n,
      credits: new Map<string, bigint>(),
    }));
    if (isFundingFact(fact)) {
      if (fact.kind === 'deposit') totals.deposits += fact.amountMinor;
      else totals.chargebacks += fact.amountMinor;
    } else {
      totals.fees += fact.feeMinor;
      for (const credit of fact.credits) {
        totals.credited += credit.amountMinor;
        totals.credits.set(credit.accountId, (totals.credits.get(credit.accountId) ?? 0n) + credit.amountMinor);
      }
    }
  });

  const paidByAsset = new Map<string, Map<string, bigint>>();
  for (const [key, amountMinor] of paidOrInFlight) {
    const separator = key.indexOf('\u0000');
    const accountId = separator >= 0 ? key.slice(0, separator) : '';
    const asset = separator >= 0 ? key.slice(separator + 1) : '';
    if (accountId === '' || asset === '')
      throw new RangeError(
        `paidOrInFlight: key ${JSON.stringify(key)} must be balanceKey(accountId, asset) with both non-empty`,
      );
    checkAmount(`paidOrInFlight[${accountId}, ${asset}]`, amountMinor);
    if (amountMinor > 0n) getOrSet(paidByAsset, asset, () => new Map<string, bigint>()).set(accountId, amountMinor);
    if (!byAsset.has(asset)) byAsset.set(asset, new Map());
  }

  const accounts: AccountBacking[] = [];
  const producersOut: ProducerBacking[] = [];
  const assets: AssetBacking[] = [];
  for (const asset of sortedKeys(byAsset)) {
    const result = backAsset(asset, byAsset.get(asset)!, paidByAsset.get(asset) ?? new Map());
    accounts.push(...result.accounts);
    producersOut.push(...result.producers);
    assets.push(result.asset);
  }
  return { accounts, producers: producersOut, assets };
}

function backAsset(asset: string, producers: Map<string, ProducerTotals>, paid: Map<string, bigint>) {
  const producerIds = sortedKeys(producers);
  const net = new Map(producerIds.map((p) => [p, producers.get(p)!.deposits - producers.get(p)!.chargebacks]));

  // cells[account][producer]: what each producer means to each account.
  const cells = new Map<string, Map<string, Cell>>();
  for (const p of producerIds) {
    const totals = producers.get(p)!;
    for (const [accountId, credit] of totals.credits) {
      getOrSet(cells, accountId, () => new Map<string, Cell>()).set(p, {
        earned: credit,
        backed: backedShare(credit, net.get(p)!, totals.fees),
        grossBacked: backedShare(credit, totals.deposits, totals.fees),
        paid: 0n,
      });
    }
  }
  for (const [accountId, amountMinor] of paid) {
    const row = cells.get(accountId);
    const earned = row ? sum([...row.values()].map((cell) => cell.earned)) : 0n;
    if (amountMinor > earned) {
      throw new RangeError(
        `paidOrInFlight[${accountId}, ${asset}]: ${amountMinor} must not exceed what the account earned in ${asset} (${earned})`,
      );
    }
  }
  const accountIds = sortedKeys(cells);

  // 1. Overpaid accounts: fill every backing, charge the excess to producers (chargeback losses first).
  const debt = new Map(producerIds.map((p) => [p, max(0n, -net.get(p)!)]));
  const overpaid = new Map<string, bigint>();
  for (const accountId of accountIds) {
    const row = cells.get(accountId)!;
    const paidMinor = paid.get(accountId) ?? 0n;
    const backedMinor = sum([...row.values()].map((cell) => cell.backed));
    if (paidMinor <= backedMinor) continue;
    let excess = paidMinor - backedMinor;
    overpaid.set(accountId, excess);
    const ordered = sortedKeys(row);
    for (const cell of row.values()) cell.paid = cell.backed;
    for (const capacity of [
      (cell: Cell) => cell.grossBacked - cell.backed,
      (cell: Cell) => cell.earned - cell.grossBacked,
    ]) {
      for (const p of ordered) {
        const cell = row.get(p)!;
        const charged = min(excess, capacity(cell));
        cell.paid += charged;
        debt.set(p, debt.get(p)! + charged);
        excess -= charged;
      }
    }
  }

  // 2. Other accounts: take what they were paid from producers in good standing first, then from those in debt.
  for (const accountId of accountIds) {
    if (overpaid.has(accountId)) continue;
    const row = cells.get(accountId)!;
    let remaining = paid.get(accountId) ?? 0n;
    const ordered = sortedKeys(row);
    for (const p of [...ordered.filter((q) => debt.get(q)! === 0n), ...ordered.filter((q) => debt.get(q)! > 0n)]) {
      const cell = row.get(p)!;
      cell.paid = min(remaining, cell.backed);
      remaining -= cell.paid;
    }
  }

  // 3. Views.
  const producerSums = new Map(producerIds.map((p) => [p, { backed: 0n, paid: 0n, payable: 0n, held: 0n }]));
  const accounts: AccountBacking[] = accountIds.map((accountId) => {
    const row = cells.get(accountId)!;
    const sources: AccountSource[] = sortedKeys(row).map((p) => {
      const cell = row.get(p)!;
      const open = max(0n, cell.backed - cell.paid);
      const inDebt = debt.get(p)! > 0n;
      const source = {
        producer: p,
        earnedMinor: cell.earned,
        backedMinor: cell.backed,
        paidOrInFlightMinor: cell.paid,
        payableMinor: inDebt ? 0n : open,
        heldMinor: inDebt ? open : 0n,
      };
      const sums = producerSums.get(p)!;
      sums.backed += source.backedMinor;
      sums.paid += source.paidOrInFlightMinor;
      sums.payable += source.payableMinor;
      sums.held += source.heldMinor;
      return source;
    });
    const earnedMinor = sum(sources.map((s) => s.earnedMinor));
    const backedMinor = sum(sources.map((s) => s.backedMinor));
    return {
      accountId,
      asset,
      earnedMinor,
      backedMinor,
      paidOrInFlightMinor: paid.get(accountId) ?? 0n,
      payableMinor: sum(sources.map((s) => s.payableMinor)),
      pendingFundingMinor: earnedMinor - backedMinor,
      heldMinor: sum(sources.map((s) => s.heldMinor)),
      overpaidMinor: overpaid.get(accountId) ?? 0n,
      waitingOn: sources
        .filter((s) => s.backedMinor < s.earnedMinor)
        .map((s) => ({ producer: s.producer, amountMinor: s.earnedMinor - s.backedMinor })),
      sources,
    };
  });

  const producersOut: ProducerBacking[] = producerIds.map((p) => {
    const totals = producers.get(p)!;
    const netMinor = net.get(p)!;
    const sums = producerSums.get(p)!;
    const funded = max(0n, netMinor);
    return {
      producer: p,
      asset,
      feesReportedMinor: totals.fees,
      creditedMinor: totals.credited,
      depositsMinor: totals.deposits,
      chargebacksMinor: totals.chargebacks,
      netDepositsMinor: netMinor,
      shortfallMinor: max(0n, totals.fees - funded),
      prepaidMinor: max(0n, funded - totals.fees),
      backedMinor: sums.backed,
      paidOrInFlightMinor: sums.paid,
      payableMinor: sums.payable,
      heldMinor: sums.held,
      debtMinor: debt.get(p)!,
      treasuryRemainderMinor: min(funded, totals.fees) - sums.backed,
    };
  });

  const total = (pick: (p: ProducerBacking) => bigint) => sum(producersOut.map(pick));
  const fundedMinor = total((p) => max(0n, p.netDepositsMinor));
  const backedTotalMinor = total((p) => p.backedMinor);
  const assetOut: AssetBacking = {
    asset,
    depositsMinor: total((p) => p.depositsMinor),
    chargebacksMinor: total((p) => p.chargebacksMinor),
    netDepositsMinor: total((p) => p.netDepositsMinor),
    fundedMinor,
    feesReportedMinor: total((p) => p.feesReportedMinor),
    earnedMinor: sum(accounts.map((a) => a.earnedMinor)),
    backedTotalMinor,
    paidOrInFlightTotalMinor: sum(accounts.map((a) => a.paidOrInFlightMinor)),
    payableTotalMinor: sum(accounts.map((a) => a.payableMinor)),
    heldTotalMinor: sum(accounts.map((a) => a.heldMinor)),
    debtTotalMinor: total((p) => p.debtMinor),
    shortfallTotalMinor: total((p) => p.shortfallMinor),
    treasuryRemainderMinor: total((p) => p.treasuryRemainderMinor),
    backedWithinDeposits: backedTotalMinor <= fundedMinor,
  };
  return { accounts, producers: producersOut, asset: assetOut };
}

function validateFact(fact: BackingFact, index: number): void {
  const at = `facts[${index}]`;
  checkId(`${at}.producer`, fact.producer);
  checkId(`${at}.asset`, fact.asset);
  if (isFundingFact(fact)) {
    if (fact.kind !== 'deposit' && fact.kind !== 'chargeback')
      throw new RangeError(`${at}.kind: must be 'deposit' or 'chargeback', got ${JSON.stringify(fact.kind)}`);
    checkAmount(`${at}.amountMinor`, fact.amountMinor);
    return;
  }
  checkAmount(`${at}.feeMinor`, fact.feeMinor);
  if (!Array.isArray(fact.credits)) throw new RangeError(`${at}.credits: must be an array`);
  let credited = 0n;
  fact.credits.forEach((credit, i) => {
    checkId(`${at}.credits[${i}].accountId`, credit.accountId);
    checkAmount(`${at}.credits[${i}].amountMinor`, credit.amountMinor);
    credited += credit.amountMinor;
  });
  if (credited > fact.feeMinor)
    throw new RangeError(`${at}.credits: must sum to at most feeMinor ${fact.feeMinor}, got ${credited}`);
}

function checkAmount(field: string, value: bigint): void {
  if (typeof value !== 'bigint')
    throw new RangeError(`${field}: must be a bigint amount in minor units, got ${typeof value}`);
  if (value < 0n || value > BACKING_AMOUNT_MAX)
    throw new RangeError(`${field}: must be within 0..2^63-1, got ${value}`);
}

function checkId(field: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new RangeError(`${field}: must be a non-empty string`);
}

function getOrSet<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/** Code-unit order, not locale order: the same on every machine. */
function sortedKeys<V>(map: ReadonlyMap<string, V>): string[] {
  return [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sum(values: readonly bigint[]): bigint {
  return values.reduce((total, value) => total + value, 0n);
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Convenience for callers holding paid amounts as rows. */
export function paidOrInFlightMap(
  rows: readonly { readonly accountId: string; readonly asset: string; readonly amountMinor: bigint }[],
): Map<string, bigint> {
  const map = new Map<string, bigint>();
  for (const row of rows) {
    const key = balanceKey(row.accountId, row.asset);
    map.set(key, (map.get(key) ?? 0n) + row.amountMinor);
  }
  return map;
}
