// Proves the flow diagram's arithmetic with fast-check: whatever the credits and the top-N cut, the
// first column sums to the fees, every datanet node's outflow equals its inflow, and nothing is lost
// to the "other" nodes, however many contributors may be named.
import fc from 'fast-check';
import { flowGraph } from './analytics-queries';

describe('flowGraph', () => {
  const credit = fc.record({
    datanetId: fc.constantFrom('a', 'b', 'c', 'd'),
    account: fc.constantFrom('contributor:x', 'contributor:y', 'contributor:z'),
    amountMinor: fc.bigInt({ min: 1n, max: 10n ** 12n }),
  });

  it('keeps the totals exact per column and per node', () => {
    fc.assert(
      fc.property(
        fc.array(credit, { maxLength: 30 }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        (credits, protocol, model, top, contributorsTop) => {
          const contributors = credits.reduce((sum, c) => sum + c.amountMinor, 0n);
          const fees = protocol + model + contributors;
          const roles: Record<string, bigint> = { protocol, 'model-owner': model, contributor: contributors };
          const { nodes, links } = flowGraph(fees, (role) => roles[role] ?? 0n, credits, top, contributorsTop);
          const total = (column: number) =>
            nodes.filter((node) => node.column === column).reduce((sum, node) => sum + BigInt(node.valueMinor), 0n);
          expect(total(1)).toBe(fees);
          expect(total(2)).toBe(contributors);
          for (const node of nodes.filter((n) => n.id.startsWith('datanet:'))) {
            const out = links
              .filter((link) => link.source === node.id)
              .reduce((sum, link) => sum + BigInt(link.valueMinor), 0n);
            expect(out).toBe(BigInt(node.valueMinor));
          }
          expect(
            nodes.filter((node) => node.column === 2 && node.id !== 'contributor:(other)').length,
          ).toBeLessThanOrEqual(contributorsTop);
        },
      ),
    );
  });

  it('names no contributor when none may be named (an analyst reads the sum of them all)', () => {
    const credits = [
      { datanetId: 'a', account: 'contributor:x', amountMinor: 5n },
      { datanetId: 'b', account: 'contributor:y', amountMinor: 7n },
    ];
    const { nodes } = flowGraph(12n, (role) => (role === 'contributor' ? 12n : 0n), credits, 8, 0);
    expect(nodes.filter((node) => node.column === 2)).toEqual([
      { id: 'contributor:(other)', label: 'Contributors', column: 2, valueMinor: '12', href: null },
    ]);
  });
});
