// Proves sortInPlace sorts exactly as Array.prototype.sort does with the same comparator (it is stable
// too), for short lists sorted by insertion and long ones handed to the built-in sort, by fast-check
// comparison over lists with many equal keys.
import fc from 'fast-check';
import { sortInPlace } from '../src/sort';

describe('sortInPlace', () => {
  it('gives the same order as Array.prototype.sort, equal keys in their original order, at any length', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat()), { maxLength: 80 }), (pairs) => {
        const compare = (left: [number, number], right: [number, number]) => left[0] - right[0];
        const expected = [...pairs].sort(compare);
        const items = [...pairs];
        expect(sortInPlace(items, compare)).toBe(items);
        expect(items).toEqual(expected);
      }),
    );
  });
});
