// Proves the operator's protocol share (policy v2) is validated at start: an integer from 0 to 10000, refused naming the variable and the rule.
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
