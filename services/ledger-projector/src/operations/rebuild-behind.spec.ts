import { describeBehind } from './rebuild-engine';

describe('a rebuild that cannot reach its targets', () => {
  it('names the partitions behind, furthest first, with their offsets', () => {
    expect(
      describeBehind([
        { topic: 't.attributions', partition: 0, position: 90n, target: 100n },
        { topic: 't.attributions', partition: 4, position: 7n, target: 1_000n },
      ]),
    ).toBe('t.attributions[4] at offset 7, target 1000; t.attributions[0] at offset 90, target 100');
  });
});
