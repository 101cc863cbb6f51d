import type { EntityManager } from 'typeorm';
import { copyEncoded, CopyEncoder, type CopyColumn } from '@tributary/persistence';
import type { DecisionRow } from './decision-store';

/** The decisions table's columns, in row order, with the migrations' types (headers are kept as JSON text). */
const DECISION_COLUMNS: readonly CopyColumn[] = [
  { name: 'inference_id', type: 'text' },
  { name: 'inference_partition', type: 'int4' },
  { name: 'inference_offset', type: 'int8' },
  { name: 'event_id', type: 'text' },
  { name: 'method', type: 'text' },
  { name: 'value', type: 'bytea' },
  { name: 'headers', type: 'text' },
  { name: 'content_hash', type: 'bytea' },
];

/**
 * The decision rows in COPY's binary format. Binary spares both sides the text round trip the
 * `unnest($n::bytea[])` insert paid: no hex and array-literal escaping of each value and headers object
 * here, no parsing of them in the server.
 */
function encodeInto(encoder: CopyEncoder, partition: number, rows: readonly DecisionRow[]): CopyEncoder {
  for (const row of rows) {
    encoder
      .row()
      .text(row.inferenceId)
      .int4(partition)
      .int8(row.inferenceOffset)
      .text(row.eventId)
      .text(row.method)
      .bytea(row.value)
      .text(JSON.stringify(row.headers))
      .bytea(row.contentHash);
  }
  return encoder;
}

/** The encoded rows as one buffer of their own (what copyDecisionRows sends). */
export function encodeDecisionRows(partition: number, rows: readonly DecisionRow[]): Buffer {
  const encoder = encodeInto(new CopyEncoder(DECISION_COLUMNS), partition, rows);
  try {
    return Buffer.from(encoder.finish());
  } finally {
    encoder.release();
  }
}

/** Writes the rows with COPY on the connection of the caller's transaction, so they commit or roll back with it. */
export async function copyDecisionRows(
  manager: EntityManager,
  partition: number,
  rows: readonly DecisionRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const encoder = new CopyEncoder(DECISION_COLUMNS);
  try {
    encodeInto(encoder, partition, rows);
  } catch (error) {
    encoder.release();
    throw error;
  }
  await copyEncoded(manager, 'decisions', encoder);
}
