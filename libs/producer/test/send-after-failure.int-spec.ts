// Proves that a send after a failed one is written, whatever the broker did with the failed one. The
// attack: one send whose records the broker appends in one topic and refuses in another (larger than
// that topic's max.message.bytes; an ACL refusing one topic does the same). kafkajs then takes back the
// sequence numbers of the whole request, the appended records' too, so the same producer's next record
// to that partition carries the sequence number of one already in the log: the broker takes it for a
// retry of that one, answers with its offset, and writes nothing. The caller holds an acknowledgement
// for a record Kafka never stored. Tested without a transaction (TributaryProducer's default) and with
// one, where the record it is taken for is even an aborted one.
import { toRecord, type OutboundRecord } from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';
import { headersOf, readTopic, testClientOptions, uniqueName, withAdmin } from '@tributary/testing';
import { RecordSender } from '../src';

describe.each([
  ['without a transaction', false],
  ['in transactions', true],
])('a send after a send the broker refused part of, %s', (_label, transactional) => {
  const accepting = uniqueName('after-failure-accepting');
  const refusing = uniqueName('after-failure-refusing');
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
      ...testClientOptions('after-failure-spec'),
      ackTimeoutMs: 10_000,
      ...(transactional ? { transactionalId: uniqueName('after-failure-spec') } : {}),
    });
  });

  afterAll(async () => {
    await sender?.disconnect().catch(() => undefined);
  });

  const recordFor = (topic: string, eventId: string): OutboundRecord => {
    const record = toRecord(
      'InferenceCompleted',
      { ...SAMPLE_EVENTS.InferenceCompleted, eventId },
      { source: 'urn:tributary:after-failure-spec' },
    );
    return { ...record, topic };
  };

  it('is written at the offset its acknowledgement names, by the same sender', async () => {
    await expect(sender.send([recordFor(accepting, 'first'), recordFor(refusing, 'refused')])).rejects.toThrow();

    const [acknowledged] = await sender.send([recordFor(accepting, 'second')]);

    const isSecond = (message: { headers?: unknown }) =>
      headersOf(message as Parameters<typeof headersOf>[0]).ce_id === 'second';
    const read = await readTopic(accepting, isSecond, 15_000);
    const second = read.find(isSecond);
    expect(second?.offset).toBe(acknowledged!.offset);
    // Without a transaction the first record stays in the log (the send failed, so it may be there);
    // in one, it was aborted and a read_committed reader never sees it.
    expect(read.map((message) => headersOf(message).ce_id)).toEqual(transactional ? ['second'] : ['first', 'second']);
  });
});
