// Proves, against a real broker, that OffsetsByTimestampReader answers what kafkajs's admin answers
// (per partition, the first offset stamped at or after a time, or the end offset where no record is),
// for several topics at once, with records stamped by the broker before and after the time asked for.
import type { Kafka } from 'kafkajs';
import { testKafka, uniqueName, withAdmin } from '@tributary/testing';
import { adminOffsetsByTimestamp, OffsetsByTimestampReader, type PartitionOffset } from '../src';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('offsets by timestamp of several topics at once', () => {
  const topics = [uniqueName('offsets-a'), uniqueName('offsets-b')];
  let kafka: Kafka;
  let reader: OffsetsByTimestampReader;
  let between: number;

  const byAdmin = (timestampMs: number) => withAdmin((admin) => adminOffsetsByTimestamp(admin, topics, timestampMs));
  const sorted = (offsets: readonly PartitionOffset[]) =>
    [...offsets].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);

  beforeAll(async () => {
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic, index) => ({
          topic,
          numPartitions: 3 - index,
          replicationFactor: 1,
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        })),
      }),
    );
    kafka = testKafka('offsets-spec');
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: topics[0]!,
        messages: [0, 1, 2].map((n) => ({ partition: 0, value: `early ${n}` })),
      });
      await producer.send({ topic: topics[1]!, messages: [{ partition: 1, value: 'early' }] });
      await sleep(50);
      between = Date.now();
      await sleep(50);
      await producer.send({
        topic: topics[0]!,
        messages: [
          { partition: 0, value: 'late' },
          { partition: 2, value: 'late' },
        ],
      });
      await producer.send({ topic: topics[1]!, messages: [{ partition: 0, value: 'late' }] });
    } finally {
      await producer.disconnect();
    }
    reader = new OffsetsByTimestampReader(kafka);
    await reader.connect();
  });

  afterAll(async () => {
    await reader?.disconnect();
  });

  it.each([
    ['before every record', () => 0],
    ['between the early and the late records', () => between],
    ['after every record', () => Date.now() + 60_000],
  ])('answers as the admin does for a time %s', async (_case, timestampOf) => {
    const timestampMs = timestampOf();
    const offsets = sorted(await reader.offsetsByTimestamp(topics, timestampMs));
    expect(offsets).toEqual(sorted(await byAdmin(timestampMs)));
    expect(offsets).toHaveLength(5);
  });

  it('finds the late records from the time between', async () => {
    const offsets = await reader.offsetsByTimestamp(topics, between);
    const at = (topic: string, partition: number) =>
      offsets.find((offset) => offset.topic === topic && offset.partition === partition)?.offset;
    // The first late record of each partition, or the end offset of a partition with none.
    expect([at(topics[0]!, 0), at(topics[0]!, 1), at(topics[0]!, 2)]).toEqual(['3', '0', '0']);
    expect([at(topics[1]!, 0), at(topics[1]!, 1)]).toEqual(['0', '1']);
  });
});
