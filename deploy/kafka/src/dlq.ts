import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from 'commander';
import { Kafka, logLevel, type Admin, type Transaction } from 'kafkajs';
import { ConfigError, kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { catalogFor, deadLetterTopicName } from '@tributary/contracts';
import { createIdempotentProducer } from '@tributary/kafka-client';
import {
  DLQ_PARTITION,
  RedriveRefused,
  classifyDlqRecord,
  positionText,
  readDeadLetterTopic,
  redriveMarkerMessage,
  redriveMessage,
  summarizeDeadLetter,
  type DeadLetterSummary,
  type DlqRead,
  type InboundRecord,
  type RedriveMark,
} from '@tributary/messaging';
import { ProvisionError } from './errors';

/**
 * The operator's commands on dead letters: list and show what a consumer group gave up on (the reason,
 * where it came from, the event decoded), re-drive chosen dead letters to their source topic once the
 * cause is fixed, and the depth of every group's DLQ. A re-drive is idempotent: the re-driven record and
 * a marker naming the dead letter are written in one Kafka transaction, under a transactional id per DLQ
 * that fences any other re-drive of it, after reading the markers already there; a dead letter with a
 * marker is skipped.
 */
type Catalog = ReturnType<typeof catalogFor>;

export const LIMIT_MAX = 10_000;
export const REASON_CONTAINS_MAX = 256;
export const REDRIVE_OFFSETS_MAX = 1_000;
const INT64_MAX = 2n ** 63n - 1n;
const READ_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------- flags

export function parseLimit(value: string): number {
  const limit = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= LIMIT_MAX))
    throw new InvalidArgumentError(`--limit must be an integer from 1 to ${LIMIT_MAX}, got '${value}'`);
  return limit;
}

export function parseReasonContains(value: string): string {
  if (value.length < 1 || value.length > REASON_CONTAINS_MAX || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError(
      `--reason-contains must be 1 to ${REASON_CONTAINS_MAX} characters without control characters, got '${value}'`,
    );
  }
  return value;
}

export function parseOffset(value: string): string {
  if (!/^(0|[1-9]\d{0,18})$/.test(value) || BigInt(value) > INT64_MAX) {
    throw new InvalidArgumentError(`--offset must be a non-negative integer offset of the DLQ, got '${value}'`);
  }
  return value;
}

/** A repeatable --offset: one offset (`12`) or an inclusive range (`12-20`); the offsets collected in order, once each. */
export function parseOffsets(value: string, previous: readonly string[] = []): string[] {
  const range = /^([^-]*)-([^-]*)$/.exec(value);
  const [first, last] = range
    ? [parseOffset(range[1]!), parseOffset(range[2]!)]
    : [parseOffset(value), parseOffset(value)];
  const [low, high] = [BigInt(first), BigInt(last)];
  if (low > high)
    throw new InvalidArgumentError(
      `--offset range must run from a lower to a higher offset (a-b, a <= b), got '${value}'`,
    );
  const collected = [...previous];
  const seen = new Set(collected);
  const overlap = collected.filter((offset) => BigInt(offset) >= low && BigInt(offset) <= high).length;
  const total = BigInt(collected.length) + (high - low + 1n) - BigInt(overlap);
  if (total > BigInt(REDRIVE_OFFSETS_MAX))
    throw new InvalidArgumentError(`--offset must select at most ${REDRIVE_OFFSETS_MAX} offsets in all, got ${total}`);
  for (let offset = low; offset <= high; offset += 1n) {
    const text = offset.toString();
    if (!seen.has(text)) {
      seen.add(text);
      collected.push(text);
    }
  }
  return collected;
}

/** A group of the catalog, by its full name or by the part after `<prefix>tributary.`. */
export function resolveGroup(value: string, catalog: Catalog): string {
  const groups: string[] = Object.values(catalog.groups).sort();
  const short = `${catalog.prefix}tributary.${value}`;
  if (groups.includes(value)) return value;
  if (value.length > 0 && groups.includes(short)) return short;
  throw new ProvisionError(
    `--group must be a consumer group of the catalog (${groups.join(', ')}; or the part after '${catalog.prefix}tributary.'), got '${value}'`,
    'see the groups with `npm run kafka -- dlq depth`',
  );
}

// ---------------------------------------------------------------- connection

/** What the commands run against: a Kafka client (the operator's), and the catalog of one topic prefix. */
export interface DlqContext {
  readonly kafka: Kafka;
  readonly catalog: Catalog;
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

/** The operator's client from the environment (libs/config: KAFKA_BROKERS, KAFKA_USERNAME, ...; the local stack's files by default). */
export function operatorDlqContext(topicPrefix: string, env: NodeJS.ProcessEnv = process.env): DlqContext {
  try {
    const config = kafkaEnv(env, 'operator');
    return {
      kafka: new Kafka({
        ...kafkaClientOptions(config, `${config.KAFKA_CLIENT_ID}-dlq`),
        logLevel: logLevel.NOTHING,
        retry: { retries: 3 },
      }),
      catalog: catalogFor(topicPrefix),
    };
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ProvisionError(error.message, 'set the KAFKA_* variables for the operator (README, Configuration)');
    throw error;
  }
}

async function withAdmin<T>(context: DlqContext, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = context.kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new ProvisionError(
      `Kafka refused or did not answer: ${(error as Error).message}`,
      'check KAFKA_BROKERS and the operator credentials',
    );
  }
  try {
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function readDlq(context: DlqContext, admin: Admin, group: string): Promise<DlqRead> {
  const topic = deadLetterTopicName(group);
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch((error: Error) => {
    throw new ProvisionError(
      `cannot read ${topic}: ${error.message}`,
      'create the topic catalog first (`npm start` does)',
    );
  });
  const partitions = metadata.topics[0]?.partitions.length ?? 0;
  if (partitions !== 1)
    throw new ProvisionError(
      `${topic} has ${partitions} partitions; a DLQ has one`,
      'recreate it from the topic catalog',
    );
  const readerGroup = `${context.catalog.prefix}tributary.operator.dlq-reader.${randomUUID()}`;
  try {
    return await readDeadLetterTopic(context.kafka, admin, topic, readerGroup, context.timeoutMs ?? READ_TIMEOUT_MS);
  } catch (error) {
    throw new ProvisionError(
      `cannot read ${topic}: ${(error as Error).message}`,
      'check that the broker is up, then try again',
    );
  }
}

function summaries(read: DlqRead): DeadLetterSummary[] {
  return read.records
    .filter((record) => classifyDlqRecord(record).kind === 'dead-letter')
    .map((record) => summarizeDeadLetter(record, read.tally.redriveOf(record.offset) ?? null));
}

// ---------------------------------------------------------------- commands

export interface DlqListing {
  readonly topic: string;
  readonly deadLetters: number;
  readonly redriven: number;
  readonly depth: number;
  readonly matching: number;
  readonly shown: DeadLetterSummary[];
}

/** The group's dead letters in offset order, those re-driven marked so; at most `limit` of those matching. */
export async function listDeadLetters(
  context: DlqContext,
  group: string,
  options: { limit: number; reasonContains?: string },
): Promise<DlqListing> {
  return withAdmin(context, async (admin) => {
    const read = await readDlq(context, admin, group);
    const matching = summaries(read).filter(
      (summary) => options.reasonContains === undefined || (summary.reason ?? '').includes(options.reasonContains),
    );
    const { tally } = read;
    return {
      topic: read.topic,
      deadLetters: tally.deadLetters,
      redriven: tally.redriven,
      depth: tally.depth,
      matching: matching.length,
      shown: matching.slice(0, options.limit),
    };
  });
}

/** One dead letter in full. */
export async function showDeadLetter(context: DlqContext, group: string, offset: string): Promise<DeadLetterSummary> {
  return withAdmin(context, async (admin) => {
    const read = await readDlq(context, admin, group);
    const record = read.records.find((candidate) => candidate.offset === offset);
    if (!record)
      throw new ProvisionError(
        `${read.topic} has no record at offset ${offset}`,
        'list the dead letters with `npm run kafka -- dlq list`',
      );
    const kind = classifyDlqRecord(record);
    if (kind.kind === 'redrive-marker')
      throw new ProvisionError(
        `${positionText(record)} is a re-drive marker (of offset ${kind.deadLetterOffset}), not a dead letter`,
        'show the dead letter it names',
      );
    if (kind.kind === 'other')
      throw new ProvisionError(
        `${positionText(record)} is not a dead letter (no dlq_* headers)`,
        'list the dead letters with `npm run kafka -- dlq list`',
      );
    return summarizeDeadLetter(record, read.tally.redriveOf(offset) ?? null);
  });
}

export type RedriveOutcome =
  | { readonly offset: string; readonly outcome: 'redriven'; readonly to: string }
  | { readonly offset: string; readonly outcome: 'already-redriven'; readonly mark: RedriveMark }
  | { readonly offset: string; readonly outcome: 'refused'; readonly reason: string };

/**
 * Re-drives dead letters of a group to their source topics, exactly once each. The transactional
 * producer's id is one per DLQ: connecting fences any other re-drive of the same DLQ (its commit then
 * fails), and the markers are read after that, so no two re-drives both see a dead letter unmarked.
 * Each re-driven record and its marker commit together or not at all.
 */
export async function redriveDeadLetters(
  context: DlqContext,
  group: string,
  offsets: readonly string[],
): Promise<RedriveOutcome[]> {
  const dlqTopic = deadLetterTopicName(group);
  const sourceTopics = new Set(
    Object.values(context.catalog.topics)
      .filter((spec) => spec.role !== 'catalog')
      .map((spec) => spec.name),
  );
  const producer = createIdempotentProducer(context.kafka, {
    transactionalId: `${context.catalog.prefix}tributary.operator.dlq-redrive.${group}`,
  });
  let transaction: Transaction;
  try {
    await producer.connect();
    // kafkajs runs InitProducerId on the first transaction(): the fence. Only after it are the markers
    // read, so a re-drive that committed before it is seen, and one still in flight cannot commit.
    transaction = await producer.transaction();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw new ProvisionError(
      `cannot start the re-drive of ${dlqTopic}: ${(error as Error).message}`,
      'check the operator credentials, then try again',
    );
  }
  try {
    return await withAdmin(context, async (admin) => {
      const read = await readDlq(context, admin, group);
      const byOffset = new Map(read.records.map((record) => [record.offset, record]));
      const outcomes: RedriveOutcome[] = [];
      const chosen: Array<{ record: InboundRecord; message: ReturnType<typeof redriveMessage> }> = [];
      const partitionsOf = new Map<string, number>();
      for (const offset of offsets) {
        const record = byOffset.get(offset);
        const refuse = (reason: string) => outcomes.push({ offset, outcome: 'refused', reason });
        if (!record) {
          refuse(`no record at this offset (the DLQ ends at ${read.endOffset})`);
          continue;
        }
        const kind = classifyDlqRecord(record);
        if (kind.kind === 'redrive-marker') {
          refuse(`a re-drive marker (of offset ${kind.deadLetterOffset}), not a dead letter`);
          continue;
        }
        const mark = read.tally.redriveOf(offset);
        if (mark) {
          outcomes.push({ offset, outcome: 'already-redriven', mark });
          continue;
        }
        let message: ReturnType<typeof redriveMessage>;
        try {
          message = redriveMessage(record);
        } catch (error) {
          if (!(error instanceof RedriveRefused)) throw error;
          refuse(error.message);
          continue;
        }
        if (!sourceTopics.has(message.topic)) {
          refuse(
            `its source topic ${message.topic} is not an event topic of the catalog (prefix '${context.catalog.prefix}')`,
          );
          continue;
        }
        if (!partitionsOf.has(message.topic)) {
          const metadata = await admin.fetchTopicMetadata({ topics: [message.topic] });
          partitionsOf.set(message.topic, metadata.topics[0]?.partitions.length ?? 0);
        }
        if (message.partition >= partitionsOf.get(message.topic)!) {
          refuse(`${message.topic} has no partition ${message.partition}`);
          continue;
        }
        chosen.push({ record, message });
        outcomes.push({ offset, outcome: 'redriven', to: '' });
      }
      if (chosen.length === 0) {
        await transaction.abort().catch(() => undefined);
        return outcomes;
      }

      const at = (context.now ?? (() => new Date()))();
      const landed = new Map<string, string>();
      try {
        const markers = [];
        for (const { record, message } of chosen) {
          const [metadata] = await transaction.send({
            topic: message.topic,
            acks: -1,
            messages: [
              { partition: message.partition, key: message.key, value: message.value, headers: message.headers },
            ],
          });
          const to = { topic: message.topic, partition: message.partition, offset: metadata?.baseOffset ?? '-1' };
          landed.set(record.offset, positionText(to));
          markers.push(redriveMarkerMessage(record, to, at));
        }
        await transaction.send({
          topic: dlqTopic,
          acks: -1,
          messages: markers.map((marker) => ({ ...marker, partition: DLQ_PARTITION })),
        });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw new ProvisionError(
          `the re-drive of ${dlqTopic} was not committed, nothing was re-driven: ${(error as Error).message}`,
          'another re-drive of this DLQ may be running; try again',
        );
      }
      return outcomes.map((outcome) =>
        outcome.outcome === 'redriven' ? { ...outcome, to: landed.get(outcome.offset)! } : outcome,
      );
    });
  } catch (error) {
    // A failure before the transaction's own handling (reading the DLQ, metadata): nothing was sent.
    await transaction.abort().catch(() => undefined);
    throw error;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

export interface DlqDepth {
  readonly group: string;
  readonly topic: string;
  readonly deadLetters: number;
  readonly redriven: number;
  readonly depth: number;
}

/** Every group's DLQ: dead letters, re-driven, and the depth (those still waiting). */
export async function dlqDepths(context: DlqContext): Promise<DlqDepth[]> {
  return withAdmin(context, async (admin) => {
    const depths: DlqDepth[] = [];
    for (const group of Object.values(context.catalog.groups)) {
      const { topic, tally } = await readDlq(context, admin, group);
      depths.push({ group, topic, deadLetters: tally.deadLetters, redriven: tally.redriven, depth: tally.depth });
    }
    return depths;
  });
}

// ---------------------------------------------------------------- output

const shortType = (type: string | null) => (type === null ? '(no ce_type)' : type.slice(type.lastIndexOf('.') + 1));

/** One line of `dlq list`, tab separated: offset, state, failed at, source, event, reason. */
export function formatListLine(summary: DeadLetterSummary): string {
  const { source } = summary;
  return [
    summary.dlq.offset,
    summary.redriven ? 're-driven' : 'waiting',
    summary.failedAt ?? '-',
    `${source.topic ?? '?'}/${source.partition ?? '?'}/${source.offset ?? '?'}`,
    `${shortType(summary.eventType)} ${summary.eventId ?? '(no ce_id)'}`,
    (summary.reason ?? '(no reason)').replace(/\s+/g, ' '),
  ].join('\t');
}

/** `dlq show`: every field, then the event decoded (or why it does not decode). */
export function formatDeadLetter(summary: DeadLetterSummary): string {
  const { source, redriven } = summary;
  const lines = [
    ['dead letter', positionText(summary.dlq)],
    ['reason', summary.reason ?? '(none)'],
    ['error class', summary.errorClass ?? '(none)'],
    ['source', `${source.topic ?? '?'}/${source.partition ?? '?'}/${source.offset ?? '?'}`],
    ['group', summary.consumerGroup ?? '(none)'],
    ['failed at', summary.failedAt ?? '(unknown)'],
    ['key', summary.key ?? '(none)'],
    ['event', `${summary.eventType ?? '(no ce_type)'} ${summary.eventId ?? '(no ce_id)'}`],
    [
      're-driven',
      redriven
        ? `to ${redriven.redrivenTo} at ${redriven.redrivenAt} (marker at offset ${redriven.markerOffset})`
        : 'no',
    ],
    ['value', summary.event === null ? (summary.decodeProblem ?? '(none)') : `${summary.valueBytes} bytes, decoded:`],
  ].map(([label, text]) => `${label!.padEnd(12)} ${text}`);
  if (summary.event !== null) lines.push(JSON.stringify(summary.event, null, 2));
  return lines.join('\n');
}

export function formatRedriveOutcome(dlqTopic: string, outcome: RedriveOutcome): string {
  const where = `${dlqTopic}/${DLQ_PARTITION}/${outcome.offset}`;
  switch (outcome.outcome) {
    case 'redriven':
      return `re-driven ${where} -> ${outcome.to}`;
    case 'already-redriven':
      return `skipped ${where}: already re-driven to ${outcome.mark.redrivenTo} at ${outcome.mark.redrivenAt}`;
    case 'refused':
      return `refused ${where}: ${outcome.reason}`;
  }
}
