import { Inject, Injectable } from '@nestjs/common';
import { accountId, accountPrefix, type EarnerRole } from '@tributary/attribution';
import { TOPICS } from '@tributary/contracts';
import { ReaderPool } from '../database/reader-pool';
import { OffsetWindows, windowCondition, windowParams, type OffsetWindow } from './offset-window';

export type RevenueDimension = 'datanet' | 'model' | 'contributor';

/** Role prefixes are [a-z-] only, so they are safe to write into SQL text and hold no LIKE wildcard. */
const CONTRIBUTOR_PREFIX = accountPrefix('contributor');
const OTHER_CONTRIBUTORS = accountId('contributor', '(other)');

/**
 * How each earner role appears in the flow of value: a node of its own in column 1, or (contributors,
 * null) through the datanets that earned their credits, in column 2. Typed over every earner role, so
 * a new one must be placed; the key order is the order of the nodes.
 */
const FLOW_ROLE_LABELS: Readonly<Record<EarnerRole, string | null>> = {
  protocol: 'Protocol',
  'model-owner': 'Model owners',
  'datanet-owner': 'Datanet owners (curation)',
  contributor: null,
};

export interface TimeRange {
  readonly fromMs?: number;
  readonly toMs?: number;
}

export interface FlowNode {
  readonly id: string;
  readonly label: string;
  /** 0 fees, 1 protocol / model owners / datanet owners / datanets, 2 contributors. */
  readonly column: number;
  readonly valueMinor: string;
  /** The account or datanet a click leads to, when there is one. */
  readonly href: string | null;
}

export interface FlowLink {
  readonly source: string;
  readonly target: string;
  readonly valueMinor: string;
}

/**
 * Revenue, top earners and the flow of value, all time or for a time range. All-time revenue comes
 * from the projector's running sums; a range is summed from the lineage rows whose decision lies in
 * the range's offset window (see OffsetWindows), so both answer the same question the same way.
 */
@Injectable()
export class AnalyticsQueries {
  constructor(
    @Inject(ReaderPool) private readonly db: ReaderPool,
    @Inject(OffsetWindows) private readonly windows: OffsetWindows,
  ) {}

  async revenue(dimension: RevenueDimension, filter: TimeRange & { asset?: string; limit: number }) {
    const window = await this.windows.of(filter);
    const rows = window
      ? await this.revenueInWindow(dimension, window, filter)
      : await this.revenueAllTime(dimension, filter);
    return {
      dimension,
      ...rangeOf(filter),
      items: rows.map((row) => ({
        id: row.id,
        asset: row.asset,
        revenueMinor: row.revenue_minor,
        inferenceCount: Number(row.inference_count),
      })),
    };
  }

  private revenueAllTime(dimension: RevenueDimension, filter: { asset?: string; limit: number }) {
    return this.db.rows<RevenueRow>(
      `SELECT r.dimension_id AS id, r.asset, r.revenue_minor::text, r.inference_count::text FROM revenue r
        WHERE r.dimension = $1 AND ($2::text IS NULL OR r.asset = $2) ORDER BY r.revenue_minor DESC, r.dimension_id, r.asset LIMIT $3`,
      [dimension, filter.asset ?? null, filter.limit],
    );
  }

  private revenueInWindow(
    dimension: RevenueDimension,
    window: OffsetWindow,
    filter: { asset?: string; limit: number },
  ) {
    const inRange = windowCondition('i', 3);
    const params = [filter.asset ?? null, filter.limit, ...windowParams(window), TOPICS.attributions.name];
    const sql = {
      model: `SELECT i.model_id AS id, i.asset, sum(i.fee_minor) AS revenue, count(*) AS inferences FROM inferences i
               WHERE i.source_topic = $6 AND ($1::text IS NULL OR i.asset = $1) AND ${inRange} GROUP BY i.model_id, i.asset`,
      datanet: `SELECT c.datanet_id AS id, c.asset, sum(c.amount_minor) AS revenue, count(DISTINCT c.inference_id) AS inferences
                  FROM contribution_credits c JOIN inferences i USING (inference_id)
                 WHERE i.source_topic = $6 AND ($1::text IS NULL OR c.asset = $1) AND ${inRange} GROUP BY c.datanet_id, c.asset`,
      contributor: `SELECT substr(i.account, length('${CONTRIBUTOR_PREFIX}') + 1) AS id, i.asset, sum(i.amount_minor) AS revenue, count(DISTINCT i.transaction_id) AS inferences
                      FROM ledger_entries i
                     WHERE i.source_topic = $6 AND i.account LIKE '${CONTRIBUTOR_PREFIX}%' AND ($1::text IS NULL OR i.asset = $1) AND ${inRange} GROUP BY i.account, i.asset`,
    }[dimension];
    return this.db.rows<RevenueRow>(
      `SELECT id, asset, revenue::text AS revenue_minor, inferences::text AS inference_count FROM (${sql}) r ORDER BY revenue DESC, id, asset LIMIT $2`,
      params,
    );
  }

  /** Accounts of a role by what they earned (credits from decisions) in the range, with their balance now. */
  async topEarners(role: EarnerRole, filter: TimeRange & { asset?: string; limit: number }) {
    const window = await this.windows.of(filter);
    const rows = await this.db.rows<{
      account: string;
      asset: string;
      earned_minor: string;
      balance_minor: string | null;
    }>(
      `SELECT e.account, e.asset, sum(e.amount_minor)::text AS earned_minor, max(a.balance_minor)::text AS balance_minor
         FROM ledger_entries e LEFT JOIN accounts a USING (account, asset)
        WHERE e.source_topic = $6 AND e.account LIKE $1 AND e.amount_minor > 0 AND ($2::text IS NULL OR e.asset = $2) AND ${windowCondition('e', 3)}
        GROUP BY e.account, e.asset ORDER BY sum(e.amount_minor) DESC, e.account, e.asset LIMIT $7`,
      [
        `${accountPrefix(role)}%`,
        filter.asset ?? null,
        ...windowParams(window),
        TOPICS.attributions.name,
        filter.limit,
      ],
    );
    return {
      role,
      ...rangeOf(filter),
      items: rows.map((row) => ({
        account: row.account,
        ownerId: row.account.slice(accountPrefix(role).length),
        asset: row.asset,
        earnedMinor: row.earned_minor,
        balanceMinor: row.balance_minor ?? '0',
      })),
    };
  }

  /**
   * Where the fees of one asset went in the range: fees → protocol, model owners, datanet owners
   * (curation) and each datanet (its contributors' credits) → contributors. The `top` largest datanets
   * and contributors are nodes of their own, the rest are summed into "other" nodes, so the diagram
   * stays readable and its totals stay exact. `contributorsTop` is how many contributors are named (0 for
   * a reader who may see aggregates only: every contributor is then summed into one node).
   */
  async flow(filter: TimeRange & { asset?: string; top: number; contributorsTop: number }) {
    const window = await this.windows.of(filter);
    const asset = filter.asset ?? (await this.busiestAsset(window));
    if (asset === null)
      return { asset: null, ...rangeOf(filter), totalFeeMinor: '0', inferenceCount: 0, nodes: [], links: [] };
    const base = [asset, ...windowParams(window), TOPICS.attributions.name];
    const [fees] = await this.db.rows<{ total: string; count: string }>(
      `SELECT coalesce(sum(fee_minor), 0)::text AS total, count(*)::text AS count FROM inferences i WHERE i.asset = $1 AND i.source_topic = $5 AND ${windowCondition('i', 2)}`,
      base,
    );
    const roles = await this.db.rows<{ role: string; total: string }>(
      `SELECT split_part(i.account, ':', 1) AS role, sum(i.amount_minor)::text AS total FROM ledger_entries i
        WHERE i.asset = $1 AND i.source_topic = $5 AND i.amount_minor > 0 AND ${windowCondition('i', 2)} GROUP BY 1`,
      base,
    );
    const credits = await this.db.rows<{ datanet_id: string; account: string; total: string }>(
      `SELECT c.datanet_id, c.account, sum(c.amount_minor)::text AS total FROM contribution_credits c JOIN inferences i USING (inference_id)
        WHERE c.asset = $1 AND i.source_topic = $5 AND ${windowCondition('i', 2)} GROUP BY 1, 2`,
      base,
    );
    const roleTotal = (role: string) => BigInt(roles.find((row) => row.role === role)?.total ?? '0');
    const graph = flowGraph(
      BigInt(fees!.total),
      roleTotal,
      credits.map((row) => ({ datanetId: row.datanet_id, account: row.account, amountMinor: BigInt(row.total) })),
      filter.top,
      filter.contributorsTop,
    );
    return { asset, ...rangeOf(filter), totalFeeMinor: fees!.total, inferenceCount: Number(fees!.count), ...graph };
  }

  private async busiestAsset(window: OffsetWindow | null): Promise<string | null> {
    const [row] = await this.db.rows<{ asset: string }>(
      `SELECT asset FROM inferences i WHERE i.source_topic = $4 AND ${windowCondition('i', 1)} GROUP BY asset ORDER BY sum(fee_minor) DESC, asset LIMIT 1`,
      [...windowParams(window), TOPICS.attributions.name],
    );
    return row?.asset ?? null;
  }
}

interface RevenueRow {
  id: string;
  asset: string;
  revenue_minor: string;
  inference_count: string;
}

function rangeOf(range: TimeRange) {
  return {
    from: range.fromMs !== undefined ? new Date(range.fromMs).toISOString() : null,
    to: range.toMs !== undefined ? new Date(range.toMs).toISOString() : null,
  };
}

/** Builds the diagram's nodes and links from the sums; pure, so the rounding of "other" is exact by construction. */
export function flowGraph(
  totalFeeMinor: bigint,
  roleTotal: (role: string) => bigint,
  credits: ReadonlyArray<{ datanetId: string; account: string; amountMinor: bigint }>,
  top: number,
  contributorsTop: number = top,
): { nodes: FlowNode[]; links: FlowLink[] } {
  const nodes: FlowNode[] = [
    { id: 'fees', label: 'Inference fees', column: 0, valueMinor: totalFeeMinor.toString(), href: null },
  ];
  const links: FlowLink[] = [];
  const add = (node: FlowNode, from: string) => {
    nodes.push(node);
    links.push({ source: from, target: node.id, valueMinor: node.valueMinor });
  };
  for (const [role, label] of Object.entries(FLOW_ROLE_LABELS)) {
    if (label === null) continue;
    const value = roleTotal(role);
    if (value > 0n)
      add({ id: role, label, column: 1, valueMinor: value.toString(), href: `/v1/top-earners?role=${role}` }, 'fees');
  }
  const byDatanet = sumBy(credits, (credit) => credit.datanetId);
  const byContributor = sumBy(credits, (credit) => credit.account);
  const topDatanets = new Set(largest(byDatanet, top));
  const topContributors = new Set(largest(byContributor, contributorsTop));
  const datanetNode = (datanetId: string) => (topDatanets.has(datanetId) ? `datanet:${datanetId}` : 'datanet:(other)');
  const contributorNode = (account: string) => (topContributors.has(account) ? account : OTHER_CONTRIBUTORS);
  const datanetSums = sumBy(credits, (credit) => datanetNode(credit.datanetId));
  for (const [id, value] of datanetSums) {
    const datanetId = id.slice('datanet:'.length);
    add(
      {
        id,
        label: datanetId === '(other)' ? 'Other datanets' : `Datanet ${datanetId}`,
        column: 1,
        valueMinor: value.toString(),
        href: datanetId === '(other)' ? null : `/v1/revenue?dimension=datanet`,
      },
      'fees',
    );
  }
  // Contributors credited without lineage would be invisible above; the "unattributed" node keeps the totals exact.
  const unattributed = roleTotal('contributor') - [...byContributor.values()].reduce((sum, value) => sum + value, 0n);
  if (unattributed > 0n)
    add(
      {
        id: 'datanet:(unattributed)',
        label: 'Contributors (no lineage)',
        column: 1,
        valueMinor: unattributed.toString(),
        href: null,
      },
      'fees',
    );
  const contributorSums = sumBy(credits, (credit) => contributorNode(credit.account));
  for (const [id, value] of contributorSums) {
    nodes.push({
      id,
      label:
        id !== OTHER_CONTRIBUTORS
          ? id.slice(CONTRIBUTOR_PREFIX.length)
          : contributorsTop === 0
            ? 'Contributors'
            : 'Other contributors',
      column: 2,
      valueMinor: value.toString(),
      href: id === OTHER_CONTRIBUTORS ? null : `/v1/accounts/${encodeURIComponent(id)}`,
    });
  }
  for (const [key, value] of sumBy(
    credits,
    (credit) => `${datanetNode(credit.datanetId)}\u0000${contributorNode(credit.account)}`,
  )) {
    const [source, target] = key.split('\u0000') as [string, string];
    links.push({ source, target, valueMinor: value.toString() });
  }
  return { nodes, links };
}

function sumBy<T extends { amountMinor: bigint }>(
  items: readonly T[],
  keyOf: (item: T) => string,
): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const item of items) sums.set(keyOf(item), (sums.get(keyOf(item)) ?? 0n) + item.amountMinor);
  return new Map([...sums].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
}

function largest(sums: ReadonlyMap<string, bigint>, count: number): string[] {
  return [...sums]
    .sort(([leftId, left], [rightId, right]) => (left === right ? (leftId < rightId ? -1 : 1) : left > right ? -1 : 1))
    .slice(0, count)
    .map(([id]) => id);
}
