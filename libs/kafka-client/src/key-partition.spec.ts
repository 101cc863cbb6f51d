// Proves keyPartition places every key where kafkajs's DefaultPartitioner (Kafka's default) does, for
// string and byte keys of every length modulo four, any text, and any partition count.
import fc from 'fast-check';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { keyPartition, murmur2 } from './key-partition';

const kafkajsPartitioner = Partitioners.DefaultPartitioner();
const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));

describe('keyPartition', () => {
  it('gives the partition kafkajs gives, for any key and partition count', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );
    fc.assert(
      fc.property(key, fc.integer({ min: 1, max: 1_000 }), (key, count) => {
        expect(keyPartition(key, count)).toBe(
          kafkajsPartitioner({ topic: 't', partitionMetadata: metadata(count), message: { key, value: null } }),
        );
      }),
      { numRuns: 5_000 },
    );
  });

  it("matches Kafka's murmur2 on known values", () => {
    // Values of Kafka's own UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([]))).toBe(275646681);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => keyPartition('k', 0)).toThrow('partitionCount must be a positive integer, got 0');
    expect(() => keyPartition('k', 1.5)).toThrow('got 1.5');
  });
});
