// Proves what RecordSender (under TributaryProducer and the gateway) does with a send the broker refuses
// in part: it appends the records of one topic and refuses those of another (larger than that topic's
// max.message.bytes; an ACL refusing one topic does the same).
//
// - In a transaction the send throws and is aborted whole: a read_committed consumer (every Tributary
//   consumer) never sees the appended records.
// - The same sender's next send is written, at the offset its acknowledgement names. The attack:
//   kafkajs takes back the sequence numbers of the whole failed request, the appended records' too, so
//   the same producer's next record to that partition would carry the sequence number of one already
//   in the log; the broker takes it for a retry of that one, answers with its offset and writes
//   nothing. The caller would hold an acknowledgement for a record Kafka never stored. Tested without a
//   transaction (TributaryProducer's default) and with one, where the record it would be taken for is
//   even an aborted one.
import { toRecord, type OutboundRecord } from '@tributary/contracts';
import { type KafkaMessage } from 'kafkajs';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';
import { headersOf, readTopic, testClientOptions, uniqueName, withAdmin } from '@tributary/testing';
import { RecordSender } from '../src';

describe.each([
  ['without a transaction', false],
  ['in transactions', true],
])('a send the broker refuses in part, %s', (_label, transactional) => {
  const accepting = uniqueName('refused-in-part-accepting');
  const refusing = uniqueName('refused-in-part-refusing');
  let sender: RecordSender;

  beforeAll(async () => {
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: accepting, numPartitions: 1, replicationFactor: 1 },
          // Smaller than any of our records (the broker refuses them with MESSAGE_TOO_LARGE), but not
          // than a transaction's marker, which the broker must still write there to end an abort.
          {
            topic: refusing,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: [{ name: 'max.message.bytes', value: '200' }],
          },
        ],
      }),
    );
    sender = await RecordSender.connect({
      ...testClientOptions('refused-in-part-spec'),
      ackTimeoutMs: 10_000,
      ...(transactional ? { transactionalId: uniqueName('refused-in-part-spec') } : {}),
    });
  });

  afterAll(async () => {
    await sender?.disconnect().catch(() => undefined);
  });

  const recordFor = (topic: string, eventId: string): OutboundRecord => {
    const record = toRecord(
      'InferenceCompleted',
      { ...SAMPLE_EVENTS.InferenceCompleted, eventId },
      { source: 'urn:tributary:refused-in-part-spec' },
    );
    return { ...record, topic };
  };
  const idOf = (message: KafkaMessage) => headersOf(message).ce_id;

  it('throws; the next send of the same sender is written at the offset its acknowledgement names', async () => {
    // One record in each topic: the next send's one record then matches the appended one's sequence
    // numbers exactly, which is what a broker takes for a retry.
    await expect(sender.send([recordFor(accepting, 'first'), recordFor(refusing, 'refused')])).rejects.toThrow();

    const [acknowledged] = await sender.send([recordFor(accepting, 'second')]);

    const read = await readTopic(accepting, (message) => idOf(message) === 'second', 15_000);
    expect(read.find((message) => idOf(message) === 'second')?.offset).toBe(acknowledged!.offset);
    // Without a transaction the first record stays in the log (a failed send may have stored part of
    // itself); in one it was aborted, and a read_committed reader never sees it.
    expect(read.map(idOf)).toEqual(transactional ? ['second'] : ['first', 'second']);
    // It took offset 0 either way (and, aborted, the abort marker offset 1).
    expect(BigInt(acknowledged!.offset)).toBe(transactional ? 2n : 1n);
  });
});
