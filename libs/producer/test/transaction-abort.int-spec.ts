// Proves that a transactional send Kafka itself refuses part of is aborted whole: the broker appends the
// records of one topic and refuses those of another (larger than that topic's max.message.bytes), and a
// read_committed consumer (every Tributary consumer) never sees the appended ones. The gateway's batch
// endpoint and TributaryProducer.publishBatch both send through this RecordSender.
import { toRecord, type OutboundRecord } from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';
import { readTopic, uniqueName, withAdmin, testClientOptions } from '@tributary/testing';
import { RecordSender } from '../src';

describe('a transaction Kafka refuses part of', () => {
  const accepting = uniqueName('tx-accepting');
  const refusing = uniqueName('tx-refusing');
  let sender: RecordSender;

  beforeAll(async () => {
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: accepting, numPartitions: 1, replicationFactor: 1 },
          // Smaller than any of our records: the broker refuses them with MESSAGE_TOO_LARGE.
          {
            topic: refusing,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: [{ name: 'max.message.bytes', value: '64' }],
          },
        ],
      }),
    );
    sender = await RecordSender.connect({
      ...testClientOptions('tx-abort-spec'),
      ackTimeoutMs: 10_000,
      transactionalId: uniqueName('tx-abort-spec'),
    });
  });

  afterAll(async () => {
    await sender?.disconnect().catch(() => undefined);
  });

  const recordFor = (topic: string, eventId: string): OutboundRecord => {
    const record = toRecord(
      'InferenceCompleted',
      { ...SAMPLE_EVENTS.InferenceCompleted, eventId },
      { source: 'urn:tributary:tx-abort-spec' },
    );
    return { ...record, topic };
  };

  it('throws, and none of its records becomes visible, though the broker had appended some', async () => {
    const refused = [
      recordFor(accepting, 'aborted-1'),
      recordFor(accepting, 'aborted-2'),
      recordFor(refusing, 'aborted-3'),
    ];
    await expect(sender.send(refused)).rejects.toThrow();
    await sender.disconnect();

    // Another sender, with a transactional id of its own: its transaction commits. (The first id's abort
    // never ends: its marker does not fit the 64-byte topic. send-after-failure.int-spec.ts sends again
    // with the same sender.)
    sender = await RecordSender.connect({
      ...testClientOptions('tx-abort-spec'),
      ackTimeoutMs: 10_000,
      transactionalId: uniqueName('tx-abort-spec'),
    });
    const [committed] = await sender.send([recordFor(accepting, 'committed-1')]);

    const seen = await readTopic(accepting, (message) => message.headers?.ce_id?.toString() === 'committed-1', 15_000);
    expect(seen.map((message) => message.headers?.ce_id?.toString())).toEqual(['committed-1']);
    // The aborted records took offsets 0 and 1 (and the abort marker offset 2): they were written, then aborted.
    expect(BigInt(committed!.offset)).toBeGreaterThanOrEqual(3n);
  });
});
