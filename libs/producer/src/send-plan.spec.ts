// Proves the send plan never puts together what the broker would refuse whole: in every send each
// partition's batch is within its topic's max.message.bytes and all batches within the request size,
// sends are consecutive ranges covering every record once in order, and records that fit together are
// not split.
import fc from 'fast-check';
import { RECORD_BATCH_OVERHEAD_BYTES } from '@tributary/contracts';
import { planSends, type PlannedRecord } from './send-plan';

const MiB = 1_048_576;

function sendBytes(records: readonly PlannedRecord[]) {
  const batches = new Map<string, number>();
  for (const record of records) {
    const slot = `${record.topic}:${record.partition}`;
    batches.set(slot, (batches.get(slot) ?? RECORD_BATCH_OVERHEAD_BYTES) + record.bytes);
  }
  return { batches, request: [...batches.values()].reduce((sum, bytes) => sum + bytes, 0) };
}

describe('the send plan', () => {
  const topicBytesMax = (topic: string) => (topic === 'small' ? 200_000 : MiB);

  it('keeps every batch within its topic and every request within the request size, covering all records in order', () => {
    const record = fc.record({
      topic: fc.constantFrom('small', 'large'),
      partition: fc.nat({ max: 5 }),
      bytes: fc.oneof(fc.integer({ min: 20, max: 2_000 }), fc.integer({ min: 50_000, max: 199_000 })),
    });
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 300 }),
        fc.integer({ min: 200_000, max: 4 * MiB }),
        (records, requestBytesMax) => {
          const sends = planSends(records, { topicBytesMax, requestBytesMax });
          expect(
            sends.flatMap(([start, end]) => Array.from({ length: end - start }, (_, index) => start + index)),
          ).toEqual(records.map((_, index) => index));
          for (const [start, end] of sends) {
            const { batches, request } = sendBytes(records.slice(start, end));
            expect(request).toBeLessThanOrEqual(requestBytesMax);
            for (const [slot, bytes] of batches) expect(bytes).toBeLessThanOrEqual(topicBytesMax(slot.split(':')[0]!));
          }
        },
      ),
    );
  });

  it('sends what fits one request as one, and eight 300 KB records of one partition as four sends of two', () => {
    const small = Array.from({ length: 1_000 }, (_, index) => ({ topic: 'large', partition: index % 6, bytes: 400 }));
    expect(planSends(small, { topicBytesMax, requestBytesMax: MiB })).toEqual([[0, 1_000]]);
    const big = Array.from({ length: 8 }, () => ({ topic: 'large', partition: 3, bytes: 300_000 }));
    expect(planSends(big, { topicBytesMax, requestBytesMax: 16 * MiB })).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
    ]);
    expect(planSends(big, { topicBytesMax, requestBytesMax: 700_000 })).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
  });

  it('gives a record too large even alone a send of its own (its caller refuses it first)', () => {
    const records = [
      { topic: 'large', partition: 0, bytes: 10 },
      { topic: 'large', partition: 0, bytes: 2 * MiB },
      { topic: 'large', partition: 0, bytes: 10 },
    ];
    expect(planSends(records, { topicBytesMax, requestBytesMax: MiB })).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(planSends([], { topicBytesMax, requestBytesMax: MiB })).toEqual([]);
  });
});
