// Proves retryOnCatalogRace runs a step again only when PostgreSQL refused it for a race with another
// session's DDL (a deadlock, a catalog row updated twice at once), and at most attemptsMax times in all.
import { DEADLOCK_DETECTED, isCatalogRace, retryOnCatalogRace } from './retry-on-catalog-race';

const deadlock = () => Object.assign(new Error('deadlock detected'), { code: DEADLOCK_DETECTED });
const retry = { attemptsMax: 3, backoffMs: 1 };

describe('retryOnCatalogRace', () => {
  it('runs the step again after a deadlock and returns what it finally gives', async () => {
    let runs = 0;
    const result = await retryOnCatalogRace(async () => {
      runs += 1;
      if (runs === 1) throw deadlock();
      if (runs === 2) throw Object.assign(new Error('tuple concurrently updated'), { code: 'XX000' });
      return 'granted';
    }, retry);
    expect(result).toBe('granted');
    expect(runs).toBe(3);
  });

  it('throws the last race once the attempts are spent', async () => {
    let runs = 0;
    await expect(
      retryOnCatalogRace(async () => {
        runs += 1;
        throw deadlock();
      }, retry),
    ).rejects.toThrow('deadlock detected');
    expect(runs).toBe(3);
  });

  it('throws any other error at once', async () => {
    let runs = 0;
    await expect(
      retryOnCatalogRace(async () => {
        runs += 1;
        throw Object.assign(new Error('permission denied'), { code: '42501' });
      }, retry),
    ).rejects.toThrow('permission denied');
    expect(runs).toBe(1);
  });

  it("recognises TypeORM's wrapping of a race, and refuses a nonsensical attempt count", async () => {
    expect(isCatalogRace({ driverError: { code: DEADLOCK_DETECTED } })).toBe(true);
    expect(
      isCatalogRace({ message: 'query failed', driverError: { code: 'XX000', message: 'tuple concurrently updated' } }),
    ).toBe(true);
    expect(isCatalogRace(Object.assign(new Error('internal'), { code: 'XX000' }))).toBe(false);
    expect(isCatalogRace(null)).toBe(false);
    await expect(retryOnCatalogRace(async () => 1, { attemptsMax: 0, backoffMs: 1 })).rejects.toThrow(
      'attemptsMax must be a positive integer, got 0',
    );
  });
});
