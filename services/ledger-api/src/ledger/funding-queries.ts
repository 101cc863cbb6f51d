import { Inject, Injectable } from '@nestjs/common';
import { accountPrefix } from '@tributary/attribution';
import { PAYOUTS_IN_FLIGHT_ACCOUNT, type BackingReport, type PayoutCash } from '@tributary/ledger';
import { ReaderPool } from '../database/reader-pool';
import { ApiError } from '../http/api-error';
import {
  accountFunding,
  backingOf,
  fundingOverview,
  payoutCashOf,
  producerFunding,
  type FundingSnapshot,
} from './funding-views';

/** PostgreSQL's undefined_table: the projector has not created the funding tables in this database yet. */
const UNDEFINED_TABLE = '42P01';

/** What every funding answer starts from: the backing report and the payout cash, from one snapshot. */
export interface FundingState {
  readonly report: BackingReport;
  readonly cash: readonly PayoutCash[];
}

/**
 * Backed credits as the ledger stands: per account what is earned, backed, payable and pending funding;
 * per producer its fees, deposits and shortfall; per asset the treasury's figures and the funding
 * reconciliation. The rules are libs/ledger's (computeBacking over the projector's running totals);
 * this class only reads.
 */
@Injectable()
export class FundingQueries {
  constructor(@Inject(ReaderPool) private readonly db: ReaderPool) {}

  /**
   * The one read behind every funding answer: producer_funding, producer_credits, the payouts paid or in
   * flight per account, and the payout cash per asset, all in one REPEATABLE READ snapshot so the figures
   * add up with each other. A ledger without the funding tables yet is a 503 that says so.
   */
  async state(): Promise<FundingState> {
    let snapshot: FundingSnapshot;
    try {
      snapshot = await this.db.snapshot(async (client) => {
        const funding = (
          await client.query(
            'SELECT producer, asset, fees_minor::text, deposits_minor::text, chargebacks_minor::text FROM producer_funding ORDER BY producer, asset',
          )
        ).rows as Array<{
          producer: string;
          asset: string;
          fees_minor: string;
          deposits_minor: string;
          chargebacks_minor: string;
        }>;
        const credits = (
          await client.query(
            'SELECT account, producer, asset, credited_minor::text FROM producer_credits ORDER BY account, producer, asset',
          )
        ).rows as Array<{ account: string; producer: string; asset: string; credited_minor: string }>;
        const paid = (
          await client.query(
            `SELECT account, asset, sum(amount_minor)::text AS amount_minor FROM payouts WHERE status IN ('REQUESTED', 'SETTLED') GROUP BY account, asset ORDER BY account, asset`,
          )
        ).rows as Array<{ account: string; asset: string; amount_minor: string }>;
        const payoutCash = (
          await client.query(
            `SELECT asset, coalesce(sum(amount_minor) FILTER (WHERE status = 'SETTLED'), 0)::text AS settled,
                  coalesce(sum(amount_minor) FILTER (WHERE status = 'REQUESTED'), 0)::text AS in_flight
             FROM payouts GROUP BY asset`,
          )
        ).rows as Array<{ asset: string; settled: string; in_flight: string }>;
        const accountCash = (
          await client.query(
            `SELECT asset, coalesce(sum(balance_minor) FILTER (WHERE account LIKE $2), 0)::text AS settlement,
                  coalesce(sum(balance_minor) FILTER (WHERE account = $1), 0)::text AS in_flight
             FROM accounts WHERE account LIKE $2 OR account = $1 GROUP BY asset`,
            [PAYOUTS_IN_FLIGHT_ACCOUNT, `${accountPrefix('settlement')}%`],
          )
        ).rows as Array<{ asset: string; settlement: string; in_flight: string }>;
        return {
          funding: funding.map((row) => ({
            producer: row.producer,
            asset: row.asset,
            feesMinor: BigInt(row.fees_minor),
            depositsMinor: BigInt(row.deposits_minor),
            chargebacksMinor: BigInt(row.chargebacks_minor),
          })),
          credits: credits.map((row) => ({
            accountId: row.account,
            producer: row.producer,
            asset: row.asset,
            creditedMinor: BigInt(row.credited_minor),
          })),
          paidOrInFlight: paid.map((row) => ({
            accountId: row.account,
            asset: row.asset,
            amountMinor: BigInt(row.amount_minor),
          })),
          cash: payoutCashOf(
            payoutCash.map((row) => ({
              asset: row.asset,
              settledMinor: BigInt(row.settled),
              inFlightMinor: BigInt(row.in_flight),
            })),
            accountCash.map((row) => ({
              asset: row.asset,
              settlementAccountsMinor: BigInt(row.settlement),
              inFlightAccountMinor: BigInt(row.in_flight),
            })),
          ),
        };
      });
    } catch (error) {
      if ((error as { code?: string })?.code === UNDEFINED_TABLE) {
        throw ApiError.unavailable(
          'the ledger has no producer funding tables yet (ledger.producer_funding, ledger.producer_credits): start the ledger projector of this version so its migration creates them',
        );
      }
      throw error;
    }
    try {
      return { report: backingOf(snapshot), cash: snapshot.cash };
    } catch (error) {
      // The rules refuse facts that break them (an account paid more than it earned, a total past 2^63-1):
      // the ledger's totals disagree with each other, which a retry after the projector catches up may fix.
      if (error instanceof RangeError)
        throw ApiError.unavailable(`the ledger's funding totals do not fit the backing rules: ${error.message}`);
      throw error;
    }
  }

  /** 404 only when the ledger never saw the account; an account that earned nothing from producers has no assets. */
  async account(accountId: string) {
    const { report } = await this.state();
    const view = accountFunding(report, accountId);
    if (view.assets.length === 0) {
      const known = await this.db.rows('SELECT 1 FROM accounts WHERE account = $1 LIMIT 1', [accountId]);
      if (known.length === 0) throw ApiError.notFound('account', accountId);
    }
    return view;
  }

  async producer(producer: string) {
    const view = producerFunding((await this.state()).report, producer);
    if (view.assets.length === 0) throw ApiError.notFound('producer', producer);
    return view;
  }

  async overview() {
    const { report, cash } = await this.state();
    return fundingOverview(report, cash);
  }
}
