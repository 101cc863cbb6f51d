import { hash } from 'node:crypto';

/**
 * The SHA-256 of a record's value, the content an event id names: a re-delivery of an event has the
 * same, another event under a reused id does not. One-shot hashing (no Hash object per record).
 */
export function contentHashOf(value: Buffer): Buffer {
  return hash('sha256', value, 'buffer');
}
