// The projector's consumer settings: two partitions at once by default (its transactions share rows),
// the environment still deciding, and every other consumer keeping the common default.
import { transportOptionsFrom, type OffsetStore } from '@tributary/messaging';
import { unitSpecKafkaEnv } from '@tributary/testing';
import { projectorTransportOptions } from './projector.config';

const offsetStore: OffsetStore = {
  load: async () => [],
  advance: async () => undefined,
};
const config = { LEDGER_PROJECTOR_GROUP_ID: 'tributary.ledger-projector' };

describe("the projector's consumer", () => {
  it('takes two partitions at once by default, with its own group and offset store', () => {
    const options = projectorTransportOptions(config, offsetStore, unitSpecKafkaEnv());
    expect(options.partitionsConsumedConcurrently).toBe(2);
    expect(options.groupId).toBe('tributary.ledger-projector');
    expect(options.offsetStore).toBe(offsetStore);
  });

  it('keeps its default when the variable is named but holds nothing', () => {
    const env = { ...unitSpecKafkaEnv(), CONSUMER_PARTITIONS_CONCURRENTLY: undefined };
    expect(projectorTransportOptions(config, offsetStore, env).partitionsConsumedConcurrently).toBe(2);
  });

  it('takes what CONSUMER_PARTITIONS_CONCURRENTLY says when it is set', () => {
    const env = { ...unitSpecKafkaEnv(), CONSUMER_PARTITIONS_CONCURRENTLY: '6' };
    expect(projectorTransportOptions(config, offsetStore, env).partitionsConsumedConcurrently).toBe(6);
  });

  it('refuses an out-of-range value, naming the variable', () => {
    const env = { ...unitSpecKafkaEnv(), CONSUMER_PARTITIONS_CONCURRENTLY: '0' };
    expect(() => projectorTransportOptions(config, offsetStore, env)).toThrow(
      'CONSUMER_PARTITIONS_CONCURRENTLY: must be at least 1',
    );
  });

  it('leaves the common default (every partition of a topic) to the other consumers', () => {
    expect(
      transportOptionsFrom('tributary.attribution.tables', unitSpecKafkaEnv()).partitionsConsumedConcurrently,
    ).toBe(6);
  });
});
