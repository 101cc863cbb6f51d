// Proves the one rule for offsets no handler sees: a fetch whose last offsets are transaction markers
// moves the position past them, one that ends in a record does not, and a fetch with no record at all is
// reported through the consumer's end-of-batch event with the offset after it.
import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { onMarkerOnlyFetch, skipPastMarkers } from './transaction-markers';

const batch = (offsets: string[], lastOffset: string) =>
  ({ messages: offsets.map((offset) => ({ offset })), lastOffset: () => lastOffset }) as never;

describe('a fetch', () => {
  it('ending in a commit marker moves the position past the marker', () => {
    expect(skipPastMarkers(batch(['10', '11'], '12'))).toBe(13n);
  });

  it('ending in its last record moves nothing further', () => {
    expect(skipPastMarkers(batch(['10', '11'], '11'))).toBeNull();
  });

  it('with no record at all is left to the end-of-batch event', () => {
    expect(skipPastMarkers(batch([], '12'))).toBeNull();
    const events = new EventEmitter();
    const consumer = {
      events: { END_BATCH_PROCESS: 'end' },
      on: (event: string, listener: (event: unknown) => void) => events.on(event, listener),
    } as unknown as Consumer;
    const passed: Array<[string, number, bigint]> = [];
    onMarkerOnlyFetch(consumer, (topic, partition, nextOffset) => passed.push([topic, partition, nextOffset]));
    events.emit('end', { payload: { topic: 't', partition: 2, batchSize: 0, lastOffset: '41' } });
    events.emit('end', { payload: { topic: 't', partition: 2, batchSize: 3, lastOffset: '44' } });
    expect(passed).toEqual([['t', 2, 42n]]);
  });
});
