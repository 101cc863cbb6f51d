import * as crypto from 'node:crypto';

/** The content of one ledger entry that its hash covers: everything but the hash itself. */
export interface ChainedEntry {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  /** Position in the partition's chain, from 1, with no gaps. */
  readonly chainSeq: bigint;
  readonly transactionId: string;
  readonly postingIndex: number;
  readonly account: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly sourceEventId: string;
  readonly sourceOffset: bigint;
}

/** The hash before the first entry of every chain. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/**
 * Node's one-shot digest (20.12 and later): one call instead of creating, feeding and finishing a Hash.
 * Asked for a latin1 string (one char per byte) rather than a Buffer: that output is half the cost,
 * and the string is what the next entry's input and the COPY row are written from.
 */
const oneShotHash = (crypto as unknown as { hash?: (algorithm: string, data: Buffer, encoding: 'latin1') => string })
  .hash;
/** Characters JSON.stringify writes escaped: the quote, the backslash, controls, and (unpaired) surrogates. */
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;
let scratch = Buffer.allocUnsafe(4096);

/** What JSON.stringify(value) writes between its quotes: the value itself unless it has a character JSON escapes. */
function jsonBody(value: string): string {
  return JSON_ESCAPED.test(value) ? JSON.stringify(value).slice(1, -1) : value;
}

/** SHA-256 of previous ‖ UTF-8 of content, previous and result as latin1 strings (one char per byte). */
function sha256After(previous: string, content: string): string {
  if (!oneShotHash)
    return crypto.createHash('sha256').update(Buffer.from(previous, 'latin1')).update(content).digest('binary');
  const bytes = previous.length + content.length * 3;
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(bytes * 2);
  const start = scratch.write(previous, 0, 'latin1');
  return oneShotHash('sha256', scratch.subarray(0, start + scratch.write(content, start, 'utf8')), 'latin1');
}

/**
 * SHA-256 over the previous hash and the entry's content. The content is a JSON array of strings, so
 * field boundaries are unambiguous ("ab","c" never hashes like "a","bc") and bigint needs no care.
 * The array is written out directly (the same bytes as JSON.stringify, which the spec checks), and
 * hashed in one call: the rebuild hashes every entry of the log, so this was a large share of its CPU.
 */
export function entryHash(previousHash: Buffer, entry: ChainedEntry): Buffer {
  const content = `["${jsonBody(entry.sourceTopic)}","${entry.sourcePartition}","${entry.chainSeq}","${jsonBody(entry.transactionId)}","${entry.postingIndex}","${jsonBody(entry.account)}","${jsonBody(entry.asset)}","${entry.amountMinor}","${jsonBody(entry.sourceEventId)}","${entry.sourceOffset}"]`;
  return Buffer.from(sha256After(previousHash.toString('latin1'), content), 'latin1');
}

/** Printable ASCII but the quote and the backslash: JSON writes it as is, and its UTF-8 is its latin1. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Writes a plain ASCII string byte by byte (cheaper than a native call for short ids). */
function writeAscii(target: Buffer, position: number, value: string): number {
  for (let index = 0; index < value.length; index += 1) target[position + index] = value.charCodeAt(index);
  return position + value.length;
}

/** Writes the decimal digits of a safe integer, as String() would. */
function writeInteger(target: Buffer, position: number, value: number): number {
  if (value < 0) {
    target[position] = 0x2d;
    return writeInteger(target, position + 1, -value);
  }
  let length = 1;
  for (let power = 10; power <= value; power *= 10) length += 1;
  let rest = value;
  for (let index = position + length - 1; index >= position; index -= 1) {
    const digit = rest % 10;
    target[index] = 0x30 + digit;
    rest = (rest - digit) / 10;
  }
  return position + length;
}

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const QUOTE_COMMA_QUOTE = '","';

/**
 * One partition's chain as it is extended, entry by entry, by the projector: the same hashes as
 * entryHash, with the partition's and the transaction's parts of the content prepared once, positions
 * kept as numbers and hashes as latin1 strings (no Buffer per entry). When every field is plain ASCII
 * (ids and account names as the services make them), the hash input is written byte by byte into a
 * buffer that already holds the partition's prefix: no string is built per entry.
 */
export class EntryChain {
  private readonly prefix: string;
  private readonly prefixPlain: boolean;
  private middle = '';
  private tail = '';
  private transactionPlain = false;
  /** previous hash (32 bytes) ‖ the content's prefix ‖ room for the rest. */
  private input: Buffer;
  private readonly contentStart: number;
  /** The last hash (the head), one char per byte. */
  headLatin1: string;

  constructor(
    readonly sourceTopic: string,
    readonly sourcePartition: number,
    public chainSeq: number,
    head: Buffer,
  ) {
    if (!Number.isSafeInteger(chainSeq) || chainSeq < 0)
      throw new RangeError(`chainSeq: ${chainSeq} is not a position of a chain`);
    if (head.length !== 32) throw new RangeError(`head: ${head.length} bytes, a SHA-256 hash has 32`);
    this.prefix = `["${jsonBody(sourceTopic)}","${sourcePartition}","`;
    this.prefixPlain = PLAIN_ASCII.test(sourceTopic);
    this.headLatin1 = head.toString('latin1');
    this.input = Buffer.alloc(Math.max(1024, 32 + this.prefix.length * 4));
    this.contentStart = this.prefixPlain ? writeAscii(this.input, 32, this.prefix) : 32;
  }

  get head(): Buffer {
    return Buffer.from(this.headLatin1, 'latin1');
  }

  /** Starts a transaction: the entries appended next belong to it. */
  transaction(transactionId: string, sourceEventId: string, sourceOffset: number): this {
    this.middle = `","${jsonBody(transactionId)}","`;
    this.tail = `","${jsonBody(sourceEventId)}","${sourceOffset}"]`;
    this.transactionPlain = this.prefixPlain && PLAIN_ASCII.test(transactionId) && PLAIN_ASCII.test(sourceEventId);
    return this;
  }

  /** Chains the transaction's next entry: moves chainSeq and the head on, and returns the entry's hash as a latin1 string. */
  append(postingIndex: number, account: string, asset: string, amountMinor: bigint): string {
    this.chainSeq += 1;
    if (oneShotHash && this.transactionPlain && PLAIN_ASCII.test(account) && PLAIN_ASCII.test(asset)) {
      const amount = amountMinor >= -SAFE_MAX && amountMinor <= SAFE_MAX ? Number(amountMinor) : null;
      const room =
        this.contentStart +
        64 +
        this.middle.length +
        account.length +
        asset.length +
        this.tail.length +
        3 * 3 +
        (amount === null ? 21 : 0);
      if (this.input.length < room) {
        const grown = Buffer.alloc(room * 2);
        this.input.copy(grown, 0, 0, this.contentStart);
        this.input = grown;
      }
      const input = this.input;
      writeAscii(input, 0, this.headLatin1);
      let position = writeInteger(input, this.contentStart, this.chainSeq);
      position = writeAscii(input, position, this.middle);
      position = writeInteger(input, position, postingIndex);
      position = writeAscii(input, position, QUOTE_COMMA_QUOTE);
      position = writeAscii(input, position, account);
      position = writeAscii(input, position, QUOTE_COMMA_QUOTE);
      position = writeAscii(input, position, asset);
      position = writeAscii(input, position, QUOTE_COMMA_QUOTE);
      position =
        amount === null ? writeAscii(input, position, amountMinor.toString()) : writeInteger(input, position, amount);
      position = writeAscii(input, position, this.tail);
      this.headLatin1 = oneShotHash('sha256', input.subarray(0, position), 'latin1');
    } else {
      this.headLatin1 = sha256After(
        this.headLatin1,
        `${this.prefix}${this.chainSeq}${this.middle}${postingIndex}","${jsonBody(account)}","${jsonBody(asset)}","${amountMinor}${this.tail}`,
      );
    }
    return this.headLatin1;
  }
}

export interface ChainMismatch {
  /** The chainSeq the row claims (or the one expected, when a row is missing). */
  readonly chainSeq: bigint;
  readonly rowNumber: number;
  readonly reason: string;
}

/**
 * Walks one partition's entries in stored order (by chainSeq) and returns the first that does not
 * fit: a sequence gap or repeat (a deleted, inserted or reordered row), or a hash that the content
 * and the previous hash do not give (a modified row). Null when the whole chain holds.
 */
export function verifyChain(
  entries: Iterable<ChainedEntry & { readonly hash: Buffer }>,
  from: { chainSeq: bigint; hash: Buffer } = { chainSeq: 0n, hash: GENESIS_HASH },
  rowNumberStart = 0,
): ChainMismatch | null {
  let previousHash = from.hash;
  let expectedSeq = from.chainSeq + 1n;
  let rowNumber = rowNumberStart;
  for (const entry of entries) {
    rowNumber += 1;
    if (entry.chainSeq !== expectedSeq) {
      return {
        chainSeq: entry.chainSeq,
        rowNumber,
        reason: `chain_seq ${entry.chainSeq} where ${expectedSeq} was expected (a row was deleted, inserted or reordered)`,
      };
    }
    const hash = entryHash(previousHash, entry);
    if (!hash.equals(entry.hash)) {
      return {
        chainSeq: entry.chainSeq,
        rowNumber,
        reason: 'hash does not match the content and the previous hash (the row or its hash was modified)',
      };
    }
    previousHash = hash;
    expectedSeq += 1n;
  }
  return null;
}
