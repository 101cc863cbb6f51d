// Holds the fast paths to the explaining ones: limitsHold (compiled, one bit) must agree with the
// limits walk on any value, and encodeEvent's write-first path must accept exactly what the full
// validation accepts, producing the same bytes, and refuse with the same issues.
import fc from 'fast-check';
import { encodeEvent } from './codec';
import { ContractError, type ContractIssue } from './contract-error';
import { EVENT_TYPES, type EventType } from './generated/event-types';
import { getEventContract } from './registry';
import { SAMPLE_EVENTS } from './sample-events.fixture';
import { limitIssues, limitsHold, validateValue } from './validation';

type Path = ReadonlyArray<string | number>;

/** Every path to a value inside a sample (fields, array items), the root excluded. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value))
    return value.flatMap((item, index) => [[...prefix, index], ...pathsOf(item, [...prefix, index])]);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
  }
  return [];
}

function replaced(root: unknown, path: Path, replacement: unknown, asExtraField: boolean): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (asExtraField && typeof last === 'string') parent[`${last}Typo`] = replacement;
  else if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

/** Values at and around every bound the schemas declare (lengths, counts, min and max). */
const LENGTH_EDGES = [0, 1, 32, 33, 64, 65, 128, 129, 256, 257, 4_096, 4_097];
const NUMBER_EDGES = [-1, 0, 1, 2, 10_000, 10_001, 1_000_000, 1_000_001, 3_600_000, 3_600_001];
const COUNT_EDGES = [256, 257, 1_000, 1_001, 1_500, 1_501];

const replacements = fc.oneof(
  fc.constantFrom(...LENGTH_EDGES).map((length) => 'x'.repeat(length)),
  fc.constantFrom(...NUMBER_EDGES).chain((edge) => fc.constantFrom<unknown>(edge, BigInt(edge))),
  fc
    .constantFrom(...COUNT_EDGES)
    .map((count) => Array.from({ length: count }, () => ({ accountId: 'a', asset: 'USDC', amountMinor: 1n }))),
  fc.constantFrom<unknown>(
    undefined,
    null,
    '',
    'x'.repeat(5_000),
    -1n,
    0n,
    1n,
    10_001n,
    2n ** 62n,
    2n ** 64n,
    -1,
    0,
    10_001,
    2 ** 53,
    1.5,
    true,
    [],
    {},
  ),
  fc.string({ maxLength: 300 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.integer(),
  fc.array(fc.constant({ accountId: 'a', asset: 'USDC', amountMinor: 1n }), { maxLength: 1_200 }),
);

const mutatedEvents = fc.constantFrom(...EVENT_TYPES).chain((eventType: EventType) => {
  const sample = SAMPLE_EVENTS[eventType];
  const paths = pathsOf(sample);
  return fc
    .tuple(
      fc.constant(eventType),
      fc.array(fc.tuple(fc.constantFrom(...paths), replacements, fc.boolean()), { maxLength: 3 }),
    )
    .map(([type, edits]) => ({
      eventType: type,
      value: edits.reduce<unknown>(
        (value, [path, replacement, extra]) => safeReplace(value, path, replacement, extra),
        sample,
      ),
    }));
});

/** A later edit may target a path an earlier one replaced: that edit is skipped. */
function safeReplace(value: unknown, path: Path, replacement: unknown, extra: boolean): unknown {
  try {
    return replaced(value, path, replacement, extra);
  } catch {
    return value;
  }
}

describe('given every field of every sample set to each bound and just past it', () => {
  it('the compiled limits check agrees with the limits walk on each', () => {
    const edges: unknown[] = [
      undefined,
      null,
      ...LENGTH_EDGES.map((length) => 'x'.repeat(length)),
      ...NUMBER_EDGES.flatMap((edge) => [edge, BigInt(edge)]),
      ...COUNT_EDGES.map((count) => Array.from({ length: count }, () => ({}))),
    ];
    let refusals = 0;
    for (const eventType of EVENT_TYPES) {
      const sample = SAMPLE_EVENTS[eventType];
      const tree = getEventContract(eventType).latest.tree;
      for (const path of pathsOf(sample)) {
        for (const edge of edges) {
          const value = replaced(sample, path, edge, false);
          const walked = limitIssues(tree, value);
          expect([path.join('.'), limitsHold(tree, value)]).toEqual([path.join('.'), walked.length === 0]);
          if (walked.length > 0) refusals += 1;
        }
      }
    }
    // The edges do reach the limits (not only values the walk lets through).
    expect(refusals).toBeGreaterThan(100);
  });
});

describe('given any value near a valid event (property)', () => {
  it('the compiled limits check says yes exactly when the limits walk finds no issue', () => {
    fc.assert(
      fc.property(mutatedEvents, ({ eventType, value }) => {
        const tree = getEventContract(eventType).latest.tree;
        expect(limitsHold(tree, value)).toBe(limitIssues(tree, value).length === 0);
      }),
      { numRuns: 2_000 },
    );
  });

  it('encodeEvent accepts exactly what the full validation accepts, with the same bytes or the same issues', () => {
    fc.assert(
      fc.property(mutatedEvents, ({ eventType, value }) => {
        const contract = getEventContract(eventType).latest;
        let encoded: Buffer | undefined;
        let refused: unknown;
        try {
          encoded = encodeEvent(eventType, value as never);
        } catch (error) {
          refused = error;
        }
        let issues: readonly ContractIssue[];
        try {
          issues = validateValue(contract.avroType, contract.tree, value);
        } catch (error) {
          // avsc's int check throws a TypeError on a bigint (`val | 0`): encodeEvent throws the same.
          expect(refused).toEqual(error);
          return;
        }
        if (issues.length === 0) {
          expect(refused).toBeUndefined();
          expect(encoded!.equals(contract.avroType.toBuffer(value))).toBe(true);
        } else {
          expect(refused).toBeInstanceOf(ContractError);
          expect((refused as ContractError).issues).toEqual(issues);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
