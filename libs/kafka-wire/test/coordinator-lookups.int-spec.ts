// Proves, against a real broker, that a transactional producer asks for its coordinators once rather
// than before every request to one: kafkajs's own lookup sends FindCoordinator four times in each
// transaction with offsets (AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn), and the
// remembered lookup (installKafkaWireFastPaths) twice in all, one per coordinator. Every record still
// lands and every offset is still committed.
import type { Kafka, Producer } from 'kafkajs';
import { eventually, testKafka, uniqueName, withAdmin } from '@tributary/testing';
import { installKafkajsCoordinators } from '../src/kafkajs-coordinators';

const TRANSACTIONS = 5;

describe('coordinator lookups of a transactional producer', () => {
  const topic = uniqueName('coordinators');
  const groupId = uniqueName('coordinators-group');
  let kafka: Kafka;

  beforeAll(async () => {
    await withAdmin((admin) =>
      admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] }),
    );
    kafka = testKafka('coordinators-spec');
    // The group exists and its coordinator has loaded it (a broker fresh from its start may answer
    // COORDINATOR_NOT_AVAILABLE at first, which kafkajs 2.2.4's sendOffsets does not retry).
    await eventually(() =>
      withAdmin((admin) => admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] })),
    );
  });

  /** Runs TRANSACTIONS transactions, each a record and an offset, and counts the FindCoordinator requests sent. */
  async function lookupsOver(transactionalId: string, offsetFrom: number): Promise<number> {
    const producer: Producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    let lookups = 0;
    producer.on(producer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'GroupCoordinator') lookups += 1;
    });
    await producer.connect();
    try {
      for (let i = 0; i < TRANSACTIONS; i += 1) {
        const transaction = await producer.transaction();
        await transaction.send({ topic, messages: [{ key: transactionalId, value: `record ${i}` }] });
        await transaction.sendOffsets({
          consumerGroupId: groupId,
          topics: [{ topic, partitions: [{ partition: 0, offset: String(offsetFrom + i + 1) }] }],
        });
        await transaction.commit();
      }
    } finally {
      await producer.disconnect();
    }
    return lookups;
  }

  it('asks before every coordinator request with kafkajs own lookup, and once per coordinator with the fast path', async () => {
    const own = await lookupsOver(uniqueName('coordinators-own'), 0);
    installKafkajsCoordinators();
    const remembered = await lookupsOver(uniqueName('coordinators-remembered'), TRANSACTIONS);

    // The first transaction's InitProducerId asks for the transaction coordinator too.
    expect(own).toBeGreaterThanOrEqual(4 * TRANSACTIONS);
    expect(remembered).toBe(2);

    const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    expect(committed[0]!.partitions[0]!.offset).toBe(String(2 * TRANSACTIONS));
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    // Each transaction's record and its commit marker.
    expect(ends[0]!.high).toBe(String(4 * TRANSACTIONS));
  });
});
