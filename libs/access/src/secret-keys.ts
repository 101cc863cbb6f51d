// Bearer secrets of one shape for every kind of key: `<prefix>_<12 hex id>_<43 base64url>`. The id is
// public (the operator lists and revokes by it); the secret part is 256 random bits, shown once when the
// key is made, and only its SHA-256 is stored. A plain hash (no salt, no slow KDF) is enough because
// nobody can guess 256 random bits, so there is nothing for a slow hash to protect against, and a
// look-up stays one index probe. The gateway's API keys (`trb_`) and the read credentials (`trr_`) use it.
import { createHash, randomBytes } from 'node:crypto';

export interface NewSecretKey {
  readonly keyId: string;
  /** The secret to hand over; never stored. */
  readonly key: string;
  readonly keySha256: string;
}

export const KEY_ID = /^[0-9a-f]{12}$/;

export class SecretKeyFormat {
  private readonly pattern: RegExp;

  constructor(readonly prefix: string) {
    if (!/^[a-z]{2,8}$/.test(prefix)) throw new RangeError('prefix: must be 2 to 8 lowercase letters');
    this.pattern = new RegExp(`^${prefix}_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$`);
  }

  generate(): NewSecretKey {
    const keyId = randomBytes(6).toString('hex');
    const key = `${this.prefix}_${keyId}_${randomBytes(32).toString('base64url')}`;
    return { keyId, key, keySha256: hashSecretKey(key) };
  }

  /** True when the string has the shape of a key of this kind, so garbage never reaches the database. */
  looksLike(candidate: string): boolean {
    return this.pattern.test(candidate);
  }
}

export function hashSecretKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
