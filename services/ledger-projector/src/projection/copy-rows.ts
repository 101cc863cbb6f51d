import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';

export type CopyValue = string | number | bigint | Buffer | null;

/** PostgreSQL column types COPY BINARY needs to know: each is sent in its own wire representation. */
export type CopyType = 'text' | 'int2' | 'int4' | 'int8' | 'bytea';
export interface CopyColumn {
  readonly name: string;
  readonly type: CopyType;
}

/** COPY BINARY's header: signature, flags (none), header extension length (none). */
const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const INITIAL_BYTES = 1 << 20;

/**
 * Encodes rows in COPY's binary format into one growing buffer. Binary spares both sides the text
 * round trip: no escaping or number/hex formatting here, no parsing of bigints and hex bytea in the
 * server (the rebuild writes millions of cells; this was most of its CPU outside hashing).
 */
export function encodeBinary(columns: readonly CopyColumn[], rows: readonly CopyValue[][]): Buffer {
  let buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  let position = 0;
  const ensure = (bytes: number) => {
    if (position + bytes <= buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, position + bytes));
    buffer.copy(grown, 0, 0, position);
    buffer = grown;
  };
  ensure(BINARY_HEADER.length);
  position += BINARY_HEADER.copy(buffer, position);
  for (const row of rows) {
    if (row.length !== columns.length) throw new RangeError(`copyRows: a row has ${row.length} values for ${columns.length} columns`);
    ensure(2);
    position = buffer.writeInt16BE(columns.length, position);
    for (let index = 0; index < columns.length; index += 1) {
      const value = row[index]!;
      const { type, name } = columns[index]!;
      if (value === null) {
        ensure(4);
        position = buffer.writeInt32BE(-1, position);
        continue;
      }
      switch (type) {
        case 'text': {
          if (typeof value !== 'string') throw new TypeError(`copyRows: ${name} must be a string`);
          ensure(4 + value.length * 3);
          const written = buffer.write(value, position + 4, 'utf8');
          buffer.writeInt32BE(written, position);
          position += 4 + written;
          break;
        }
        case 'bytea': {
          if (!Buffer.isBuffer(value)) throw new TypeError(`copyRows: ${name} must be a Buffer`);
          ensure(4 + value.length);
          position = buffer.writeInt32BE(value.length, position);
          position += value.copy(buffer, position);
          break;
        }
        case 'int8':
          ensure(12);
          position = buffer.writeInt32BE(8, position);
          position = buffer.writeBigInt64BE(typeof value === 'bigint' ? value : BigInt(value as number | string), position);
          break;
        case 'int4':
          ensure(8);
          position = buffer.writeInt32BE(4, position);
          position = buffer.writeInt32BE(Number(value), position);
          break;
        case 'int2':
          ensure(6);
          position = buffer.writeInt32BE(2, position);
          position = buffer.writeInt16BE(Number(value), position);
          break;
      }
    }
  }
  ensure(2);
  position = buffer.writeInt16BE(-1, position);
  return buffer.subarray(0, position);
}

/**
 * Writes rows with COPY ... FROM STDIN on the connection of the caller's transaction, so they commit
 * or roll back with the batch. COPY is the cheapest way into PostgreSQL: one statement, no per-row
 * parse or plan, which is what lets a batch of thousands of entries cost one round trip.
 */
export async function copyRows(manager: EntityManager, table: string, columns: readonly CopyColumn[], rows: readonly CopyValue[][]): Promise<void> {
  if (rows.length === 0) return;
  if (!manager.queryRunner) throw new Error('copyRows needs the EntityManager of a transaction');
  const client = (await manager.queryRunner.connect()) as { query(stream: unknown): NodeJS.WritableStream };
  const encoded = encodeBinary(columns, rows);
  const stream = client.query(copyFrom(`COPY ${table} (${columns.map((column) => column.name).join(', ')}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from([encoded]), stream as unknown as NodeJS.WritableStream);
}

const column = (name: string, type: CopyType): CopyColumn => ({ name, type });

/** The column lists of the tables the projector writes with COPY, in row order, with the migration's types. */
export const COPY_COLUMNS = {
  appliedEvents: [column('event_id', 'text'), column('source_topic', 'text'), column('source_partition', 'int4'), column('source_offset', 'int8')],
  ledgerEntries: [
    column('source_topic', 'text'), column('source_partition', 'int4'), column('chain_seq', 'int8'), column('transaction_id', 'text'), column('posting_index', 'int2'),
    column('account', 'text'), column('asset', 'text'), column('amount_minor', 'int8'), column('source_event_id', 'text'), column('source_offset', 'int8'), column('hash', 'bytea'),
  ],
  inferences: [
    column('inference_id', 'text'), column('event_id', 'text'), column('inference_event_id', 'text'), column('model_id', 'text'), column('consumer_id', 'text'), column('asset', 'text'),
    column('fee_minor', 'int8'), column('policy_version', 'int4'), column('source_topic', 'text'), column('source_partition', 'int4'), column('source_offset', 'int8'),
  ],
  contributionCredits: [column('inference_id', 'text'), column('account', 'text'), column('contribution_id', 'text'), column('datanet_id', 'text'), column('score_ppm', 'int8'), column('asset', 'text'), column('amount_minor', 'int8')],
} as const;
