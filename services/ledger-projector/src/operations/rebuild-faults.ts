/**
 * Which failures of a rebuild batch a record causes. The rule is the live transport's (issue 18): a
 * failure the record's content causes is deterministic, so the record is refused alone and the
 * partition goes on; a failure of the infrastructure stops the run. PostgreSQL errors are judged by
 * SQLSTATE class, never by message text: 22 data exception (a value out of range, invalid text),
 * 23 integrity constraint violation, 54 program limit exceeded (an index row or an array too large).
 * A rebuild must refuse exactly what live refused, or the digests differ, so keep the classes equal
 * to libs/messaging's.
 */
const RECORD_FAULT_SQLSTATE_CLASSES = new Set(['22', '23', '54']);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Whether `error` was caused by the records being applied, so applying them again can only fail again. */
export function isRecordFault(error: unknown): boolean {
  const { code, driverError } = (error ?? {}) as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string' && SQLSTATE.test(code)) return RECORD_FAULT_SQLSTATE_CLASSES.has(code.slice(0, 2));
  // TypeORM wraps the driver's error; the SQLSTATE is on both, but look inside in case only there.
  return driverError !== undefined && driverError !== error && isRecordFault(driverError);
}

/** A failure in one line: its message, SQLSTATE first when PostgreSQL gave one; never `[object Object]`. */
export function describeError(error: unknown): string {
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  const sqlState = typeof code === 'string' && SQLSTATE.test(code) ? `SQLSTATE ${code}: ` : '';
  if (typeof message === 'string' && message.length > 0) return `${sqlState}${message}`;
  if (typeof error === 'string') return error;
  try {
    return `${sqlState}${JSON.stringify(error, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ?? String(error)}`.slice(0, 1_000);
  } catch {
    return `${sqlState}a thrown value that cannot be shown`;
  }
}
