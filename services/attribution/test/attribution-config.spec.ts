// Proves the operator's protocol share (policy v2) is validated at start: an integer from 0 to 10000, refused naming the variable and the rule.
import { unitSpecKafkaEnv } from '@tributary/testing';
import { attributionConfig, splitPolicy } from '../src/attribution.config';

describe('ATTRIBUTION_PROTOCOL_BPS', () => {
  it('given a valid share, then the service decides under policy v2 with it', () => {
    expect(splitPolicy({ ATTRIBUTION_PROTOCOL_BPS: 1000 })).toEqual({ version: 2, protocolBps: 1000 });
  });

  it.each([
    ['10001', 'ATTRIBUTION_PROTOCOL_BPS: must be at most 10000'],
    ['-1', 'ATTRIBUTION_PROTOCOL_BPS: must be at least 0'],
    ['12.5', 'ATTRIBUTION_PROTOCOL_BPS: must be an integer'],
  ])('given %s, then the service refuses to start, naming the variable and the rule', (value, message) => {
    expect(() => attributionConfig({ ATTRIBUTION_PROTOCOL_BPS: value })).toThrow(message);
  });
});

// A batch holds its transaction's connection while it waits for the table fold: with no connection left
// for the fold, every batch would wait until its ordering wait ran out, and again on every retry.
describe('ATTRIBUTION_DB_POOL_MAX', () => {
  it('given more connections than partitions decided at once, then the service starts', () => {
    const config = attributionConfig({
      ...unitSpecKafkaEnv(),
      ATTRIBUTION_DB_POOL_MAX: '7',
      ATTRIBUTION_PARTITIONS_CONCURRENTLY: '6',
    });
    expect(config.ATTRIBUTION_DB_POOL_MAX).toBe(7);
  });

  it.each([
    ['6', '6'],
    ['4', '12'],
  ])(
    'given %s connections for %s partitions at once, then the service refuses to start, naming the rule',
    (pool, partitions) => {
      expect(() =>
        attributionConfig({ ATTRIBUTION_DB_POOL_MAX: pool, ATTRIBUTION_PARTITIONS_CONCURRENTLY: partitions }),
      ).toThrow(`ATTRIBUTION_DB_POOL_MAX: must be more than ATTRIBUTION_PARTITIONS_CONCURRENTLY (${partitions})`);
    },
  );
});
