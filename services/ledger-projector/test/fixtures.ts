import {
  toRecord,
  type InferenceAttributed,
  type PayoutFailed,
  type PayoutRequested,
  type PayoutSettled,
} from '@tributary/contracts';
import type { DataSource } from 'typeorm';
import { InboundBatch, type InboundRecord, type Rejection } from '@tributary/messaging';
import { PostgresOffsetStore } from '@tributary/persistence';
import { projectBatch, type ProjectionObserver } from '../src/projection/ledger-writer';

export const CONTRIBUTORS_MAX = 50;

/**
 * A decision with 8 credits (protocol, model owner, datanet owner, five contributors), as the
 * attribution service would publish it: credits sum to the fee, contributions seen and counted.
 */
export function decision(sequence: number, feeMinor = 10_000n + BigInt(sequence % 997)): InferenceAttributed {
  const inferenceId = `inf-${sequence}`;
  const contributors = [0, 1, 2, 3, 4].map((slot) => `c${(sequence * 7 + slot * 11) % CONTRIBUTORS_MAX}`);
  const unique = [...new Set(contributors)];
  const protocolMinor = feeMinor / 10n;
  const modelMinor = (feeMinor * 3n) / 10n;
  const curatorMinor = feeMinor / 20n;
  const dataMinor = feeMinor - protocolMinor - modelMinor - curatorMinor;
  const perContributor = dataMinor / BigInt(unique.length);
  const credits = unique.map((contributor, index) => ({
    accountId: `contributor:${contributor}`,
    asset: 'USDC',
    amountMinor: perContributor + (index === 0 ? dataMinor - perContributor * BigInt(unique.length) : 0n),
  }));
  return {
    eventId: `attributed:${inferenceId}`,
    inferenceId,
    occurredAt: 1_760_000_000_000n,
    inferenceEventId: `completed:${inferenceId}`,
    producer: 'urn:tributary:producer:fixtures',
    policyVersion: 1,
    modelId: `m${sequence % 5}`,
    consumerId: `consumer${sequence % 13}`,
    asset: 'USDC',
    feeMinor,
    split: { protocolBps: 1000, modelBps: 3000, dataBps: 6000 },
    postings: [
      { accountId: 'protocol:tributary', asset: 'USDC', amountMinor: protocolMinor },
      { accountId: `model-owner:owner${sequence % 5}`, asset: 'USDC', amountMinor: modelMinor },
      { accountId: 'datanet-owner:dora', asset: 'USDC', amountMinor: curatorMinor },
      ...credits,
    ].sort((left, right) => (left.accountId < right.accountId ? -1 : 1)),
    rejected: [{ contributionId: `k-${sequence}-rejected`, reason: 'NOT_ACCEPTED' }],
    contributionsSeen: [
      ...unique.map((contributor, index) => ({
        contributionId: `k-${sequence}-${index}`,
        status: 'ACCEPTED' as const,
        datanetId: `d${index % 2}`,
        contributorId: contributor,
        scorePpm: 100_000n,
      })),
      {
        contributionId: `k-${sequence}-rejected`,
        status: 'PENDING' as const,
        datanetId: 'd0',
        contributorId: 'c0',
        scorePpm: 5_000n,
      },
    ],
    datanetsSeen: [
      { datanetId: 'd0', ownerId: 'dora', curatorShareBps: 0, minDataBps: 0, allowedModelOwners: null },
      { datanetId: 'd1', ownerId: 'dora', curatorShareBps: 0, minDataBps: 0, allowedModelOwners: null },
    ],
    orderingRule: 'largest-remainder; ties by accountId ascending',
  };
}

export const payoutRequested = (payoutId: string, accountId: string, amountMinor: bigint): PayoutRequested => ({
  eventId: `requested:${payoutId}`,
  payoutId,
  accountId,
  occurredAt: 1_760_000_000_000n,
  asset: 'USDC',
  amountMinor,
  epoch: 1,
});
export const payoutSettled = (payoutId: string, accountId: string): PayoutSettled => ({
  eventId: `settled:${payoutId}`,
  payoutId,
  accountId,
  occurredAt: 1_760_000_000_000n,
  rail: 'ach',
  reference: `ref-${payoutId}`,
});
export const payoutFailed = (payoutId: string, accountId: string): PayoutFailed => ({
  eventId: `failed:${payoutId}`,
  payoutId,
  accountId,
  occurredAt: 1_760_000_000_000n,
  reason: 'account closed',
});

type Published = Parameters<typeof toRecord>;

/** A record as the transport hands it to a handler, without a broker: for database-level tests. */
export function inbound(
  eventType: Published[0],
  data: Published[1],
  partition: number,
  offset: number,
  topicPrefix = 'db.',
): InboundRecord {
  const record = toRecord(eventType, data as never, { source: 'urn:tributary:test', topicPrefix });
  return {
    topic: record.topic,
    partition,
    offset: String(offset),
    key: Buffer.from(record.key),
    value: record.value,
    headers: record.headers,
    timestampMs: 1_760_000_000_000,
  };
}

/**
 * Drives projectBatch the way the live consumer does, without a broker: each call appends events to a
 * partition at its next offsets, as a broker would, and applies them as one batch with its offsets in one
 * transaction. Rejections are collected instead of going to a DLQ.
 */
export function projectionDriver(dataSource: () => DataSource, observer: ProjectionObserver, rejections: Rejection[]) {
  const nextOffset = new Map<string, number>();
  const apply = async (records: InboundRecord[]) => {
    const { topic, partition } = records[0]!;
    const batch = new InboundBatch(
      'g',
      topic,
      partition,
      records,
      async (_group, rejected) => void rejections.push(...rejected),
    );
    await new PostgresOffsetStore(dataSource()).runExactlyOnce(batch, async (manager, fresh) => {
      await projectBatch(manager, batch, fresh, observer);
    });
  };
  const append = async (eventType: Published[0], events: unknown[], partition: number) => {
    const records = events.map((data) => {
      const probe = inbound(eventType, data as never, partition, 0);
      const offset = nextOffset.get(`${probe.topic}/${partition}`) ?? 0;
      nextOffset.set(`${probe.topic}/${partition}`, offset + 1);
      return inbound(eventType, data as never, partition, offset);
    });
    await apply(records);
  };
  return { apply, append };
}
