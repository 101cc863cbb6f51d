import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

const ITERATIONS = 4096;
const SALT_BYTES = 16;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, the form `\password` sends),
 * so `ALTER ROLE ... PASSWORD '<verifier>'` sets a password without the password itself ever reaching the
 * server: a failing statement is written to the server's log with its text, and so is every DDL statement
 * under log_statement = 'ddl'. The password must be printable ASCII, where PostgreSQL's SASLprep changes
 * nothing (the configuration holds it to that).
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  if (!/^[\x20-\x7e]*$/.test(password)) throw new RangeError('the password must be printable ASCII');
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
