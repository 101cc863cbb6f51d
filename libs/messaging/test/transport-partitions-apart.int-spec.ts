// Proves, on the real broker, that the batch transport runs each partition's batches apart from the
// others': kafkajs fetches again only once every batch of a fetch was handled, so without that one slow
// partition would hold back the records of all the others.
import { eventually, testKafka, uniqueName, withAdmin } from '@tributary/testing';
import { KafkaBatchTransport, transportOptionsFrom, type InboundBatch } from '../src';

describe('the batch transport with several partitions', () => {
  it("handles a partition's next batch while another partition's batch is still running", async () => {
    const topic = uniqueName('t.apart');
    const groupId = uniqueName('g.apart');
    await withAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] }));
    const producer = testKafka().producer();
    await producer.connect();
    const send = (partition: number, value: string) =>
      producer.send({ topic, acks: -1, messages: [{ partition, key: value, value }] });
    let release = () => undefined as void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    const transport = new KafkaBatchTransport({
      ...transportOptionsFrom(groupId, process.env),
      partitionsConsumedConcurrently: 2,
    });
    transport.addHandler(
      topic,
      async (batch: InboundBatch) => {
        // Partition 0's first batch runs until the end of the test, as a batch waiting on a lock does.
        if (batch.partition === 0) await released;
        handled.push(...batch.records.map((record) => record.value!.toString()));
      },
      true,
    );
    await send(0, 'slow');
    await send(1, 'first');
    let listenError: unknown;
    await transport.listen((error?: unknown) => void (listenError = error));
    expect(listenError).toBeUndefined();
    try {
      await eventually(() => expect(handled).toContain('first'), 30_000, 50);
      // Fetched and handled only if partition 1 need not wait for partition 0's batch.
      await send(1, 'second');
      await eventually(() => expect(handled).toContain('second'), 15_000, 50);
      expect(handled).not.toContain('slow');
      release();
      await eventually(() => expect([...handled].sort()).toEqual(['first', 'second', 'slow']), 30_000, 50);
    } finally {
      release();
      await transport.close();
      await producer.disconnect();
    }
    const committed = (await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] })))[0]!.partitions;
    expect(committed.map(({ partition, offset }) => `${partition}:${offset}`).sort()).toEqual(['0:1', '1:2']);
  }, 90_000);
});
