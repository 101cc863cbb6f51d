// Proves the duplicate case of issue 18 for the decider on a real broker and PostgreSQL: the same
// InferenceCompleted published again (a producer retry) is skipped and counted in
// duplicates_skipped_total{topic}; the same inferenceId with another fee is not dropped silently but goes
// to the attribution group's DLQ naming where the id was decided and both SHA-256 content hashes, while the
// decision of the first stands. Within one batch the first record of an id wins the same way, and a
// decision stored before content hashes were kept (NULL) takes any repeat as a re-delivery. An inference
// written raw and re-delivered Confluent-framed (or the other way round) is the same content: a repeat.
import { createHash, randomUUID } from 'node:crypto';
import type { KafkaMessage, Producer } from 'kafkajs';
import {
  catalogFor,
  deadLetterTopicName,
  deadLetterTopicSpec,
  fromRecord,
  toRecord,
  topicCatalog,
  type EventData,
  type EventType,
  type InferenceCompleted,
  type SchemaIdBook,
} from '@tributary/contracts';
import { DLQ_HEADERS, ensureTopics, keyPartition } from '@tributary/messaging';
import {
  createTestDatabase,
  testRegistrySchemaIds,
  readTopic,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
  headersOf,
} from '@tributary/testing';
import { publishSmallWorld, startAttribution } from './harness';

const PARTITIONS = 6;

const sha256 = (value: Buffer) => createHash('sha256').update(value).digest('hex');

describe('an inferenceId seen again', () => {
  const prefix = `${uniqueName('dup')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  const dlq = deadLetterTopicName(groups.attribution);
  let database: TestDatabase;
  let producer: Producer;
  let instance: ServiceProcess;
  const T0 = Date.now() - 60_000;
  const stem = `inference-${randomUUID().slice(0, 8)}`;
  let serial = 0;
  const nextId = () => `${stem}-${(serial += 1)}`;

  const recordOf = (data: InferenceCompleted, schemaIds: SchemaIdBook | null = null) =>
    toRecord('InferenceCompleted', data, { source: 'urn:tributary:test', topicPrefix: prefix, schemaIds });
  /** Publishes records as built (so a re-publish is byte for byte the same); returns each one's offset. */
  const publish = async (records: ReadonlyArray<ReturnType<typeof recordOf>>): Promise<string[]> => {
    const offsets: string[] = [];
    // One send per record would split them over requests; one send keeps them adjacent on their partition.
    const sent = await producer.send({
      topic: topics.inferences.name,
      acks: -1,
      messages: records.map((record) => ({
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: String(T0),
      })),
    });
    // All records of a send here share one key, hence one partition: offsets follow the base offset.
    const base = BigInt(sent[0]!.baseOffset!);
    for (let index = 0; index < records.length; index += 1) offsets.push(String(base + BigInt(index)));
    return offsets;
  };
  const sendTables = (topic: string, records: Array<{ type: EventType; data: unknown }>) =>
    producer.send({
      topic,
      acks: -1,
      messages: records.map(({ type, data }) => {
        const record = toRecord(type, data as EventData<typeof type>, {
          source: 'urn:tributary:test',
          topicPrefix: prefix,
        });
        return { key: record.key, value: record.value, headers: record.headers, timestamp: String(T0) };
      }),
    });
  const inference = (inferenceId: string, feeMinor: bigint): InferenceCompleted => ({
    eventId: `evt-${randomUUID()}`,
    inferenceId,
    occurredAt: BigInt(T0),
    modelId: 'model-1',
    agentId: null,
    consumerId: 'carol',
    asset: 'USDC',
    feeMinor,
    attributions: [{ contributionId: 'known-1', scorePpm: 500_000n }],
    method: 'influence/v1',
    latencyMs: null,
  });

  /** Every decision on the attributions topic (read_committed), as inferenceId -> fees decided; waits for `until` first. */
  /**
   * Both reads of a topic together, each record once: a second read from the start may take the partitions
   * in another order, so it is not a superset of the first (a record is named by key and offset, since
   * one id's records share a partition).
   */
  const union = (first: KafkaMessage[], second: KafkaMessage[]) => {
    const seen = new Set<string>();
    return [...first, ...second].filter((message) => {
      const name = `${message.key?.toString()}@${message.offset}`;
      return !seen.has(name) && seen.add(name);
    });
  };
  const decidedFees = async (until: string) => {
    const messages = await readTopic(topics.attributions.name, (message) => message.key?.toString() === until, 60_000);
    // Read on a little: a second decision of an id would come after the marker only if the code made one.
    const more = await readTopic(topics.attributions.name, messages.length + 1, 3_000);
    const fees = new Map<string, bigint[]>();
    for (const message of union(messages, more)) {
      const decoded = fromRecord(message.value, headersOf(message));
      if (decoded.type !== 'InferenceAttributed') continue;
      const fee = decoded.data.postings.reduce((sum, posting) => sum + posting.amountMinor, 0n);
      fees.set(decoded.data.inferenceId, [...(fees.get(decoded.data.inferenceId) ?? []), fee]);
    }
    return fees;
  };
  /**
   * The attribution group's dead letters (records with a dlq_reason; re-drive markers have none), by key,
   * once one keyed `until` arrived or `waitMs` passed (a short wait where none is expected: the marker's
   * decision committed after, so any dead letter before it is readable by then).
   */
  const deadLetters = async (until: string, waitMs = 60_000) => {
    const messages = await readTopic(dlq, (message) => message.key?.toString() === until, waitMs);
    const more = await readTopic(dlq, messages.length + 1, 3_000);
    const letters = union(messages, more).filter((message) => message.headers?.[DLQ_HEADERS.reason] !== undefined);
    const byKey = new Map<string, KafkaMessage[]>();
    for (const letter of letters)
      byKey.set(letter.key!.toString(), [...(byKey.get(letter.key!.toString()) ?? []), letter]);
    return byKey;
  };
  const metricsText = async () => {
    const port = Number(/explain at http:\/\/[^:]+:(\d+)/.exec(instance.output())![1]);
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  };
  const duplicatesCounted = (text: string) =>
    Number(
      new RegExp(
        `^duplicates_skipped_total\\{topic="${topics.inferences.name.replace(/\./g, '\\.')}"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1] ?? 0,
    );
  /** Publishes a fresh inference and waits for its decision: every record published before it on its partition was handled. */
  const marker = async (partitionOf: string) => {
    const id = idOnPartitionOf(partitionOf);
    await publish([recordOf(inference(id, 1_000n))]);
    return id;
  };
  const idOnPartitionOf = (other: string) => {
    const partition = keyPartition(other, PARTITIONS);
    for (;;) {
      const id = nextId();
      if (keyPartition(id, PARTITIONS) === partition) return id;
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase('attribution_dup');
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await publishSmallWorld(sendTables, topics, T0);
    instance = await startAttribution(database.url, prefix, 'attribution-dup');
  }, 180_000);

  afterAll(async () => {
    await instance?.stop();
    await producer?.disconnect();
    await database?.drop();
  });

  it('decides the same InferenceCompleted published twice once, and counts the repeat', async () => {
    const id = nextId();
    const record = recordOf(inference(id, 1_000_000n));
    await publish([record]);
    await readTopic(topics.attributions.name, (message) => message.key?.toString() === id, 60_000);
    await publish([record]);
    const after = await marker(id);

    const fees = await decidedFees(after);
    expect(fees.get(id)).toEqual([1_000_000n]);
    expect((await deadLetters(id, 8_000)).get(id)).toBeUndefined();
    expect(duplicatesCounted(await metricsText())).toBe(1);
  }, 180_000);

  it('sends the same inferenceId with another fee to the DLQ with both hashes, and keeps the first decision', async () => {
    const id = nextId();
    const first = recordOf(inference(id, 1_000_000n));
    const other = recordOf(inference(id, 2_000_000n));
    const [firstOffset] = await publish([first]);
    await readTopic(topics.attributions.name, (message) => message.key?.toString() === id, 60_000);
    const [otherOffset] = await publish([other]);
    const after = await marker(id);

    const fees = await decidedFees(after);
    expect(fees.get(id)).toEqual([1_000_000n]);
    const letters = (await deadLetters(id)).get(id) ?? [];
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter.value!.equals(other.value)).toBe(true);
    expect(letter.headers![DLQ_HEADERS.sourceOffset]!.toString()).toBe(otherOffset);
    const partition = keyPartition(id, PARTITIONS);
    expect(letter.headers![DLQ_HEADERS.reason]!.toString()).toBe(
      `inferenceId: ${id} was already decided from ${topics.inferences.name}[${partition}]@${firstOffset} with content sha256:${sha256(first.value)}; ` +
        `this record's content is sha256:${sha256(other.value)}, and one id cannot name two inferences`,
    );
    const text = await metricsText();
    expect(text).toContain('attribution_records_rejected_total{field="inferenceId"} 1');
    expect(duplicatesCounted(text)).toBe(1);
  }, 180_000);

  it('lets the first record of an id in one batch win: a copy is counted, other content goes to the DLQ', async () => {
    const id = nextId();
    const first = recordOf(inference(id, 3_000_000n));
    const other = recordOf(inference(id, 4_000_000n));
    // One send, one partition: the three records arrive in one batch (or in order over two; the outcome is the same).
    const [firstOffset] = await publish([first, other, first]);
    const after = await marker(id);

    const fees = await decidedFees(after);
    expect(fees.get(id)).toEqual([3_000_000n]);
    const letters = (await deadLetters(id)).get(id) ?? [];
    expect(letters).toHaveLength(1);
    expect(letters[0]!.value!.equals(other.value)).toBe(true);
    expect(letters[0]!.headers![DLQ_HEADERS.reason]!.toString()).toContain(
      `was already decided from ${topics.inferences.name}[${keyPartition(id, PARTITIONS)}]@${firstOffset} with content sha256:${sha256(first.value)}`,
    );
    const text = await metricsText();
    expect(text).toContain('attribution_records_rejected_total{field="inferenceId"} 2');
    expect(duplicatesCounted(text)).toBe(2);
  }, 180_000);

  it('takes any repeat of a decision stored without a content hash (before hashes were kept) as a re-delivery', async () => {
    const id = nextId();
    await publish([recordOf(inference(id, 5_000_000n))]);
    await readTopic(topics.attributions.name, (message) => message.key?.toString() === id, 60_000);
    const { Client } = await import('pg');
    const client = new Client({ connectionString: database.url, options: '-c search_path=attribution' });
    await client.connect();
    try {
      const updated = await client.query('UPDATE decisions SET content_hash = NULL WHERE inference_id = $1', [id]);
      expect(updated.rowCount).toBe(1);
    } finally {
      await client.end();
    }
    await publish([recordOf(inference(id, 6_000_000n))]);
    const after = await marker(id);

    const fees = await decidedFees(after);
    expect(fees.get(id)).toEqual([5_000_000n]);
    expect((await deadLetters(id, 8_000)).get(id)).toBeUndefined();
    expect(duplicatesCounted(await metricsText())).toBe(3);
    expect(instance.child.exitCode).toBeNull();
  }, 180_000);

  it('decides an inference written raw and re-delivered framed (and the other way round) once', async () => {
    const before = duplicatesCounted(await metricsText());
    // The ids the service installed from the test stack's registry: it refuses a framed record whose id is another's.
    const ids = await testRegistrySchemaIds();
    for (const [first, again] of [
      [null, ids],
      [ids, null],
    ] as const) {
      const id = nextId();
      const data = inference(id, 7_000_000n);
      await publish([recordOf(data, first)]);
      await readTopic(topics.attributions.name, (message) => message.key?.toString() === id, 60_000);
      await publish([recordOf(data, again)]);
      const after = await marker(id);
      expect((await decidedFees(after)).get(id)).toEqual([7_000_000n]);
      expect((await deadLetters(id, 8_000)).get(id)).toBeUndefined();
    }
    expect(duplicatesCounted(await metricsText())).toBe(before + 2);
  }, 180_000);
});
