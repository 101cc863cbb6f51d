/**
 * The partition Kafka's default partitioner gives a keyed record (the Java client's, and kafkajs's
 * DefaultPartitioner): murmur2 of the key's UTF-8 bytes, made positive by clearing the sign bit,
 * modulo the partition count. Computed in 32-bit integer arithmetic, where kafkajs builds a 64-bit Long
 * (a bigint wrapper) at every step: several hundred objects for one 15-character key, on the path of
 * every inference the attribution service reads and every event the gateway writes.
 * key-partition.spec.ts compares it with kafkajs's partitioner over arbitrary keys and counts.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's murmur2 (Utils.murmur2) of the bytes, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const blocks = length - (length % 4);
  for (let index = 0; index < blocks; index += 4) {
    let k = data[index]! | (data[index + 1]! << 8) | (data[index + 2]! << 16) | (data[index + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes, as Kafka's switch takes them (each case falling through to the next).
  const tail = length - blocks;
  if (tail > 0) {
    if (tail === 3) h ^= data[blocks + 2]! << 16;
    if (tail >= 2) h ^= data[blocks + 1]! << 8;
    h ^= data[blocks]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition, of `partitionCount`, that Kafka's default partitioner gives a record with this key. */
export function keyPartition(key: string | Uint8Array, partitionCount: number): number {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1)
    throw new RangeError(`keyPartition: partitionCount must be a positive integer, got ${partitionCount}`);
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(bytes) & 0x7fffffff) % partitionCount;
}
