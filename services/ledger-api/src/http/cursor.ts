import { ApiError } from './api-error';

/**
 * Opaque keyset cursors: the sort key of the last row of a page, base64url JSON. Pages are read with
 * `WHERE key > cursor`, so rows inserted meanwhile never shift a page: every row that existed when
 * pagination started is returned exactly once, and new rows appear only after the cursor's position.
 */
export function encodeCursor(kind: string, key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

export function decodeCursor(
  kind: string,
  cursor: string,
  shape: ReadonlyArray<'string' | 'integer' | 'bigint'>,
): Array<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw ApiError.badRequest([{ field: 'cursor', rule: 'cursor' }]);
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length === shape.length + 1 &&
    parsed[0] === kind &&
    shape.every((type, index) => {
      const value: unknown = parsed[index + 1];
      return type === 'string'
        ? typeof value === 'string' && value.length <= 512
        : typeof value === 'number'
          ? Number.isSafeInteger(value) && value >= 0
          : typeof value === 'string' && /^\d{1,19}$/.test(value);
    });
  if (!valid) throw ApiError.badRequest([{ field: 'cursor', rule: `cursor-of:${kind}` }]);
  return (parsed as unknown[]).slice(1).map(String);
}
