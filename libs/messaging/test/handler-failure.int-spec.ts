// Proves what the transport does with a handler that keeps failing (a database that is down), on the real
// broker: it retries the bounded number of times, then the service exits non-zero for its supervisor to
// restart, and the failing record's offset is not committed, so nothing is skipped.
import { Partitioners } from 'kafkajs';
import { catalogFor } from '@tributary/contracts';
import { eventually, startServiceProcess, testKafka, uniqueName, withAdmin } from '@tributary/testing';

describe('a handler that fails every attempt', () => {
  it('stops the service without committing past the failing record', async () => {
    const topic = uniqueName('t.failing');
    const groupId = catalogFor(uniqueName('g')).groups.ledgerProjector;
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }));
    await eventually(async () =>
      expect(
        (await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }))).topics[0]!.partitions[0]!.leader,
      ).toBeGreaterThanOrEqual(0),
    );
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'one' }, { value: 'boom' }, { value: 'three' }] });
    await producer.disconnect();

    const consumer = startServiceProcess(
      'libs/messaging/test/fixtures/failing-consumer.main.ts',
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        FIXTURE_TOPIC: topic,
        FIXTURE_GROUP: groupId,
        CONSUMER_BATCH_SIZE_MAX: '1',
        CONSUMER_HANDLER_ATTEMPTS_MAX: '3',
        CONSUMER_HANDLER_RETRY_BACKOFF_MS: '50',
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      },
      'failing-consumer',
    );
    await eventually(() => expect(consumer.child.exitCode ?? consumer.child.signalCode).not.toBeNull(), 60_000);

    expect(consumer.child.exitCode === 0).toBe(false);
    expect(consumer.output()).toContain('applied one');
    expect(consumer.output()).not.toContain('applied three');
    expect(consumer.output()).toContain('failed 3 times at offset 1');
    const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    expect(committed[0]!.partitions[0]!.offset).toBe('1');
  });
});
