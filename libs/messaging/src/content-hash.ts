import { hash } from 'node:crypto';

/**
 * The SHA-256 of a record's Avro body (fromRecord's `body`: the value without its framing), the content an
 * event id names: a re-delivery of an event has the same, in either framing, another event under a reused
 * id does not. Raw records' bodies are their values, so hashes stored before the framing still compare.
 * One-shot hashing (no Hash object per record).
 */
export function contentHashOf(value: Buffer): Buffer {
  return hash('sha256', value, 'buffer');
}
