import type { DataSource } from 'typeorm';

export interface StatementLine {
  readonly payoutId: string;
  readonly epoch: number;
  readonly asset: string;
  readonly amountMinor: string;
  readonly status: string;
  readonly rail: string;
  readonly reference: string | null;
  readonly failureReason: string | null;
  readonly attempts: number;
  readonly requestedAt: string;
  readonly updatedAt: string;
}

export const STATEMENT_LINES_MAX = 1_000;
const ACCOUNT_ID = /^[a-z-]+:.{1,240}$/;

/** An account id as a participant passes it (`contributor:alice`); the error names the field and the rule. */
export function parseAccountIdInput(value: string): string {
  if (!ACCOUNT_ID.test(value) || value.length > 256)
    throw new RangeError('accountId: must be "<role>:<id>" of at most 256 characters, e.g. contributor:alice');
  return value;
}

/** The number of lines asked for, from a query string or flag; 100 when not given. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return 100;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > STATEMENT_LINES_MAX)
    throw new RangeError(`limit: must be an integer from 1 to ${STATEMENT_LINES_MAX}`);
  return limit;
}

/** A participant's payouts, newest epoch first; amounts as decimal strings, since JSON numbers cannot hold every bigint. */
export async function statementOf(dataSource: DataSource, accountId: string, limit: number): Promise<StatementLine[]> {
  const rows: Array<Record<string, string | number | Date | null>> = await dataSource.query(
    `SELECT payout_id, epoch, asset, amount_minor::text, status, rail, reference, failure_reason, attempts, created_at, updated_at
       FROM payouts WHERE account = $1 ORDER BY epoch DESC, asset LIMIT $2`,
    [accountId, limit],
  );
  return rows.map((row) => ({
    payoutId: String(row.payout_id),
    epoch: Number(row.epoch),
    asset: String(row.asset),
    amountMinor: String(row.amount_minor),
    status: String(row.status),
    rail: String(row.rail),
    reference: row.reference === null ? null : String(row.reference),
    failureReason: row.failure_reason === null ? null : String(row.failure_reason),
    attempts: Number(row.attempts),
    requestedAt: new Date(row.created_at as Date).toISOString(),
    updatedAt: new Date(row.updated_at as Date).toISOString(),
  }));
}
