// Proves the oversize case of issue 18 on a real broker and PostgreSQL: an inference the schema accepts
// (1,000 attributions to 256-character contribution ids in three-byte UTF-8 characters, about 770 KB on
// the wire) whose decision would be larger than the attributions topic's max.message.bytes goes to the
// attribution group's DLQ as `decision-too-large`, naming the size and the limit; the valid inferences
// before and after it on the same partition are decided, and the service keeps running.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
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
} from '@tributary/contracts';
import { DLQ_HEADERS, ensureTopics, keyPartition } from '@tributary/messaging';
import {
  createTestDatabase,
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
const ATTRIBUTIONS = 1_000;
const ID_LENGTH = 256;
/** U+8CA2, three bytes in UTF-8: the most bytes one UTF-16 code unit (what the schema's maxLength counts) can take. */
const WIDE = '貢';

/** A contribution id at the schema's maximum length, unique by its index, almost all of it three-byte characters. */
const wideId = (index: number) => {
  const head = `c${index}-`;
  return head + WIDE.repeat(ID_LENGTH - head.length);
};

/** Ids whose records land on the given partition (Kafka's default partitioner, as every producer uses). */
function idsOnPartition(partition: number, stem: string, count: number): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n += 1)
    if (keyPartition(`${stem}-${n}`, PARTITIONS) === partition) ids.push(`${stem}-${n}`);
  return ids;
}

describe('an inference whose decision would not fit its topic', () => {
  const prefix = `${uniqueName('big')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  let database: TestDatabase;
  let producer: Producer;
  let instance: ServiceProcess;
  const T0 = Date.now() - 60_000;

  const send = (topic: string, records: Array<{ type: EventType; data: unknown }>) =>
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
  const inference = (inferenceId: string, attributions: InferenceCompleted['attributions']): InferenceCompleted => ({
    eventId: `evt-${randomUUID()}`,
    inferenceId,
    occurredAt: BigInt(T0),
    modelId: 'model-1',
    agentId: null,
    consumerId: 'carol',
    asset: 'USDC',
    feeMinor: 1_000_000n,
    attributions,
    method: 'influence/v1',
    latencyMs: null,
  });

  beforeAll(async () => {
    database = await createTestDatabase('attribution_big');
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await publishSmallWorld(send, topics, T0);
    instance = await startAttribution(database.url, prefix, 'attribution-big', {
      // Few attempts: on code that retries a record it can never produce, the service gives up (and exits) within the test's wait.
      ATTRIBUTION_ATTEMPTS_MAX: '3',
    });
  }, 180_000);

  afterAll(async () => {
    await instance?.stop();
    await producer?.disconnect();
    await database?.drop();
  });

  it('goes to the DLQ as decision-too-large naming size and limit, and the partition goes on', async () => {
    const [hugeId, beforeId, afterId, laterId] = idsOnPartition(2, `inference-${randomUUID().slice(0, 8)}`, 4) as [
      string,
      string,
      string,
      string,
    ];
    const wide = Array.from({ length: ATTRIBUTIONS }, (_, index) => ({
      contributionId: wideId(index),
      scorePpm: 1_000n,
    }));
    const huge = inference(hugeId, wide);
    // The inference itself is accepted by the schema and fits its own topic...
    const hugeRecord = toRecord('InferenceCompleted', huge, { source: 'urn:tributary:test', topicPrefix: prefix });
    expect(hugeRecord.value.length).toBeGreaterThan(700_000);
    expect(hugeRecord.value.length).toBeLessThan(1_000_000);
    const small = (id: string) => inference(id, [{ contributionId: 'known-1', scorePpm: 500_000n }]);
    // ...and sits between valid inferences of the same partition, all in one batch.
    await send(topics.inferences.name, [
      { type: 'InferenceCompleted', data: small(beforeId) },
      { type: 'InferenceCompleted', data: huge },
      { type: 'InferenceCompleted', data: small(afterId) },
    ]);

    const dead = await readTopic(
      deadLetterTopicName(groups.attribution),
      (message) => message.key?.toString() === hugeId,
      90_000,
    );
    const letter = dead.find((message) => message.key?.toString() === hugeId);
    expect(letter).toBeDefined();
    const reason = letter!.headers![DLQ_HEADERS.reason]!.toString();
    expect(reason).toMatch(/^decision-too-large: /);
    // The size first, then the limit: "... is <size> bytes ..., more than the 1048576 bytes ... of <topic>".
    expect(Number(/ (\d+) bytes/.exec(reason)?.[1])).toBeGreaterThan(1_048_576);
    expect(reason).toContain('1048576');
    expect(reason).toContain(topics.attributions.name);
    // The dead letter is the inference as it was published, with where it came from.
    expect(letter!.value!.equals(hugeRecord.value)).toBe(true);
    expect(letter!.headers![DLQ_HEADERS.sourceTopic]!.toString()).toBe(topics.inferences.name);

    // A later inference on the same partition is decided too: the partition was not stopped.
    await send(topics.inferences.name, [{ type: 'InferenceCompleted', data: small(laterId) }]);
    const decided = await readTopic(topics.attributions.name, (message) => message.key?.toString() === laterId, 60_000);
    const ids = decided.map((message) => {
      const decoded = fromRecord(message.value, headersOf(message));
      return decoded.type === 'InferenceAttributed' ? decoded.data.inferenceId : '';
    });
    expect(ids).toEqual(expect.arrayContaining([beforeId, afterId, laterId]));
    expect(ids).not.toContain(hugeId);

    expect(instance.child.exitCode).toBeNull();
    expect(instance.output()).not.toMatch(/failed \d+ times/);
    const port = Number(/explain at http:\/\/[^:]+:(\d+)/.exec(instance.output())![1]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('attribution_records_rejected_total{field="decision-too-large"} 1');
  }, 240_000);
});
