import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';

export type CopyValue = string | number | bigint | Buffer | null;

/** Escapes one value for COPY's text format: backslash, tab, newline and carriage return are special. */
function copyText(value: CopyValue): string {
  if (value === null) return '\\N';
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\t\n\r]/g, (character) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[character]!);
}

/**
 * Writes rows with COPY ... FROM STDIN on the connection of the caller's transaction, so they commit
 * or roll back with the batch. COPY is the cheapest way into PostgreSQL: one statement, no per-row
 * parse or plan, which is what lets a batch of thousands of entries cost one round trip.
 */
export async function copyRows(manager: EntityManager, table: string, columns: readonly string[], rows: readonly CopyValue[][]): Promise<void> {
  if (rows.length === 0) return;
  if (!manager.queryRunner) throw new Error('copyRows needs the EntityManager of a transaction');
  const client = (await manager.queryRunner.connect()) as { query(stream: unknown): NodeJS.WritableStream };
  const lines = rows.map((row) => row.map(copyText).join('\t')).join('\n') + '\n';
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from([Buffer.from(lines, 'utf8')]), stream as unknown as NodeJS.WritableStream);
}
