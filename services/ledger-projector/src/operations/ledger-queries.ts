import { ledgerDigest, verifyChain, type ChainMismatch } from '@tributary/ledger';

/** Anything that runs SQL: a pg Client or PoolClient, or a TypeORM EntityManager/DataSource (which return rows). */
export interface Sql {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

async function rows<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T[]> {
  const result = (await sql.query(text, params)) as { rows?: T[] } | T[];
  return Array.isArray(result) ? result : (result.rows ?? []);
}

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Schema names are interpolated into SQL, so they are checked against a strict pattern first. */
export function assertSchemaName(schema: string, flag = '--schema'): string {
  if (!SCHEMA_NAME.test(schema))
    throw new RangeError(
      `${flag}: "${schema}" must be lowercase letters, digits and _ (at most 63), starting with a letter`,
    );
  return schema;
}

/** The ledger digest of one schema, from its balances, chain heads and per-producer totals (producer_funding, producer_credits). */
export async function readDigest(sql: Sql, schema: string): Promise<string> {
  assertSchemaName(schema);
  const balances = await rows<{ account: string; asset: string; balance_minor: string }>(
    sql,
    `SELECT account, asset, balance_minor FROM ${schema}.accounts`,
  );
  const heads = await rows<{ source_topic: string; source_partition: number; chain_seq: string; head_hash: Buffer }>(
    sql,
    `SELECT source_topic, source_partition, chain_seq, head_hash FROM ${schema}.checkpoints`,
  );
  const funding = await rows<{
    producer: string;
    asset: string;
    fees_minor: string;
    credited_minor: string;
    deposits_minor: string;
    chargebacks_minor: string;
  }>(
    sql,
    `SELECT producer, asset, fees_minor::text, credited_minor::text, deposits_minor::text, chargebacks_minor::text FROM ${schema}.producer_funding`,
  );
  const credits = await rows<{ account: string; producer: string; asset: string; credited_minor: string }>(
    sql,
    `SELECT account, producer, asset, credited_minor::text FROM ${schema}.producer_credits`,
  );
  return ledgerDigest(
    balances.map((row) => ({ account: row.account, asset: row.asset, balanceMinor: BigInt(row.balance_minor) })),
    heads.map((row) => ({
      sourceTopic: row.source_topic,
      sourcePartition: row.source_partition,
      chainSeq: BigInt(row.chain_seq),
      hash: row.head_hash,
    })),
    {
      funding: funding.map((row) => ({
        producer: row.producer,
        asset: row.asset,
        feesMinor: BigInt(row.fees_minor),
        creditedMinor: BigInt(row.credited_minor),
        depositsMinor: BigInt(row.deposits_minor),
        chargebacksMinor: BigInt(row.chargebacks_minor),
      })),
      credits: credits.map((row) => ({
        account: row.account,
        producer: row.producer,
        asset: row.asset,
        creditedMinor: BigInt(row.credited_minor),
      })),
    },
  );
}

/**
 * Positions, targets and stored offsets are keyed "<topic>/<partition>". Kafka topic names hold only
 * [a-zA-Z0-9._-], so the last '/' separates the two.
 */
export const positionKey = (topic: string, partition: number): string => `${topic}/${partition}`;

export function parsePositionKey(key: string): { readonly topic: string; readonly partition: number } {
  const slash = key.lastIndexOf('/');
  return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) };
}

/** The next offsets a group has stored in a schema, by position key. */
export async function readStoredOffsets(sql: Sql, schema: string, groupId: string): Promise<Map<string, bigint>> {
  assertSchemaName(schema);
  const stored = await rows<{ topic: string; partition: number; next_offset: string }>(
    sql,
    `SELECT topic, partition, next_offset FROM ${schema}.consumer_offsets WHERE group_id = $1`,
    [groupId],
  );
  return new Map(stored.map((row) => [positionKey(row.topic, row.partition), BigInt(row.next_offset)]));
}

export interface VerifyProblem {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly chainSeq: string;
  /** 1-based position of the row in the partition's chain as read (ORDER BY chain_seq). */
  readonly rowNumber: number;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly entriesChecked: number;
  /** The first row of each chain that does not match, then any balance or head that disagrees. */
  readonly problems: VerifyProblem[];
}

const VERIFY_PAGE_ROWS = 10_000;

/**
 * Recomputes every partition's chain from the table and reports the first row that does not match;
 * then checks each chain ends at its checkpoint (a deleted or appended tail), that every transaction
 * sums to zero per asset, and that the accounts table equals the sums of the entries.
 *
 * Every read is in one REPEATABLE READ snapshot, so a ledger the projector is writing to verifies as it
 * stood at one instant: entries committed after a checkpoint was read never look like an appended tail.
 * `sql` must therefore be one connection (a pg Client or PoolClient), not a pool. A caller already in a
 * transaction of its own on that connection (a test that tampers, verifies, then rolls back) says so with
 * `withinCallerTransaction`, and the reads run in its transaction.
 */
export async function verifyLedger(
  sql: Sql,
  schema: string,
  options: { readonly withinCallerTransaction?: boolean } = {},
): Promise<VerifyReport> {
  assertSchemaName(schema);
  if (options.withinCallerTransaction) return verifyInSnapshot(sql, schema);
  await sql.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const report = await verifyInSnapshot(sql, schema);
    await sql.query('COMMIT');
    return report;
  } catch (error) {
    await sql.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function verifyInSnapshot(sql: Sql, schema: string): Promise<VerifyReport> {
  const chains = await rows<{
    source_topic: string;
    source_partition: number;
    chain_seq: string | null;
    head_hash: Buffer | null;
  }>(
    sql,
    `SELECT c.source_topic, c.source_partition, k.chain_seq, k.head_hash
       FROM (SELECT DISTINCT source_topic, source_partition FROM ${schema}.ledger_entries
             UNION SELECT source_topic, source_partition FROM ${schema}.checkpoints) c
       LEFT JOIN ${schema}.checkpoints k USING (source_topic, source_partition)
      ORDER BY 1, 2`,
  );
  const problems: VerifyProblem[] = [];
  let entriesChecked = 0;
  for (const chain of chains) {
    const result = await verifyPartition(sql, schema, chain.source_topic, chain.source_partition);
    entriesChecked += result.checked;
    const where = { sourceTopic: chain.source_topic, sourcePartition: chain.source_partition };
    if (result.mismatch) {
      problems.push({
        ...where,
        chainSeq: result.mismatch.chainSeq.toString(),
        rowNumber: result.mismatch.rowNumber,
        reason: result.mismatch.reason,
      });
      continue;
    }
    const headSeq = BigInt(chain.chain_seq ?? 0);
    if (result.lastSeq !== headSeq || !result.lastHash.equals(chain.head_hash ?? result.lastHash)) {
      problems.push({
        ...where,
        chainSeq: (result.lastSeq < headSeq ? result.lastSeq + 1n : result.lastSeq).toString(),
        rowNumber: result.checked + (result.lastSeq < headSeq ? 1 : 0),
        reason: `the chain ends at ${result.lastSeq} but its checkpoint says ${headSeq} (rows deleted or appended at the end, or the checkpoint was modified)`,
      });
    }
  }
  problems.push(...(await unbalancedTransactions(sql, schema)), ...(await balanceDrift(sql, schema)));
  return { ok: problems.length === 0, entriesChecked, problems };
}

async function verifyPartition(sql: Sql, schema: string, topic: string, partition: number) {
  let from: { chainSeq: bigint; hash: Buffer } = { chainSeq: 0n, hash: Buffer.alloc(32) };
  let checked = 0;
  for (;;) {
    const page = await rows<Record<string, string | number | Buffer>>(
      sql,
      `SELECT source_topic, source_partition, chain_seq, transaction_id, posting_index, account, asset, amount_minor, source_event_id, source_offset, hash
         FROM ${schema}.ledger_entries WHERE source_topic = $1 AND source_partition = $2 AND chain_seq > $3 ORDER BY chain_seq LIMIT ${VERIFY_PAGE_ROWS}`,
      [topic, partition, from.chainSeq.toString()],
    );
    const entries = page.map((row) => ({
      sourceTopic: String(row.source_topic),
      sourcePartition: Number(row.source_partition),
      chainSeq: BigInt(row.chain_seq as string),
      transactionId: String(row.transaction_id),
      postingIndex: Number(row.posting_index),
      account: String(row.account),
      asset: String(row.asset),
      amountMinor: BigInt(row.amount_minor as string),
      sourceEventId: String(row.source_event_id),
      sourceOffset: BigInt(row.source_offset as string),
      hash: row.hash as Buffer,
    }));
    const mismatch: ChainMismatch | null = verifyChain(entries, from, checked);
    if (mismatch) return { mismatch, checked: mismatch.rowNumber, lastSeq: from.chainSeq, lastHash: from.hash };
    checked += entries.length;
    if (entries.length < VERIFY_PAGE_ROWS)
      return {
        mismatch: null,
        checked,
        lastSeq: entries.at(-1)?.chainSeq ?? from.chainSeq,
        lastHash: entries.at(-1)?.hash ?? from.hash,
      };
    from = { chainSeq: entries.at(-1)!.chainSeq, hash: entries.at(-1)!.hash };
  }
}

async function unbalancedTransactions(sql: Sql, schema: string): Promise<VerifyProblem[]> {
  const found = await rows<{ transaction_id: string; asset: string; total: string }>(
    sql,
    `SELECT transaction_id, asset, sum(amount_minor)::text AS total FROM ${schema}.ledger_entries GROUP BY transaction_id, asset HAVING sum(amount_minor) <> 0 ORDER BY 1, 2 LIMIT 20`,
  );
  return found.map((row) => ({
    sourceTopic: '',
    sourcePartition: -1,
    chainSeq: '',
    rowNumber: 0,
    reason: `transaction ${row.transaction_id} sums to ${row.total} in ${row.asset}, not 0`,
  }));
}

async function balanceDrift(sql: Sql, schema: string): Promise<VerifyProblem[]> {
  const found = await rows<{ account: string; asset: string; stored: string | null; summed: string | null }>(
    sql,
    `SELECT coalesce(a.account, e.account) AS account, coalesce(a.asset, e.asset) AS asset, a.balance_minor::text AS stored, e.total::text AS summed
       FROM ${schema}.accounts a
       FULL JOIN (SELECT account, asset, sum(amount_minor) AS total FROM ${schema}.ledger_entries GROUP BY account, asset) e USING (account, asset)
      WHERE a.balance_minor IS DISTINCT FROM e.total ORDER BY 1, 2 LIMIT 20`,
  );
  return found.map((row) => ({
    sourceTopic: '',
    sourcePartition: -1,
    chainSeq: '',
    rowNumber: 0,
    reason: `account ${row.account} in ${row.asset}: balance ${row.stored ?? 'missing'} but its entries sum to ${row.summed ?? 'nothing'}`,
  }));
}
