// Proves the transport's pure parts without a broker: batches are bounded, rejections reach the sink once
// with their source in DLQ headers, and out-of-range consumer options stop start-up with a clear error.
import { deadLetterMessage, DLQ_HEADERS } from './dead-letter';
import { InboundBatch, type InboundRecord, type Rejection } from './inbound-batch';
import { KafkaBatchTransport } from './nest/kafka-batch.transport';
import { chunk } from './support';
import { unitSpecKafkaEnv } from '@tributary/testing';
import { transportOptionsFrom } from './nest/consumer-env';

const record = (offset: number): InboundRecord => ({
  topic: 'tributary.attributions',
  partition: 3,
  offset: String(offset),
  key: Buffer.from('k'),
  value: Buffer.from('v'),
  headers: { ce_type: 'InferenceAttributed' },
  timestampMs: 0,
});

describe('an inbound batch', () => {
  it('resumes after its last record', () => {
    const batch = new InboundBatch('g', 't', 3, [record(41), record(42)], async () => undefined);
    expect(batch.nextOffset).toBe('43');
  });

  it('publishes its rejections once, however often it is flushed', async () => {
    const published: Rejection[][] = [];
    const batch = new InboundBatch(
      'g',
      't',
      3,
      [record(7)],
      async (_group, rejections) => void published.push([...rejections]),
    );
    batch.reject(batch.records[0]!, 'value: does not decode', new TypeError('bad'));
    await batch.flushRejections();
    await batch.flushRejections();
    expect(published).toHaveLength(1);
    expect(published[0]![0]!.errorClass).toBe('TypeError');
    expect(() => batch.reject(batch.records[0]!, 'late')).toThrow('after the batch flushed');
  });

  it('is never empty', () => {
    expect(() => new InboundBatch('g', 't', 0, [], async () => undefined)).toThrow('at least one record');
  });
});

describe('a dead-lettered record', () => {
  it('keeps its key, value and headers and adds the reason and its source', () => {
    const message = deadLetterMessage(
      'tributary.ledger-projector',
      { record: record(9), reason: 'r'.repeat(5_000), errorClass: 'X' },
      new Date(0),
    );
    expect(message.key?.toString()).toBe('k');
    expect(message.headers).toMatchObject({
      ce_type: 'InferenceAttributed',
      [DLQ_HEADERS.sourceTopic]: 'tributary.attributions',
      [DLQ_HEADERS.sourcePartition]: '3',
      [DLQ_HEADERS.sourceOffset]: '9',
      [DLQ_HEADERS.consumerGroup]: 'tributary.ledger-projector',
      [DLQ_HEADERS.failedAt]: '1970-01-01T00:00:00.000Z',
    });
    expect(message.headers[DLQ_HEADERS.reason]).toHaveLength(1_024);
  });
});

describe('the consumer options', () => {
  it('cut a fetched batch into handler batches of at most batchSizeMax', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 2)).toEqual([]);
  });

  it('use the group id exactly as configured', () => {
    expect(transportOptionsFrom('tributary.ledger-projector', unitSpecKafkaEnv()).groupId).toBe(
      'tributary.ledger-projector',
    );
  });

  it('refuse an out-of-range limit from the environment, naming it', () => {
    expect(() => transportOptionsFrom('g', { ...unitSpecKafkaEnv(), CONSUMER_BATCH_SIZE_MAX: '0' })).toThrow(
      'CONSUMER_BATCH_SIZE_MAX: must be at least 1',
    );
  });

  it('refuse an out-of-range limit given in code', () => {
    const options = { ...transportOptionsFrom('g', unitSpecKafkaEnv()), handlerAttemptsMax: 0 };
    expect(() => new KafkaBatchTransport(options)).toThrow('handlerAttemptsMax=0 must be an integer from 1 to 100');
  });
});
