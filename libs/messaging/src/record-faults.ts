/**
 * Telling a record's fault from the infrastructure's, and finding the record at fault.
 *
 * A handler checks what it can and rejects bad records to the DLQ itself. What it did not foresee shows
 * up as a failure of the whole batch, and then the question is who failed: the infrastructure (the
 * database or the broker is down, a timeout, a lock conflict), which a retry fixes, or one of the
 * records (a value PostgreSQL refuses, a record Kafka will not take), which no retry fixes. Retrying
 * the second kind stopped the partition, and then the service, for every record behind it.
 */

/**
 * PostgreSQL errors a record can cause by its content, by SQLSTATE class (never by message text):
 * 22 data exception (a value out of range, invalid text), 23 integrity constraint violation,
 * 54 program limit exceeded (an index row or an array too large).
 */
const RECORD_FAULT_SQLSTATE_CLASSES = new Set(['22', '23', '54']);

/** Kafka refusing a record itself (kafkajs error types), as opposed to the broker being unavailable. */
const RECORD_FAULT_KAFKA_TYPES = new Set(['MESSAGE_TOO_LARGE', 'INVALID_RECORD', 'RECORD_LIST_TOO_LARGE']);

/** Thrown by code that knows a failure is the record's, though it is not a plain rejection. */
export class RecordFault extends Error {
  override readonly name = 'RecordFault';
}

/** Whether `error` is caused by the records being handled, so retrying them can only fail again. */
export function isRecordFault(error: unknown): boolean {
  if (error instanceof RecordFault) return true;
  const { code, type, driverError } = (error ?? {}) as { code?: unknown; type?: unknown; driverError?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
    return RECORD_FAULT_SQLSTATE_CLASSES.has(code.slice(0, 2));
  // TypeORM wraps the driver's error; the SQLSTATE is on both, but look inside in case only there.
  if (driverError !== undefined && driverError !== error) return isRecordFault(driverError);
  return typeof type === 'string' && RECORD_FAULT_KAFKA_TYPES.has(type);
}

/** What one attempt at a slice of records came to. */
export type SliceOutcome =
  { readonly kind: 'done' } | { readonly kind: 'fault'; readonly error: unknown } | { readonly kind: 'stopped' };

/**
 * Applies `records` in order, in slices: a slice whose failure the records caused is split in two and
 * each half tried again, until the record that causes it stands alone; that record is handed to
 * `deadLetter` and the rest go on. Slices are applied in offset order, so a consumer's position only
 * ever moves forward. `apply` must be all or nothing per call (one database or Kafka transaction), and
 * throws for infrastructure failures, which stop this loop as they would have stopped the batch.
 * Returns false when `apply` reported that the partition is no longer ours.
 *
 * One poison record among n costs about 2·log2(n) extra attempts; the slices that hold no poison keep
 * their size, so a clean batch is one attempt as before.
 */
export async function applyIsolatingFaults<Item>(
  records: readonly Item[],
  apply: (slice: readonly Item[]) => Promise<SliceOutcome>,
  deadLetter: (record: Item, error: unknown) => Promise<void>,
): Promise<boolean> {
  const pending: Array<readonly Item[]> = [records];
  while (pending.length > 0) {
    const slice = pending.shift()!;
    if (slice.length === 0) continue;
    const outcome = await apply(slice);
    if (outcome.kind === 'stopped') return false;
    if (outcome.kind === 'done') continue;
    if (slice.length === 1) {
      await deadLetter(slice[0]!, outcome.error);
      continue;
    }
    const middle = Math.ceil(slice.length / 2);
    pending.unshift(slice.slice(0, middle), slice.slice(middle));
  }
  return true;
}
