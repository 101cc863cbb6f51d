import { lockCreatingOnMiss } from './locked-row';

describe('lockCreatingOnMiss', () => {
  it('takes the lock once and creates nothing when the row exists', async () => {
    const lock = jest.fn(async () => [{ next: '7' }]);
    const create = jest.fn(async () => undefined);
    await expect(lockCreatingOnMiss(lock, create)).resolves.toEqual([{ next: '7' }]);
    expect(lock).toHaveBeenCalledTimes(1);
    expect(create).not.toHaveBeenCalled();
  });

  it('creates a missing row, then takes the lock again', async () => {
    const calls: string[] = [];
    let created = false;
    const lock = async () => {
      calls.push('lock');
      return created ? [{ next: '0' }] : [];
    };
    const create = async () => {
      calls.push('create');
      created = true;
    };
    await expect(lockCreatingOnMiss(lock, create)).resolves.toEqual([{ next: '0' }]);
    expect(calls).toEqual(['lock', 'create', 'lock']);
  });

  it('fails, saying so, when the row is still missing after its creation', async () => {
    await expect(
      lockCreatingOnMiss(
        async () => [],
        async () => undefined,
      ),
    ).rejects.toThrow('the row was created, yet the lock found none');
  });
});
