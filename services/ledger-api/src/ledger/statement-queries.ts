import { Inject, Injectable } from '@nestjs/common';
import { TOPICS } from '@tributary/contracts';
import { ReaderPool } from '../database/reader-pool';
import { ApiError } from '../http/api-error';
import { decodeCursor, encodeCursor } from '../http/cursor';

export interface Page<T> {
  readonly items: T[];
  /** Pass it back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface AccountSummary {
  readonly account: string;
  readonly asset: string;
  readonly role: string;
  readonly ownerId: string;
  readonly balanceMinor: string;
  readonly entryCount: string;
}

/** What produced an entry: a decision (its inference) or a payout stage. */
export type EntryTrace =
  | { readonly kind: 'inference'; readonly inferenceId: string; readonly href: string }
  | { readonly kind: 'payout'; readonly payoutId: string; readonly stage: string; readonly href: string };

export interface StatementEntry {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly chainSeq: string;
  readonly sourceOffset: string;
  readonly transactionId: string;
  readonly postingIndex: number;
  readonly asset: string;
  readonly amountMinor: string;
  readonly sourceEventId: string;
  readonly trace: EntryTrace;
}

interface EntryRow {
  source_topic: string;
  source_partition: number;
  chain_seq: string;
  source_offset: string;
  transaction_id: string;
  posting_index: number;
  asset: string;
  amount_minor: string;
  source_event_id: string;
}

/** Accounts, statements, payouts and contribution lineage: the "what am I owed and why" reads. */
@Injectable()
export class StatementQueries {
  constructor(@Inject(ReaderPool) private readonly db: ReaderPool) {}

  async accounts(filter: {
    role?: string;
    ownerId?: string;
    asset?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<AccountSummary>> {
    const [afterAccount, afterAsset] = filter.cursor
      ? decodeCursor('accounts', filter.cursor, ['string', 'string'])
      : ['', ''];
    const rows = await this.db.rows<{
      account: string;
      asset: string;
      role: string;
      owner_id: string;
      balance_minor: string;
      entry_count: string;
    }>(
      `SELECT account, asset, role, owner_id, balance_minor::text, entry_count::text FROM accounts
        WHERE ($1::text IS NULL OR role = $1) AND ($2::text IS NULL OR owner_id = $2) AND ($3::text IS NULL OR asset = $3)
          AND (account, asset) > ($4, $5)
        ORDER BY account, asset LIMIT $6`,
      [filter.role ?? null, filter.ownerId ?? null, filter.asset ?? null, afterAccount, afterAsset, filter.limit + 1],
    );
    return page(rows.map(accountOf), filter.limit, (last) => encodeCursor('accounts', [last.account, last.asset]));
  }

  /** One account: its balance per asset, and its payouts by status. 404 when the ledger never saw it. */
  async account(account: string) {
    const balances = await this.db.rows<{
      asset: string;
      role: string;
      owner_id: string;
      balance_minor: string;
      entry_count: string;
      credited_minor: string;
      debited_minor: string;
    }>(
      `SELECT a.asset, a.role, a.owner_id, a.balance_minor::text, a.entry_count::text,
              coalesce(sum(e.amount_minor) FILTER (WHERE e.amount_minor > 0), 0)::text AS credited_minor,
              coalesce(-sum(e.amount_minor) FILTER (WHERE e.amount_minor < 0), 0)::text AS debited_minor
         FROM accounts a LEFT JOIN ledger_entries e ON e.account = a.account AND e.asset = a.asset
        WHERE a.account = $1 GROUP BY a.asset, a.role, a.owner_id, a.balance_minor, a.entry_count ORDER BY a.asset`,
      [account],
    );
    if (balances.length === 0) throw ApiError.notFound('account', account);
    const payouts = await this.db.rows<{ asset: string; status: string; count: string; amount_minor: string }>(
      'SELECT asset, status, count(*)::text AS count, sum(amount_minor)::text AS amount_minor FROM payouts WHERE account = $1 GROUP BY asset, status ORDER BY asset, status',
      [account],
    );
    return {
      account,
      role: balances[0]!.role,
      ownerId: balances[0]!.owner_id,
      balances: balances.map((row) => ({
        asset: row.asset,
        balanceMinor: row.balance_minor,
        entryCount: row.entry_count,
        creditedMinor: row.credited_minor,
        debitedMinor: row.debited_minor,
      })),
      payouts: payouts.map((row) => ({
        asset: row.asset,
        status: row.status,
        count: Number(row.count),
        amountMinor: row.amount_minor,
      })),
    };
  }

  /**
   * An account's entries in ledger order (source topic, partition, chain position): the order the
   * hash chain fixes, so a statement can be checked against the chain. Keyset-paginated.
   */
  // ORDER BY names the table's columns (e.chain_seq): the bare name would sort the ::text output column as text.
  async statement(
    account: string,
    filter: { asset?: string; limit: number; cursor?: string },
  ): Promise<Page<StatementEntry>> {
    const known = await this.db.rows('SELECT 1 FROM accounts WHERE account = $1 LIMIT 1', [account]);
    if (known.length === 0) throw ApiError.notFound('account', account);
    const [topic, partition, chainSeq] = filter.cursor
      ? decodeCursor('statement', filter.cursor, ['string', 'integer', 'bigint'])
      : ['', '-1', '0'];
    const rows = await this.db.rows<EntryRow>(
      `SELECT source_topic, source_partition, chain_seq::text, source_offset::text, transaction_id, posting_index, asset, amount_minor::text, source_event_id
         FROM ledger_entries e
        WHERE account = $1 AND ($2::text IS NULL OR asset = $2) AND (e.source_topic, e.source_partition, e.chain_seq) > ($3, $4::int, $5::bigint)
        ORDER BY e.source_topic, e.source_partition, e.chain_seq LIMIT $6`,
      [account, filter.asset ?? null, topic, partition, chainSeq, filter.limit + 1],
    );
    return page(rows.map(entryOf), filter.limit, (last) =>
      encodeCursor('statement', [last.sourceTopic, last.sourcePartition, last.chainSeq]),
    );
  }

  async payouts(filter: { account?: string; status?: string; limit: number; cursor?: string }) {
    const [after] = filter.cursor ? decodeCursor('payouts', filter.cursor, ['string']) : [''];
    const rows = await this.db.rows<PayoutDbRow>(
      `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE ($1::text IS NULL OR account = $1) AND ($2::text IS NULL OR status = $2) AND payout_id > $3 ORDER BY payout_id LIMIT $4`,
      [filter.account ?? null, filter.status ?? null, after, filter.limit + 1],
    );
    return page(rows.map(payoutOf), filter.limit, (last) => encodeCursor('payouts', [last.payoutId]));
  }

  async payout(payoutId: string) {
    const [row] = await this.db.rows<PayoutDbRow>(`SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE payout_id = $1`, [
      payoutId,
    ]);
    if (!row) throw ApiError.notFound('payout', payoutId);
    const entries = await this.db.rows<EntryRow & { account: string }>(
      `SELECT source_topic, source_partition, chain_seq::text, source_offset::text, transaction_id, posting_index, account, asset, amount_minor::text, source_event_id
         FROM ledger_entries e WHERE source_event_id = ANY($1) ORDER BY e.source_topic, e.source_partition, e.chain_seq`,
      [[row.requested_event_id, row.ended_event_id].filter((id): id is string => id !== null)],
    );
    return { ...payoutOf(row), entries: entries.map((entry) => ({ account: entry.account, ...entryOf(entry) })) };
  }

  /** The contributions behind a contributor account's credits: lineage, one row per contribution and asset. */
  async accountContributions(account: string, filter: { limit: number; cursor?: string }) {
    const known = await this.db.rows('SELECT 1 FROM accounts WHERE account = $1 LIMIT 1', [account]);
    if (known.length === 0) throw ApiError.notFound('account', account);
    const [afterContribution, afterAsset] = filter.cursor
      ? decodeCursor('account-contributions', filter.cursor, ['string', 'string'])
      : ['', ''];
    const rows = await this.db.rows<{
      contribution_id: string;
      datanet_id: string;
      asset: string;
      earned_minor: string;
      inference_count: string;
    }>(
      `SELECT contribution_id, min(datanet_id) AS datanet_id, asset, sum(amount_minor)::text AS earned_minor, count(DISTINCT inference_id)::text AS inference_count
         FROM contribution_credits WHERE account = $1 AND (contribution_id, asset) > ($2, $3)
        GROUP BY contribution_id, asset ORDER BY contribution_id, asset LIMIT $4`,
      [account, afterContribution, afterAsset, filter.limit + 1],
    );
    return page(
      rows.map((row) => ({
        contributionId: row.contribution_id,
        datanetId: row.datanet_id,
        asset: row.asset,
        earnedMinor: row.earned_minor,
        inferenceCount: Number(row.inference_count),
        href: `/v1/contributions/${encodeURIComponent(row.contribution_id)}`,
      })),
      filter.limit,
      (last) => encodeCursor('account-contributions', [last.contributionId, last.asset]),
    );
  }

  /** A contribution's earnings per asset, and the inferences that paid it (keyset-paginated). */
  async contribution(contributionId: string, filter: { limit: number; cursor?: string }) {
    const totals = await this.db.rows<{
      asset: string;
      earned_minor: string;
      inference_count: string;
      contributors: string[];
      datanets: string[];
    }>(
      `SELECT asset, sum(amount_minor)::text AS earned_minor, count(DISTINCT inference_id)::text AS inference_count,
              array_agg(DISTINCT account) AS contributors, array_agg(DISTINCT datanet_id) AS datanets
         FROM contribution_credits WHERE contribution_id = $1 GROUP BY asset ORDER BY asset`,
      [contributionId],
    );
    if (totals.length === 0) throw ApiError.notFound('contribution', contributionId);
    const [afterInference, afterAccount] = filter.cursor
      ? decodeCursor('contribution', filter.cursor, ['string', 'string'])
      : ['', ''];
    const rows = await this.db.rows<{
      inference_id: string;
      account: string;
      datanet_id: string;
      score_ppm: string;
      asset: string;
      amount_minor: string;
      model_id: string;
      fee_minor: string;
    }>(
      `SELECT c.inference_id, c.account, c.datanet_id, c.score_ppm::text, c.asset, c.amount_minor::text, i.model_id, i.fee_minor::text
         FROM contribution_credits c JOIN inferences i USING (inference_id)
        WHERE c.contribution_id = $1 AND (c.inference_id, c.account) > ($2, $3)
        ORDER BY c.inference_id, c.account LIMIT $4`,
      [contributionId, afterInference, afterAccount, filter.limit + 1],
    );
    const paidBy = page(
      rows.map((row) => ({
        inferenceId: row.inference_id,
        account: row.account,
        datanetId: row.datanet_id,
        scorePpm: Number(row.score_ppm),
        asset: row.asset,
        amountMinor: row.amount_minor,
        modelId: row.model_id,
        feeMinor: row.fee_minor,
        href: `/v1/inferences/${encodeURIComponent(row.inference_id)}`,
      })),
      filter.limit,
      (last) => encodeCursor('contribution', [last.inferenceId, last.account]),
    );
    return {
      contributionId,
      earnings: totals.map((row) => ({
        asset: row.asset,
        earnedMinor: row.earned_minor,
        inferenceCount: Number(row.inference_count),
        contributors: row.contributors,
        datanets: row.datanets,
      })),
      paidBy,
    };
  }
}

/** Reads one row more than the page, so a page knows whether another follows without a count. */
export function page<T>(items: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const more = items.length > limit;
  const kept = more ? items.slice(0, limit) : items;
  return { items: kept, nextCursor: more ? cursorOf(kept[kept.length - 1]!) : null };
}

function accountOf(row: {
  account: string;
  asset: string;
  role: string;
  owner_id: string;
  balance_minor: string;
  entry_count: string;
}): AccountSummary {
  return {
    account: row.account,
    asset: row.asset,
    role: row.role,
    ownerId: row.owner_id,
    balanceMinor: row.balance_minor,
    entryCount: row.entry_count,
  };
}

/** Traced by source topic: a decision's transaction id is its inference id, a payout's is payout:<id>:<stage>. */
export function entryOf(row: EntryRow): StatementEntry {
  const base = {
    sourceTopic: row.source_topic,
    sourcePartition: row.source_partition,
    chainSeq: row.chain_seq,
    sourceOffset: row.source_offset,
    transactionId: row.transaction_id,
    postingIndex: row.posting_index,
    asset: row.asset,
    amountMinor: row.amount_minor,
    sourceEventId: row.source_event_id,
  };
  if (row.source_topic === TOPICS.payouts.name) {
    const match = /^payout:(.*):([a-z-]+)$/.exec(row.transaction_id);
    const payoutId = match?.[1] ?? row.transaction_id;
    return {
      ...base,
      trace: {
        kind: 'payout',
        payoutId,
        stage: match?.[2] ?? 'unknown',
        href: `/v1/payouts/${encodeURIComponent(payoutId)}`,
      },
    };
  }
  return {
    ...base,
    trace: {
      kind: 'inference',
      inferenceId: row.transaction_id,
      href: `/v1/inferences/${encodeURIComponent(row.transaction_id)}`,
    },
  };
}

const PAYOUT_COLUMNS =
  'payout_id, account, asset, amount_minor::text, epoch, status, requested_event_id, ended_event_id, rail, reference, failure_reason';
interface PayoutDbRow {
  payout_id: string;
  account: string;
  asset: string;
  amount_minor: string;
  epoch: number;
  status: string;
  requested_event_id: string;
  ended_event_id: string | null;
  rail: string | null;
  reference: string | null;
  failure_reason: string | null;
}

function payoutOf(row: PayoutDbRow) {
  return {
    payoutId: row.payout_id,
    account: row.account,
    asset: row.asset,
    amountMinor: row.amount_minor,
    epoch: row.epoch,
    status: row.status,
    requestedEventId: row.requested_event_id,
    endedEventId: row.ended_event_id,
    rail: row.rail,
    reference: row.reference,
    failureReason: row.failure_reason,
  };
}
