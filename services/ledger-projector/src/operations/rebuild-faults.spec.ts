import { describeError, isRecordFault } from './rebuild-faults';
import { describeBehind } from './rebuild-engine';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('rebuild faults', () => {
  it('holds a record to blame for data exceptions, constraint violations and program limits, by SQLSTATE', () => {
    expect(isRecordFault(pgError('22003', 'bigint out of range'))).toBe(true);
    expect(isRecordFault(pgError('22P02', 'invalid input syntax'))).toBe(true);
    expect(isRecordFault(pgError('23505', 'duplicate key value'))).toBe(true);
    expect(isRecordFault(pgError('54000', 'index row size exceeds maximum'))).toBe(true);
    // TypeORM's QueryFailedError carries the driver's error beside it.
    expect(isRecordFault(Object.assign(new Error('query failed'), { driverError: pgError('22003', 'out of range') }))).toBe(true);
  });

  it('holds the infrastructure to blame for everything else', () => {
    expect(isRecordFault(pgError('57P01', 'terminating connection due to administrator command'))).toBe(false);
    expect(isRecordFault(pgError('40P01', 'deadlock detected'))).toBe(false);
    expect(isRecordFault(pgError('08006', 'connection failure'))).toBe(false);
    expect(isRecordFault(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isRecordFault(Object.assign(new Error('bigint out of range'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isRecordFault(undefined)).toBe(false);
  });

  it('describes a failure in one line, SQLSTATE first, never [object Object]', () => {
    expect(describeError(pgError('22003', 'bigint out of range'))).toBe('SQLSTATE 22003: bigint out of range');
    expect(describeError({ reason: 'odd', amount: 1n })).toBe('{"reason":"odd","amount":"1"}');
    expect(describeError('plain')).toBe('plain');
  });

  it('names the partitions behind, furthest first, with their offsets', () => {
    expect(
      describeBehind([
        { topic: 't.attributions', partition: 0, position: 90n, target: 100n },
        { topic: 't.attributions', partition: 4, position: 7n, target: 1_000n },
      ]),
    ).toBe('t.attributions[4] at offset 7, target 1000; t.attributions[0] at offset 90, target 100');
  });
});
