import fc from 'fast-check';
import { assertSchemaName, parsePositionKey, positionKey } from './ledger-queries';

describe('position keys', () => {
  it('give back the topic and partition they were built from, for any legal topic name', () => {
    const topicName = fc.stringMatching(/^[a-zA-Z0-9._-]{1,249}$/);
    fc.assert(
      fc.property(topicName, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (topic, partition) => {
        expect(parsePositionKey(positionKey(topic, partition))).toEqual({ topic, partition });
      }),
    );
  });

  it('read the partition after the last slash', () => {
    expect(parsePositionKey('tributary.attributions/11')).toEqual({ topic: 'tributary.attributions', partition: 11 });
  });
});

describe('assertSchemaName', () => {
  it('accepts a lowercase identifier and refuses anything that could break out of SQL, naming the flag', () => {
    expect(assertSchemaName('ledger_rebuild_1')).toBe('ledger_rebuild_1');
    expect(() => assertSchemaName('ledger; DROP TABLE x', '--into')).toThrow(
      /--into: "ledger; DROP TABLE x" must be lowercase letters/,
    );
    expect(() => assertSchemaName('Ledger')).toThrow(/--schema/);
  });
});
