// Proves, on the real broker, that the transactional processor rides out a stopped consumer inside the
// process: a batch that fails past its attempts (what a broker dying under it looks like) stops the
// kafkajs consumer, a fresh consumer claims the partition again (a new fence), and the batch's outputs
// and offset are committed once. A failure that never ends spends the bounded restarts and only then
// reaches onFatal (where a service exits), with nothing output and no offset committed.
// And that a handler handing back its outputs before its own store is durable (ProcessedBatch.stored)
// has them sent meanwhile, but committed only once the store is: a store that fails aborts them.
import { Partitioners, type KafkaMessage } from 'kafkajs';
import { kafkaEnv } from '@tributary/config';
import { eventually, readTopic, testBrokers, testKafka, uniqueName, withAdmin } from '@tributary/testing';
import { TransactionalProcessor, type TransactionalHandler } from '../src/transactional-processor';

const RECORDS = 3;

async function setUp() {
  const input = uniqueName('t.restart-in');
  const output = uniqueName('t.restart-out');
  const groupId = uniqueName('g.restart');
  await withAdmin((admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [input, output].map((topic) => ({ topic, numPartitions: 1 })),
    }),
  );
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic: input,
    acks: -1,
    messages: Array.from({ length: RECORDS }, (_, index) => ({ key: `k${index}`, value: `v${index}` })),
  });
  await producer.disconnect();
  return { input, output, groupId };
}

function processorOf(
  names: { input: string; groupId: string },
  handler: TransactionalHandler,
  onFatal: (error: Error) => void,
) {
  return new TransactionalProcessor(
    {
      brokers: testBrokers(),
      clientId: 'restart-spec',
      security: kafkaEnv(process.env).kafkaSecurity,
      groupId: names.groupId,
      inputTopic: names.input,
      transactionalIdPrefix: names.groupId,
      batchSizeMax: 10,
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      sessionTimeoutMs: 6_000,
      rebalanceTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
      partitionsConsumedConcurrently: 1,
      transactionTimeoutMs: 30_000,
      attemptsMax: 2,
      retryBackoffMs: 50,
      restartsMax: 2,
      onFatal,
    },
    handler,
  );
}

const committedOffset = async (groupId: string, topic: string) =>
  (await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] })))[0]!.partitions[0]!.offset;

/** Runs the processor until the group committed the offset past every input record, then stops it. */
async function runUntilCommitted(processor: TransactionalProcessor, names: { groupId: string; input: string }) {
  await processor.start();
  try {
    await eventually(
      async () => expect(await committedOffset(names.groupId, names.input)).toBe(String(RECORDS)),
      60_000,
    );
  } finally {
    await processor.stop();
  }
}

describe('the transactional processor when its consumer stops', () => {
  it('starts a fresh consumer that claims the partition again and commits the batch once', async () => {
    const names = await setUp();
    // Two attempts fail on the first consumer (it stops), one more on the fresh one, then the batch goes through.
    let failuresLeft = 3;
    const claims: string[] = [];
    const fatal: Error[] = [];
    const processor = processorOf(
      names,
      {
        claimed: async (_partition, claimToken) => void claims.push(claimToken),
        process: async (records) => {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('the database went away');
          }
          return {
            outputs: records.map((record) => ({
              topic: names.output,
              partition: 0,
              key: record.key!.toString(),
              value: record.value!,
              headers: {},
            })),
            rejections: [],
          };
        },
      },
      (error) => fatal.push(error),
    );
    await runUntilCommitted(processor, names);
    const outputs = await readTopic(names.output, RECORDS + 1, 5_000);
    expect(outputs.map((message) => message.value!.toString())).toEqual(['v0', 'v1', 'v2']);
    expect(fatal).toEqual([]);
    expect(failuresLeft).toBe(0);
    // The fresh consumer claimed the partition anew, fencing whatever the stopped one held.
    expect(new Set(claims).size).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('gives up through onFatal only once its restarts in a row are spent, committing nothing', async () => {
    const names = await setUp();
    let calls = 0;
    const fatal: Error[] = [];
    const processor = processorOf(
      names,
      {
        claimed: async () => undefined,
        process: async () => {
          calls += 1;
          throw new Error('the database stays away');
        },
      },
      (error) => fatal.push(error),
    );
    await processor.start();
    try {
      await eventually(() => expect(fatal).toHaveLength(1), 60_000);
    } finally {
      await processor.stop();
    }
    // Two attempts on the first consumer and on each of the two fresh ones.
    expect(calls).toBe(6);
    expect(fatal[0]!.message).toMatch(/failed 2 times at offset 0: the database stays away/);
    expect(await committedOffset(names.groupId, names.input)).toBe('-1');
    expect(await readTopic(names.output, 1, 3_000)).toEqual([]);
  }, 90_000);
});

/** The records of a topic as a read_uncommitted reader sees them: sent, whether committed or not. */
async function readUncommitted(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('test-reader'), readUncommitted: true });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await eventually(() => expect(messages.length).toBeGreaterThanOrEqual(count), 20_000);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describe("the transactional processor and its handler's own store", () => {
  const outputsOf = (names: { output: string }, records: readonly { key: Buffer | null }[], prefix: string) =>
    records.map((record) => ({
      topic: names.output,
      partition: 0,
      key: record.key!.toString(),
      value: Buffer.from(`${prefix}${record.key!.toString()}`),
      headers: {},
    }));

  it('sends the outputs while the store settles and commits them only after it', async () => {
    const names = await setUp();
    const seenWhileStoring: string[][] = [];
    const processor = processorOf(
      names,
      {
        claimed: async () => undefined,
        process: async (records) => ({
          outputs: outputsOf(names, records, 'out-'),
          rejections: [],
          stored: (async () => {
            // The outputs reach the log while the store is pending, and no read_committed reader sees them.
            seenWhileStoring.push((await readUncommitted(names.output, RECORDS)).map((m) => m.value!.toString()));
            expect(await readTopic(names.output, 1, 2_000)).toEqual([]);
          })(),
        }),
      },
      () => undefined,
    );
    await runUntilCommitted(processor, names);
    expect(seenWhileStoring).toEqual([['out-k0', 'out-k1', 'out-k2']]);
    const committed = await readTopic(names.output, RECORDS + 1, 5_000);
    expect(committed.map((message) => message.value!.toString())).toEqual(['out-k0', 'out-k1', 'out-k2']);
  }, 90_000);

  it('aborts the outputs already sent when the store fails, and commits the next attempt once', async () => {
    const names = await setUp();
    let attempt = 0;
    const processor = processorOf(
      names,
      {
        claimed: async () => undefined,
        process: async (records) => {
          attempt += 1;
          const prefix = `attempt${attempt}-`;
          return {
            outputs: outputsOf(names, records, prefix),
            rejections: [],
            stored:
              attempt > 1
                ? Promise.resolve()
                : (async () => {
                    // Fails only once the outputs are in the log: they must not be committed.
                    await readUncommitted(names.output, RECORDS);
                    throw new Error('the database lost the connection during COMMIT');
                  })(),
          };
        },
      },
      () => undefined,
    );
    await runUntilCommitted(processor, names);
    expect(attempt).toBe(2);
    const committed = await readTopic(names.output, RECORDS + 1, 5_000);
    expect(committed.map((message) => message.value!.toString())).toEqual([
      'attempt2-k0',
      'attempt2-k1',
      'attempt2-k2',
    ]);
  }, 90_000);
});
