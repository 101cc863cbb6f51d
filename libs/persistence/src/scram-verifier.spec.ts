// Proves the verifier sent in place of a role's password is the one PostgreSQL itself stores, by
// comparing with what a PostgreSQL 15 server kept for the same password and salt.
import { scramSha256Verifier } from './scram-verifier';

describe('the SCRAM-SHA-256 verifier of a role password', () => {
  it("is what PostgreSQL stores for that password and salt (pg_authid.rolpassword, 'pencil-reader')", () => {
    const salt = Buffer.from('EPQgy1Z7FIyjGcwfQdjUwQ==', 'base64');
    expect(scramSha256Verifier('pencil-reader', salt)).toBe(
      'SCRAM-SHA-256$4096:EPQgy1Z7FIyjGcwfQdjUwQ==$19+XdTt2JllsjZmwuEyxw7E2BqS3nQtJCSj7PdsctGM=:zyA+yy7SKAfM1pI70C95Wyoz1JMDQp4XvOYgja9RVnI=',
    );
  });

  it('never holds the password, and a fresh salt makes each verifier different', () => {
    const first = scramSha256Verifier('pencil-reader');
    expect(first).not.toContain('pencil-reader');
    expect(scramSha256Verifier('pencil-reader')).not.toBe(first);
  });

  it('refuses a password outside printable ASCII, where SASLprep could change it', () => {
    expect(() => scramSha256Verifier('pässword')).toThrow('printable ASCII');
  });
});
