import type { Connection, Submittable } from 'pg';
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
const TWO_POW_32 = 2 ** 32;
const MIN_SAFE_BIGINT = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);
const SHORT_TEXT_MAX = 64;

/**
 * Buffers of finished statements, kept for the next encoder. A rebuild encodes megabytes per batch;
 * allocating them afresh made V8 collect (external memory counts towards its GC pressure) and copy
 * on every doubling. Enough are kept for every table of a batch (the projector copies four together)
 * of every partition in flight, within the bound the pool always had (8 of up to 64 MiB): 512 MiB. A
 * rebuild that kept fewer bytes (256 MiB) spent 8% more CPU per event regrowing them.
 */
const spareBuffers: Buffer[] = [];
const SPARE_BUFFERS_MAX = 64;
const SPARE_BUFFER_BYTES_MAX = 64 << 20;
const SPARE_BYTES_MAX = 512 << 20;
let spareBytes = 0;

/**
 * The one COPY BINARY encoder of the project (the ledger projector's rows, the attribution service's
 * decisions). Encodes rows in COPY's binary format, field by field, straight into one growing buffer: no array per
 * row, no intermediate values. Binary spares both sides the text round trip: no escaping or number/hex
 * formatting here, no parsing of bigints and hex bytea in the server.
 *
 * Each row starts with row() and must then give exactly one value per column, in column order, each of
 * the column's type; a mismatch throws, naming the column, rather than sending rows PostgreSQL would
 * misread.
 */
export class CopyEncoder {
  private buffer: Buffer;
  private position = 0;
  private column: number;
  private released = false;
  rowCount = 0;

  constructor(readonly columns: readonly CopyColumn[]) {
    const spare = spareBuffers.pop();
    if (spare !== undefined) spareBytes -= spare.length;
    this.buffer = spare ?? Buffer.allocUnsafe(INITIAL_BYTES);
    this.column = columns.length;
    this.ensure(BINARY_HEADER.length);
    this.position += BINARY_HEADER.copy(this.buffer, this.position);
  }

  private ensure(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  /** Checks that the next value belongs to a column of this type, and moves on to the next column. */
  private next(type: CopyType): void {
    const column = this.columns[this.column];
    if (column === undefined)
      throw new RangeError(`copyRows: a row has more than ${this.columns.length} values (call row() first)`);
    if (column.type !== type) throw new TypeError(`copyRows: ${column.name} is ${column.type}, not ${type}`);
    this.column += 1;
  }

  /** Starts a row; the previous one must be complete. */
  row(): this {
    if (this.column !== this.columns.length)
      throw new RangeError(`copyRows: a row has ${this.column} values for ${this.columns.length} columns`);
    this.ensure(2);
    this.position = this.buffer.writeInt16BE(this.columns.length, this.position);
    this.column = 0;
    this.rowCount += 1;
    return this;
  }

  null(): this {
    const column = this.columns[this.column];
    if (column === undefined)
      throw new RangeError(`copyRows: a row has more than ${this.columns.length} values (call row() first)`);
    this.column += 1;
    this.ensure(4);
    this.position = this.buffer.writeInt32BE(-1, this.position);
    return this;
  }

  text(value: string): this {
    this.next('text');
    const length = value.length;
    this.ensure(4 + length * 3);
    const buffer = this.buffer;
    const start = this.position + 4;
    // Short ASCII values (ids, account names) are copied char by char: cheaper than a native call each.
    let written = -1;
    if (length <= SHORT_TEXT_MAX) {
      let index = 0;
      for (; index < length; index += 1) {
        const code = value.charCodeAt(index);
        if (code >= 0x80) break;
        buffer[start + index] = code;
      }
      if (index === length) written = length;
    }
    if (written < 0) written = buffer.write(value, start, 'utf8');
    buffer.writeInt32BE(written, this.position);
    this.position = start + written;
    return this;
  }

  /** A text value already encoded as UTF-8 (a topic name written on every row, encoded once). */
  utf8(bytes: Buffer): this {
    this.next('text');
    return this.raw(bytes);
  }

  bytea(value: Buffer): this {
    this.next('bytea');
    return this.raw(value);
  }

  /** A bytea value held as a latin1 string, one char per byte (a hash as EntryChain gives it). */
  byteaLatin1(value: string): this {
    this.next('bytea');
    this.ensure(4 + value.length);
    this.position = this.buffer.writeInt32BE(value.length, this.position);
    this.position += this.buffer.write(value, this.position, 'latin1');
    return this;
  }

  private raw(bytes: Buffer): this {
    this.ensure(4 + bytes.length);
    this.position = this.buffer.writeInt32BE(bytes.length, this.position);
    this.position += bytes.copy(this.buffer, this.position);
    return this;
  }

  /** A bigint, or a number that is a safe integer (offsets, chain positions, counts). */
  int8(value: bigint | number): this {
    this.next('int8');
    this.ensure(12);
    this.position = this.buffer.writeInt32BE(8, this.position);
    if (typeof value === 'bigint') {
      // Node's writeBigInt64BE allocates three bigints per call (masks and shifts); amounts fit a double.
      if (value >= MIN_SAFE_BIGINT && value <= MAX_SAFE_BIGINT) return this.safeInt8(Number(value));
      this.position = this.buffer.writeBigInt64BE(value, this.position);
    } else {
      if (!Number.isSafeInteger(value))
        throw new RangeError(`copyRows: ${this.columns[this.column - 1]!.name} = ${value} is not a safe integer`);
      return this.safeInt8(value);
    }
    return this;
  }

  /** The eight bytes of a safe integer, as two's complement halves. */
  private safeInt8(value: number): this {
    const high = Math.floor(value / TWO_POW_32);
    this.position = this.buffer.writeInt32BE(high, this.position);
    this.position = this.buffer.writeUInt32BE(value - high * TWO_POW_32, this.position);
    return this;
  }

  int4(value: number): this {
    this.next('int4');
    this.ensure(8);
    this.position = this.buffer.writeInt32BE(4, this.position);
    this.position = this.buffer.writeInt32BE(value, this.position);
    return this;
  }

  int2(value: number): this {
    this.next('int2');
    this.ensure(6);
    this.position = this.buffer.writeInt32BE(2, this.position);
    this.position = this.buffer.writeInt16BE(value, this.position);
    return this;
  }

  /** Any value, by the column's type (for callers holding generic rows). */
  value(value: CopyValue): this {
    const column = this.columns[this.column];
    if (column === undefined)
      throw new RangeError(`copyRows: a row has more than ${this.columns.length} values (call row() first)`);
    if (value === null) return this.null();
    switch (column.type) {
      case 'text':
        if (typeof value !== 'string') throw new TypeError(`copyRows: ${column.name} must be a string`);
        return this.text(value);
      case 'bytea':
        if (!Buffer.isBuffer(value)) throw new TypeError(`copyRows: ${column.name} must be a Buffer`);
        return this.bytea(value);
      case 'int8':
        return this.int8(typeof value === 'bigint' || typeof value === 'number' ? value : BigInt(value as string));
      case 'int4':
        return this.int4(Number(value));
      case 'int2':
        return this.int2(Number(value));
    }
  }

  /** The encoded statement body, trailer included. Valid until release(). */
  finish(): Buffer {
    if (this.column !== this.columns.length)
      throw new RangeError(`copyRows: a row has ${this.column} values for ${this.columns.length} columns`);
    this.ensure(2);
    this.position = this.buffer.writeInt16BE(-1, this.position);
    return this.buffer.subarray(0, this.position);
  }

  /** Hands the buffer back for the next encoder; the encoder and what finish() returned are then unusable. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const bytes = this.buffer.length;
    if (
      spareBuffers.length < SPARE_BUFFERS_MAX &&
      bytes <= SPARE_BUFFER_BYTES_MAX &&
      spareBytes + bytes <= SPARE_BYTES_MAX
    ) {
      spareBuffers.push(this.buffer);
      spareBytes += bytes;
    }
  }
}

/** Encodes whole rows (arrays of values in column order); the wire format of CopyEncoder. */
export function encodeBinary(columns: readonly CopyColumn[], rows: readonly CopyValue[][]): Buffer {
  const encoder = new CopyEncoder(columns);
  try {
    for (const row of rows) {
      if (row.length !== columns.length)
        throw new RangeError(`copyRows: a row has ${row.length} values for ${columns.length} columns`);
      encoder.row();
      for (const value of row) encoder.value(value);
    }
    // A copy, so the caller may keep the result while the buffer serves the next encoder.
    return Buffer.from(encoder.finish());
  } finally {
    encoder.release();
  }
}

/** CopyDone: the end of a COPY's data (the message's code and its length, no body). */
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);
/** The code of a CopyData message. */
const COPY_DATA = 0x64;

/** A table and the encoder holding the rows to copy into it. */
export interface CopiedTable {
  readonly table: string;
  readonly encoder: CopyEncoder;
}

/** One table's COPY statement and the CopyData body of its rows. */
interface CopyStatement {
  readonly statement: string;
  readonly data: Buffer;
}

/**
 * COPY ... FROM STDIN statements with their data, written to the connection in one go, as node-postgres
 * runs a query (a Submittable): one Query message holding the statements, then for each in turn one
 * CopyData message holding every row and CopyDone. The server reads each COPY's data once it has answered
 * that COPY's CopyInResponse, in the order sent, and answers ReadyForQuery once, after the last. If a
 * statement fails instead, the rest of the Query message is skipped and the protocol has the server drop
 * the CopyData and CopyDone that follow ("any subsequent CopyData, CopyDone, or CopyFail messages issued
 * by the frontend will simply be dropped"), so the connection stays in step.
 */
class CopyWithData {
  private failure: Error | undefined;

  constructor(
    private readonly copies: readonly CopyStatement[],
    private readonly settle: (failure: Error | undefined) => void,
  ) {}

  submit(connection: Connection): void {
    const stream = connection.stream;
    // One write to the socket for every message.
    stream.cork();
    connection.query(this.copies.map(({ statement }) => statement).join('; '));
    for (const { data } of this.copies) {
      const header = Buffer.allocUnsafe(5);
      header[0] = COPY_DATA;
      header.writeInt32BE(data.length + 4, 1);
      stream.write(header);
      stream.write(data);
      stream.write(COPY_DONE);
    }
    stream.uncork();
  }

  /** The data went out with the statements. */
  handleCopyInResponse(): void {}

  handleCommandComplete(): void {}

  /** node-postgres hands on an error of the server (ReadyForQuery follows) or of the connection (nothing follows). */
  handleError(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.settle(error);
  }

  handleReadyForQuery(): void {
    if (this.failure === undefined) this.settle(undefined);
  }
}

/**
 * Sends an encoder's rows with COPY ... FROM STDIN on the connection of the caller's transaction, so
 * they commit or roll back with the batch, then hands its buffer back. COPY is the cheapest way into
 * PostgreSQL: one statement, no per-row parse or plan, which is what lets a batch of thousands of
 * entries cost one round trip. One indeed: the rows are sent with the statement (CopyWithData), not
 * after the server's CopyInResponse, which would be a second round trip for every COPY.
 */
export function copyEncoded(manager: EntityManager, table: string, encoder: CopyEncoder): Promise<void> {
  return copyEncodedTogether(manager, [{ table, encoder }]);
}

/**
 * Several tables' rows (copyEncoded) in one round trip: their COPY statements in one Query message, in
 * the order given, each followed by its data. Tables without rows are left out. Every encoder's buffer
 * is handed back, whatever happens.
 */
export async function copyEncodedTogether(manager: EntityManager, tables: readonly CopiedTable[]): Promise<void> {
  try {
    const copies = tables
      .filter(({ encoder }) => encoder.rowCount > 0)
      .map(({ table, encoder }) => ({
        statement: `COPY ${table} (${encoder.columns.map((column) => column.name).join(', ')}) FROM STDIN (FORMAT binary)`,
        data: encoder.finish(),
      }));
    if (copies.length === 0) return;
    if (!manager.queryRunner) throw new Error('copyRows needs the EntityManager of a transaction');
    const client = (await manager.queryRunner.connect()) as { query(submittable: Submittable): unknown };
    await new Promise<void>((resolve, reject) => {
      client.query(new CopyWithData(copies, (failure) => (failure ? reject(failure) : resolve())));
    });
  } finally {
    for (const { encoder } of tables) encoder.release();
  }
}

/** Writes whole rows with COPY (see copyEncoded). */
export async function copyRows(
  manager: EntityManager,
  table: string,
  columns: readonly CopyColumn[],
  rows: readonly CopyValue[][],
): Promise<void> {
  if (rows.length === 0) return;
  const encoder = new CopyEncoder(columns);
  try {
    for (const row of rows) {
      if (row.length !== columns.length)
        throw new RangeError(`copyRows: a row has ${row.length} values for ${columns.length} columns`);
      encoder.row();
      for (const value of row) encoder.value(value);
    }
  } catch (error) {
    encoder.release();
    throw error;
  }
  await copyEncoded(manager, table, encoder);
}
