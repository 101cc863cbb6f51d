// Proves how a batch that fails because of its records is taken apart: failures are classified by
// SQLSTATE class and Kafka error type (never by message), the poison records, wherever they sit, are the
// only ones dead-lettered, every other record is applied exactly once and in offset order, and an
// infrastructure failure still stops the loop.
import fc from 'fast-check';
import { applyIsolatingFaults, isRecordFault, RecordFault, type SliceOutcome } from './record-faults';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('isRecordFault', () => {
  it.each(['22003', '22P02', '23505', '23514', '54000'])('takes SQLSTATE %s for the record', (code) => {
    expect(isRecordFault(pgError(code))).toBe(true);
  });

  it.each(['08006', '40001', '40P01', '53300', '57P01', 'XX000', '42P01'])(
    'takes SQLSTATE %s for the infrastructure (or a bug): retried',
    (code) => {
      expect(isRecordFault(pgError(code))).toBe(false);
    },
  );

  it('looks inside a wrapped driver error', () => {
    expect(isRecordFault(Object.assign(new Error('query failed'), { driverError: pgError('22003') }))).toBe(true);
  });

  it('takes Kafka refusing a record for the record, a broker error for the infrastructure', () => {
    expect(isRecordFault(Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' }))).toBe(true);
    expect(isRecordFault(Object.assign(new Error('leader moved'), { type: 'NOT_LEADER_FOR_PARTITION' }))).toBe(false);
    expect(isRecordFault(new RecordFault('decided not to be retried'))).toBe(true);
    expect(isRecordFault(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(isRecordFault(undefined)).toBe(false);
  });
});

describe('applyIsolatingFaults', () => {
  /** A transactional store of applied records: a slice holding poison applies nothing. */
  function harness(poison: ReadonlySet<number>) {
    const applied: number[] = [];
    const deadLettered: number[] = [];
    /** Applied and dead-lettered records as they happened. */
    const log: number[] = [];
    let attempts = 0;
    const apply = async (slice: readonly number[]): Promise<SliceOutcome> => {
      attempts += 1;
      const bad = slice.find((record) => poison.has(record));
      if (bad !== undefined) return { kind: 'fault', error: pgError('22003') };
      applied.push(...slice);
      log.push(...slice);
      return { kind: 'done' };
    };
    const deadLetter = async (record: number) => {
      deadLettered.push(record);
      log.push(record);
    };
    return { applied, deadLettered, log, apply, deadLetter, attempts: () => attempts };
  }

  it('applies a clean batch in one attempt', async () => {
    const run = harness(new Set());
    await expect(applyIsolatingFaults([1, 2, 3, 4], run.apply, run.deadLetter)).resolves.toBe(true);
    expect(run.applied).toEqual([1, 2, 3, 4]);
    expect(run.attempts()).toBe(1);
  });

  it('dead-letters exactly the poison records and applies every other once, in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.nat({ max: 199 }), { maxLength: 12 }),
        async (size, poisonAt) => {
          const records = Array.from({ length: size }, (_, index) => index);
          const poison = new Set(poisonAt.filter((index) => index < size));
          const run = harness(poison);
          await applyIsolatingFaults(records, run.apply, run.deadLetter);
          expect(run.deadLettered).toEqual([...poison].sort((a, b) => a - b));
          expect(run.applied).toEqual(records.filter((record) => !poison.has(record)));
          // Everything in offset order, dead letters included: a position only moves forward.
          expect(run.log).toEqual(records);
        },
      ),
    );
  });

  it('finds one poison record among 1,000 in about 2·log2(n) attempts', async () => {
    const run = harness(new Set([613]));
    await applyIsolatingFaults(
      Array.from({ length: 1_000 }, (_, index) => index),
      run.apply,
      run.deadLetter,
    );
    expect(run.deadLettered).toEqual([613]);
    expect(run.attempts()).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1_000)) + 1);
  });

  it('stops when the partition moved away, and lets an infrastructure failure through', async () => {
    await expect(
      applyIsolatingFaults(
        [1, 2],
        async () => ({ kind: 'stopped' }),
        async () => undefined,
      ),
    ).resolves.toBe(false);
    await expect(
      applyIsolatingFaults(
        [1, 2],
        async () => Promise.reject(new Error('database down')),
        async () => undefined,
      ),
    ).rejects.toThrow('database down');
  });
});
