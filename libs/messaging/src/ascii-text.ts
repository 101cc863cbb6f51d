/**
 * Decoding text that is usually the same as last time (a header's name, most headers' values) without
 * decoding it again: bytes that are exactly a held ASCII string's encoding decode to exactly that
 * string, so it is reused instead of allocating an equal one per record.
 */

/** Whether every char of the text is ASCII (then its UTF-8 bytes are its char codes). */
export function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** Whether bytes[start, end) are the UTF-8 encoding of `ascii`, a string isAscii holds for. */
export function asciiEquals(bytes: Uint8Array, start: number, end: number, ascii: string): boolean {
  if (end - start !== ascii.length || end > bytes.length) return false;
  for (let index = 0; index < ascii.length; index += 1) if (bytes[start + index] !== ascii.charCodeAt(index)) return false;
  return true;
}
