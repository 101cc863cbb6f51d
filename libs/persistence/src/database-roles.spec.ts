import { ConfigError } from '@tributary/config';
import { DATABASE_ACCESS, OWNER_WRITTEN_SCHEMAS, serviceDatabaseConfig } from './database-roles';

describe('serviceDatabaseConfig', () => {
  const owner = 'postgres://owner:owner-secret@db.example:5432/tributary';

  it("derives the role's connection from the owner's: same server and database, the role's credentials", () => {
    const database = serviceDatabaseConfig('gateway', { DATABASE_URL: owner, GATEWAY_DB_PASSWORD: 'p@ss word' });
    expect(database.role).toBe('tributary_gateway');
    expect(database.schema).toBe('gateway');
    expect(database.migrate).toBe(true);
    const url = new URL(database.url);
    expect([url.username, decodeURIComponent(url.password), url.host, url.pathname]).toEqual([
      'tributary_gateway',
      'p@ss word',
      'db.example:5432',
      '/tributary',
    ]);
    expect(database.url).not.toContain('owner-secret');
  });

  it('takes an explicit role connection, role name and migrate=false', () => {
    const database = serviceDatabaseConfig('payouts', {
      PAYOUTS_DB_ROLE: 'pay_role',
      PAYOUTS_DB_URL: 'postgres://pay_role:x@db/tributary',
      PAYOUTS_MIGRATE: 'false',
    });
    expect([database.role, database.url, database.migrate]).toEqual([
      'pay_role',
      'postgres://pay_role:x@db/tributary',
      false,
    ]);
  });

  it("takes the role and its password from the role's URL when they are not set beside it", () => {
    const database = serviceDatabaseConfig('attribution', {
      ATTRIBUTION_DB_URL: 'postgres://attr_role:s%40cret@db/tributary',
    });
    expect([database.role, database.password]).toEqual(['attr_role', 's@cret']);
  });

  it("keeps the ledger API's reader variables", () => {
    const database = serviceDatabaseConfig('ledger-api', {
      LEDGER_API_READER_ROLE: 'reader_x',
      LEDGER_API_MIGRATE: 'false',
    });
    expect([database.role, database.migrate, database.schema]).toEqual(['reader_x', false, 'ledger_api']);
  });

  it("hands the owner's connection out once, and forgets it in process.env too", () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = owner;
    try {
      const database = serviceDatabaseConfig('attribution');
      expect(database.takeOwnerUrl()).toBe(owner);
      expect(process.env.DATABASE_URL).toBeUndefined();
      expect(() => database.takeOwnerUrl()).toThrow('the owner');
      expect(JSON.stringify(database)).not.toContain('owner-secret');
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  it.each([
    [{ GATEWAY_DB_ROLE: 'Robert"; DROP' }, 'GATEWAY_DB_ROLE: must be lowercase letters'],
    [{ GATEWAY_DB_PASSWORD: 'pässword-leak' }, 'GATEWAY_DB_PASSWORD: must be printable ASCII'],
    [{ GATEWAY_DB_URL: 'postgres://r:url-leak@[db/x' }, 'GATEWAY_DB_URL: must be a postgres://'],
    [{ GATEWAY_MIGRATE: 'yes' }, 'GATEWAY_MIGRATE: must be true or false'],
    [
      { GATEWAY_DB_ROLE: 'gw', GATEWAY_DB_URL: 'postgres://other:url-leak@db/x' },
      'GATEWAY_DB_URL: its user must be GATEWAY_DB_ROLE',
    ],
    [{ GATEWAY_DB_URL: 'postgres://Bad-Role:url-leak@db/x' }, 'GATEWAY_DB_URL: its user must be a role name'],
    [
      { GATEWAY_DB_URL: 'postgres://gw:url-leak%zz@db/x' },
      'GATEWAY_DB_URL: its user and password must be percent-encoded',
    ],
    [{ DATABASE_URL: 'mysql://o:owner-leak@db/x' }, 'DATABASE_URL: must be a postgres://'],
  ])('refuses %j naming the variable and the rule, never the value', (env, message) => {
    let error: unknown;
    try {
      serviceDatabaseConfig('gateway', env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toMatch(/leak|DROP/);
  });

  it('gives every role its own schema and no write outside it', () => {
    const schemas = Object.values(DATABASE_ACCESS).map((access) => access.schema);
    expect(new Set(schemas).size).toBe(schemas.length);
    const roles = Object.values(DATABASE_ACCESS).map((access) => access.role);
    expect(new Set(roles).size).toBe(roles.length);
    for (const access of Object.values(DATABASE_ACCESS))
      for (const read of access.reads) expect([...schemas, ...OWNER_WRITTEN_SCHEMAS]).toContain(read);
  });
});
