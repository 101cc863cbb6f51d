/**
 * Decoding text that is usually the same as last time (a header's name, most headers' values) without
 * decoding it again: bytes that are exactly a held ASCII string's encoding decode to exactly that
 * string, so it is reused instead of allocating an equal one per record.
 */

/** Whether every char of the text is ASCII (then its UTF-8 bytes are its char codes). */
function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** Whether bytes[start, end) are the UTF-8 encoding of `ascii`, a string isAscii holds for. */
function asciiEquals(bytes: Uint8Array, start: number, end: number, ascii: string): boolean {
  if (end - start !== ascii.length || end > bytes.length) return false;
  for (let index = 0; index < ascii.length; index += 1)
    if (bytes[start + index] !== ascii.charCodeAt(index)) return false;
  return true;
}

/**
 * The last text decoded under each key (a header's position, a header's name). Bounded: at most
 * `keysMax` keys, and only ASCII texts of at most `lengthMax` chars are held; anything else is decoded
 * every time.
 */
export class RecentTexts<K> {
  private readonly texts = new Map<K, string>();

  constructor(
    private readonly keysMax: number,
    private readonly lengthMax: number,
  ) {}

  /** bytes[start, end) as UTF-8 text, as Buffer#toString gives it: the held string itself when the bytes are its encoding. */
  decode(key: K, bytes: Buffer, start: number, end: number): string {
    const last = this.texts.get(key);
    if (last !== undefined && asciiEquals(bytes, start, end, last)) return last;
    const text = bytes.toString('utf8', start, end);
    if (text.length <= this.lengthMax && isAscii(text) && (last !== undefined || this.texts.size < this.keysMax))
      this.texts.set(key, text);
    return text;
  }
}
