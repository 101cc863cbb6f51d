import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';
import type { DecisionRow } from './decision-store';

/** COPY BINARY's header: signature, flags (none), header extension length (none). */
const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const COLUMNS = ['inference_id', 'inference_partition', 'inference_offset', 'event_id', 'method', 'value', 'headers', 'content_hash'] as const;

/**
 * The decision rows in COPY's binary format. Binary spares both sides the text round trip the
 * `unnest($n::bytea[])` insert paid: no hex and array-literal escaping of each value and headers object
 * here, no parsing of them in the server.
 */
export function encodeDecisionRows(partition: number, rows: readonly DecisionRow[]): Buffer {
  const texts = rows.map((row) => ({ headers: JSON.stringify(row.headers), row }));
  let bytes = BINARY_HEADER.length + 2;
  for (const { headers, row } of texts) {
    bytes += 2 + 8 * 4 + 4 + 8 + row.value.length + row.contentHash.length;
    bytes += Buffer.byteLength(row.inferenceId) + Buffer.byteLength(row.eventId) + Buffer.byteLength(row.method) + Buffer.byteLength(headers);
  }
  const buffer = Buffer.allocUnsafe(bytes);
  let position = BINARY_HEADER.copy(buffer, 0);
  const text = (value: string) => {
    const written = buffer.write(value, position + 4, 'utf8');
    buffer.writeInt32BE(written, position);
    position += 4 + written;
  };
  for (const { headers, row } of texts) {
    position = buffer.writeInt16BE(COLUMNS.length, position);
    text(row.inferenceId);
    position = buffer.writeInt32BE(4, position);
    position = buffer.writeInt32BE(partition, position);
    position = buffer.writeInt32BE(8, position);
    position = buffer.writeBigInt64BE(row.inferenceOffset, position);
    text(row.eventId);
    text(row.method);
    position = buffer.writeInt32BE(row.value.length, position);
    position += row.value.copy(buffer, position);
    text(headers);
    position = buffer.writeInt32BE(row.contentHash.length, position);
    position += row.contentHash.copy(buffer, position);
  }
  position = buffer.writeInt16BE(-1, position);
  if (position !== bytes) throw new Error(`decision rows: encoded ${position} bytes, sized ${bytes}`);
  return buffer;
}

/** Writes the rows with COPY on the connection of the caller's transaction, so they commit or roll back with it. */
export async function copyDecisionRows(manager: EntityManager, partition: number, rows: readonly DecisionRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (!manager.queryRunner) throw new Error('copyDecisionRows needs the EntityManager of a transaction');
  const client = (await manager.queryRunner.connect()) as { query(stream: unknown): NodeJS.WritableStream };
  const stream = client.query(copyFrom(`COPY decisions (${COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from([encodeDecisionRows(partition, rows)]), stream);
}
