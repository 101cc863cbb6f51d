import { Inject, Injectable } from '@nestjs/common';
import { accountId, classifyAccount, rejectionLine, rejectionReasonText } from '@tributary/attribution';
import { ContractError, fromRecord, type InferenceAttributed } from '@tributary/contracts';
import { toInboundRecord } from '@tributary/messaging';
import { ReaderPool } from '../database/reader-pool';
import { ApiError } from '../http/api-error';
import { KafkaReader } from '../kafka/kafka-reader';

/**
 * One inference's decision, explained: the fee and who paid it, every share as the ledger booked it,
 * the contributions behind each contributor credit, and what did not count and why. The ledger rows
 * give the amounts; the decision record itself (read from the attributions log at the position the
 * ledger stored) gives the split, the rejections and the state the policy saw, because the read model
 * keeps only what balances need.
 */
@Injectable()
export class InferenceQueries {
  constructor(
    @Inject(ReaderPool) private readonly db: ReaderPool,
    @Inject(KafkaReader) private readonly kafka: KafkaReader,
  ) {}

  async explain(inferenceId: string) {
    const [row] = await this.db.rows<{
      event_id: string;
      inference_event_id: string;
      model_id: string;
      consumer_id: string;
      asset: string;
      fee_minor: string;
      policy_version: number;
      source_topic: string;
      source_partition: number;
      source_offset: string;
    }>(
      `SELECT event_id, inference_event_id, model_id, consumer_id, asset, fee_minor::text, policy_version, source_topic, source_partition, source_offset::text FROM inferences WHERE inference_id = $1`,
      [inferenceId],
    );
    if (!row) throw ApiError.notFound('inference', inferenceId);
    const shares = await this.db.rows<{ account: string; asset: string; amount_minor: string; posting_index: number }>(
      'SELECT account, asset, amount_minor::text, posting_index FROM ledger_entries WHERE source_event_id = $1 AND transaction_id = $2 ORDER BY posting_index',
      [row.event_id, inferenceId],
    );
    const credits = await this.db.rows<{
      account: string;
      contribution_id: string;
      datanet_id: string;
      score_ppm: string;
      amount_minor: string;
    }>(
      'SELECT account, contribution_id, datanet_id, score_ppm::text, amount_minor::text FROM contribution_credits WHERE inference_id = $1 ORDER BY account, contribution_id',
      [inferenceId],
    );
    const source = { topic: row.source_topic, partition: row.source_partition, offset: row.source_offset };
    const decision = await this.decisionAt(source, row.event_id);
    const contributors = [...new Set(credits.map((credit) => credit.account))].map((account) => ({
      account,
      amountMinor: shares.find((share) => share.account === account)?.amount_minor ?? '0',
      contributions: credits
        .filter((credit) => credit.account === account)
        .map((credit) => ({
          contributionId: credit.contribution_id,
          datanetId: credit.datanet_id,
          scorePpm: Number(credit.score_ppm),
          amountMinor: credit.amount_minor,
        })),
    }));
    const rejections = (decision.data?.rejected ?? []).map(({ contributionId, reason }) => ({
      contributionId,
      reason,
      explanation: rejectionReasonText(reason),
    }));
    return {
      inferenceId,
      modelId: row.model_id,
      consumerId: row.consumer_id,
      asset: row.asset,
      feeMinor: row.fee_minor,
      policyVersion: row.policy_version,
      decisionEventId: row.event_id,
      inferenceEventId: row.inference_event_id,
      source,
      split: decision.data ? { ...decision.data.split } : null,
      shares: shares.map((share) => ({
        account: share.account,
        role: classifyAccount(share.account).role,
        asset: share.asset,
        amountMinor: share.amount_minor,
      })),
      contributors,
      rejections,
      decisionAvailable: decision.data !== null,
      ...(decision.problem ? { decisionProblem: decision.problem } : {}),
      lines: linesOf(row, shares, contributors, rejections, decision.data),
    };
  }

  /** The decision record the ledger applied; a missing or different record is reported, never guessed. */
  private async decisionAt(
    source: { topic: string; partition: number; offset: string },
    eventId: string,
  ): Promise<{ data: InferenceAttributed | null; problem?: string }> {
    let message;
    try {
      message = await this.kafka.readRecord(source.topic, source.partition, BigInt(source.offset));
    } catch (error) {
      return { data: null, problem: `the decision record could not be read from Kafka: ${(error as Error).message}` };
    }
    if (!message?.value)
      return { data: null, problem: `no committed record at ${source.topic}[${source.partition}]@${source.offset}` };
    const { headers } = toInboundRecord(source.topic, source.partition, message);
    try {
      const decoded = fromRecord(message.value, headers);
      if (decoded.type !== 'InferenceAttributed' || decoded.data.eventId !== eventId)
        return {
          data: null,
          problem: `the record at ${source.topic}[${source.partition}]@${source.offset} is not decision ${eventId}`,
        };
      return { data: decoded.data };
    } catch (error) {
      if (error instanceof ContractError)
        return { data: null, problem: `the decision record does not decode: ${error.message}` };
      throw error;
    }
  }
}

function percent(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, '0')}%`;
}

function linesOf(
  row: { model_id: string; consumer_id: string; asset: string; fee_minor: string; policy_version: number },
  shares: ReadonlyArray<{ account: string; amount_minor: string }>,
  contributors: ReadonlyArray<{
    account: string;
    contributions: ReadonlyArray<{ contributionId: string; scorePpm: number; amountMinor: string }>;
  }>,
  rejections: ReadonlyArray<{ contributionId: string; reason: string }>,
  decision: InferenceAttributed | null,
): string[] {
  const lines = [
    `${accountId('consumer', row.consumer_id)} paid ${row.fee_minor} ${row.asset} for an inference of model ${row.model_id}, split by policy v${row.policy_version}.`,
  ];
  if (decision)
    lines.push(
      `Split: protocol ${percent(decision.split.protocolBps)}, model owner ${percent(decision.split.modelBps)}, data ${percent(decision.split.dataBps)}.`,
    );
  for (const share of shares) {
    if (BigInt(share.amount_minor) <= 0n) continue;
    const behind = contributors.find((contributor) => contributor.account === share.account);
    const why = behind
      ? ` for ${behind.contributions.map((c) => `${c.contributionId} (score ${c.scorePpm} ppm: ${c.amountMinor})`).join(', ')}`
      : '';
    lines.push(`${share.account} received ${share.amount_minor} ${row.asset}${why}.`);
  }
  for (const rejection of rejections) lines.push(rejectionLine(rejection.contributionId, rejection.reason));
  return lines;
}
