import { ContractError, fromRecord, type InferenceCompleted } from '@tributary/contracts';
import { JOIN_RULE, JOIN_RULES, type InferenceFacts } from '@tributary/attribution';
import { contentHashOf, keyPartition, type InboundRecord } from '@tributary/messaging';

/** An inference that cannot be decided; the reason goes to the DLQ in dlq_reason. */
export class InferenceRejected extends Error {
  override readonly name = 'InferenceRejected';
}

export interface InferenceLimits {
  readonly attributionsMax: number;
  readonly feeMinorMax: bigint;
  readonly clockSkewMsMax: number;
  readonly partitionCount: number;
}

export interface ReadInference {
  readonly record: InboundRecord;
  readonly eventId: string;
  /** The record's ce_source: the producer the gateway authenticated, or the one a direct producer declared. */
  readonly producer: string;
  readonly facts: InferenceFacts;
  /** The as-of time of the join: the join rule's, from the record timestamp (the broker's append time under v2). */
  readonly asOfMs: number;
  /** SHA-256 of the record's Avro body: a re-delivery of the inference has the same (in either framing), another inference under its id does not. */
  readonly contentHash: Buffer;
}

/**
 * Reads and checks one InferenceCompleted record. Dedup is per partition, so a record must sit on the
 * partition its key hashes to (as every producer using the default partitioner puts it): a copy
 * placed elsewhere could not be recognised as a duplicate, and goes to the DLQ instead.
 */
export function readInference(record: InboundRecord, limits: InferenceLimits, nowMs: number): ReadInference {
  let decoded;
  try {
    decoded = fromRecord(record.value, record.headers);
  } catch (error) {
    if (error instanceof ContractError) throw new InferenceRejected(error.message);
    throw error;
  }
  if (decoded.type !== 'InferenceCompleted')
    throw new InferenceRejected(`ce_type: ${decoded.envelope.type} does not belong on ${record.topic}`);
  const data: InferenceCompleted = decoded.data;
  // Whose deposits back this inference's credits: a decision must name its producer.
  const producer = decoded.envelope.source;
  if (producer.length === 0)
    throw new InferenceRejected(
      'ce_source: must name the producer of the inference (a URI reference of 1 to 256 characters)',
    );
  const key = record.key?.toString('utf8');
  if (key !== data.inferenceId) throw new InferenceRejected(`key: must equal inferenceId ${data.inferenceId}`);
  const expected = keyPartition(key, limits.partitionCount);
  if (expected !== record.partition) {
    throw new InferenceRejected(
      `partition: key ${key} belongs on partition ${expected} (murmur2), not ${record.partition}`,
    );
  }
  if (data.feeMinor < 0n) throw new InferenceRejected(`feeMinor: must not be negative, got ${data.feeMinor}`);
  if (data.feeMinor > limits.feeMinorMax)
    throw new InferenceRejected(`feeMinor: at most ${limits.feeMinorMax}, got ${data.feeMinor}`);
  if (data.attributions.length > limits.attributionsMax) {
    throw new InferenceRejected(
      `attributions: at most ${limits.attributionsMax} entries, got ${data.attributions.length}`,
    );
  }
  if (record.timestampMs > nowMs + limits.clockSkewMsMax) {
    throw new InferenceRejected(
      `timestamp: ${record.timestampMs} is more than ${limits.clockSkewMsMax} ms in the future`,
    );
  }
  const facts: InferenceFacts = {
    inferenceId: data.inferenceId,
    modelId: data.modelId,
    consumerId: data.consumerId,
    asset: data.asset,
    feeMinor: data.feeMinor,
    attributions: data.attributions.map(({ contributionId, scorePpm }) => ({
      contributionId,
      scorePpm: Number(scorePpm),
    })),
    method: data.method,
  };
  return {
    record,
    eventId: data.eventId,
    producer,
    facts,
    asOfMs: JOIN_RULES[JOIN_RULE].asOfMs(record.timestampMs),
    // The Avro body's hash: alike whether the inference was written raw or Confluent-framed.
    contentHash: contentHashOf(decoded.body),
  };
}
