import { assertSchemaName, type Sql } from './ledger-queries';

export interface AuditContribution {
  readonly contributionId: string;
  readonly datanetId: string;
  readonly scorePpm: string;
  readonly amountMinor: string;
}

export interface AuditLine {
  readonly transactionId: string;
  readonly amountMinor: string;
  readonly asset: string;
  readonly sourceEventId: string;
  readonly source: string;
  /** What made this entry: the inference (model, consumer, fee) or the payout (id, status). */
  readonly origin: string;
  readonly contributions: AuditContribution[];
}

export interface AuditStatement {
  readonly account: string;
  readonly lines: AuditLine[];
  /** Per asset: the sum of every entry of the account, and the balance the accounts table holds. */
  readonly totals: Array<{
    asset: string;
    entriesSumMinor: string;
    balanceMinor: string;
    entryCount: number;
    matches: boolean;
  }>;
  readonly linesOmitted: number;
}

const ACCOUNT_LENGTH_MAX = 256;

/**
 * The statement of one account: every entry with the inference or payout behind it and, for a
 * contributor credit, the contributions that earned it; totals from all entries, compared with the
 * stored balance. At most `linesMax` lines are listed; totals always cover every entry.
 */
export async function auditAccount(
  sql: Sql,
  schema: string,
  account: string,
  linesMax: number,
): Promise<AuditStatement> {
  assertSchemaName(schema);
  if (account.length === 0 || account.length > ACCOUNT_LENGTH_MAX)
    throw new RangeError(`<account>: must be 1 to ${ACCOUNT_LENGTH_MAX} characters`);
  const entries = await query<Record<string, string>>(
    sql,
    `SELECT e.transaction_id, e.amount_minor::text, e.asset, e.source_event_id, e.source_topic || '[' || e.source_partition || ']@' || e.source_offset AS source,
            i.model_id, i.consumer_id, i.fee_minor::text, p.payout_id, p.status AS payout_status
       FROM ${schema}.ledger_entries e
       LEFT JOIN ${schema}.inferences i ON i.inference_id = e.transaction_id AND i.event_id = e.source_event_id
       LEFT JOIN ${schema}.payouts p ON e.transaction_id LIKE 'payout:%' AND p.payout_id = substring(e.transaction_id from '^payout:(.*):[a-z]+$') COLLATE "default"
      WHERE e.account = $1 ORDER BY e.source_topic, e.source_partition, e.chain_seq LIMIT $2`,
    [account, linesMax],
  );
  const credits = await query<Record<string, string>>(
    sql,
    `SELECT inference_id, contribution_id, datanet_id, score_ppm::text, amount_minor::text FROM ${schema}.contribution_credits
      WHERE account = $1 AND inference_id = ANY($2) ORDER BY inference_id, contribution_id`,
    [account, entries.map((row) => row.transaction_id)],
  );
  const byInference = new Map<string, AuditContribution[]>();
  for (const credit of credits) {
    const list = byInference.get(credit.inference_id!) ?? [];
    list.push({
      contributionId: credit.contribution_id!,
      datanetId: credit.datanet_id!,
      scorePpm: credit.score_ppm!,
      amountMinor: credit.amount_minor!,
    });
    byInference.set(credit.inference_id!, list);
  }
  const lines = entries.map((row) => ({
    transactionId: row.transaction_id!,
    amountMinor: row.amount_minor!,
    asset: row.asset!,
    sourceEventId: row.source_event_id!,
    source: row.source!,
    origin: row.model_id
      ? `inference ${row.transaction_id} of model ${row.model_id}, consumer ${row.consumer_id}, fee ${row.fee_minor}`
      : row.payout_id
        ? `payout ${row.payout_id} (${row.payout_status})`
        : 'unknown origin',
    contributions: byInference.get(row.transaction_id!) ?? [],
  }));
  const totals = await query<{ asset: string; entries_sum: string; entry_count: string; balance_minor: string | null }>(
    sql,
    `SELECT e.asset, e.entries_sum::text, e.entry_count::text, a.balance_minor::text FROM
       (SELECT asset, sum(amount_minor) AS entries_sum, count(*) AS entry_count FROM ${schema}.ledger_entries WHERE account = $1 GROUP BY asset) e
       LEFT JOIN ${schema}.accounts a ON a.account = $1 AND a.asset = e.asset ORDER BY e.asset`,
    [account],
  );
  const entryTotal = totals.reduce((sum, row) => sum + Number(row.entry_count), 0);
  return {
    account,
    lines,
    linesOmitted: Math.max(0, entryTotal - lines.length),
    totals: totals.map((row) => ({
      asset: row.asset,
      entriesSumMinor: row.entries_sum,
      balanceMinor: row.balance_minor ?? '0',
      entryCount: Number(row.entry_count),
      matches: row.entries_sum === (row.balance_minor ?? '0'),
    })),
  };
}

async function query<T>(sql: Sql, text: string, params: unknown[]): Promise<T[]> {
  const result = (await sql.query(text, params)) as { rows?: T[] } | T[];
  return Array.isArray(result) ? result : (result.rows ?? []);
}

/** The statement as text for an operator's terminal. */
export function formatStatement(statement: AuditStatement): string {
  const out = [`Statement of ${statement.account}`];
  for (const line of statement.lines) {
    out.push(
      `${line.amountMinor.padStart(14)} ${line.asset}  ${line.origin}  [event ${line.sourceEventId} at ${line.source}]`,
    );
    for (const c of line.contributions)
      out.push(
        `${''.padStart(16)}  via contribution ${c.contributionId} (datanet ${c.datanetId}, score ${c.scorePpm} ppm): ${c.amountMinor}`,
      );
  }
  if (statement.linesOmitted > 0) out.push(`... ${statement.linesOmitted} more entries (raise --limit)`);
  for (const total of statement.totals) {
    out.push(
      `Total ${total.asset}: entries sum to ${total.entriesSumMinor} over ${total.entryCount} entries; balance ${total.balanceMinor} (${total.matches ? 'matches' : 'DOES NOT MATCH'})`,
    );
  }
  return out.join('\n');
}
