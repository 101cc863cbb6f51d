// Proves that batch requests arriving together share a Kafka transaction and that each still lands
// whole, on the real broker: with one transactional producer, 40 batches sent at once are all 202,
// every event sits at the offset its answer reports, and records of different batches sit next to each
// other in a partition. A transaction's end writes a commit marker into every partition it wrote, taking
// an offset, so two records of one producer's transactions with consecutive offsets were in one.
import { createTestDatabase, headersOf, testBrokers, uniqueName, type TestDatabase } from '@tributary/testing';
import {
  inference,
  keyRepository,
  post,
  readPartitionUntil,
  scope,
  startGateway,
  type RunningGateway,
} from './gateway-harness';

const BATCHES = 40;
const EVENTS_PER_BATCH = 3;

interface Landed {
  readonly batch: number;
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly eventId: string;
}

describe('batches arriving together', () => {
  let database: TestDatabase;
  let gateway: RunningGateway;
  let key: string;

  beforeAll(async () => {
    database = await createTestDatabase('gateway');
    const keys = await keyRepository(database.url);
    key = (await keys.repository.create(scope('producer-batches'))).key;
    await keys.close();
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('gw')}.`,
        GATEWAY_TRANSACTIONAL_PRODUCERS: '1',
        GATEWAY_INSTANCE_ID: uniqueName('batches'),
      },
      'gateway-batches',
    );
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await database?.drop();
  });

  it('share transactions, and every event lands at the offset its answer reports', async () => {
    const url = `${gateway.baseUrl}/events/batch`;
    // Warm: the topics exist and the key's look-up is cached before the burst.
    expect((await post(url, { events: [{ type: 'InferenceCompleted', data: inference() }] }, key)).status).toBe(202);
    const batches = Array.from({ length: BATCHES }, () =>
      Array.from({ length: EVENTS_PER_BATCH }, () => ({ type: 'InferenceCompleted', data: inference() })),
    );
    const replies = await Promise.all(batches.map((events) => post(url, { events }, key)));
    expect(replies.map((reply) => reply.status)).toEqual(batches.map(() => 202));

    const landed: Landed[] = replies.flatMap((reply, batch) =>
      (reply.body.results as Array<{ topic: string; partition: number; offset: string; eventId: string }>).map(
        (result) => ({ batch, ...result, offset: BigInt(result.offset) }),
      ),
    );
    expect(landed.map((event) => event.eventId)).toEqual(batches.flat().map((event) => event.data.eventId));

    const byPartition = new Map<string, Landed[]>();
    for (const event of landed) {
      const key = `${event.topic}\u0000${event.partition}`;
      byPartition.set(key, [...(byPartition.get(key) ?? []), event]);
    }
    let shared = 0;
    for (const events of byPartition.values()) {
      const { topic, partition } = events[0]!;
      const last = events.reduce((most, event) => (event.offset > most ? event.offset : most), -1n);
      // Read committed, as every consumer reads: each reported offset holds its own event.
      const messages = await readPartitionUntil(
        process.env,
        topic,
        partition,
        (message) => BigInt(message.offset) >= last,
      );
      const idAt = new Map(messages.map((message) => [BigInt(message.offset), headersOf(message).ce_id]));
      for (const event of events) expect(idAt.get(event.offset)).toBe(event.eventId);
      const sorted = [...events].sort((left, right) => (left.offset < right.offset ? -1 : 1));
      for (let index = 1; index < sorted.length; index += 1) {
        const [before, after] = [sorted[index - 1]!, sorted[index]!];
        if (after.offset === before.offset + 1n && after.batch !== before.batch) shared += 1;
      }
    }
    expect(shared).toBeGreaterThan(0);
  });
});
