// Proves the join rule on broker time ("as-of-append-time/v2", issue 25 item 2) and that the rule of
// record time ("as-of-record-time/v1") stays as it was: under v2 an inference sees exactly the table
// records the broker appended in an earlier millisecond, a partition counts as passed only beyond the
// clock-skew grace, and with every clock within the grace no record the decider has not read can change
// what it saw; a recorded decision names its rule, and the rule is found again from that text.
import fc from 'fast-check';
import {
  JOIN_RULE,
  JOIN_RULES,
  ORDERING_RULE_TEXT,
  foldTableRecords,
  partitionKey,
  recordedJoinRule,
  tablesCaughtUp,
  visibleAsOf,
  type EntityVersion,
  type PartitionProgress,
  type TableEvent,
  type TableRecord,
} from '@tributary/attribution';
import { visibleStates } from './fixtures';

const TOPIC = 'tributary.contributions';
const V1 = JOIN_RULES['as-of-record-time/v1'];
const V2 = JOIN_RULES['as-of-append-time/v2'];
const GRACE_MS = 20;
/** The inference's record timestamp: under v2 the broker's append time. */
const T = 10_000;

const progress = (nextOffset: bigint, watermarkMs: number): PartitionProgress => ({
  topic: TOPIC,
  partition: 0,
  nextOffset,
  watermarkMs,
});
const observation = (observedAtMs: number, endOffset: bigint) => ({
  observedAtMs,
  stampedFromMs: Infinity,
  offsets: new Map([[partitionKey(TOPIC, 0), endOffset]]),
});
const version = (visibleFromMs: number, offset: bigint): EntityVersion => ({
  entity: 'contribution',
  id: 'c1',
  partition: 0,
  offset,
  visibleFromMs,
  state: { contributionId: 'c1', datanetId: 'd1', contributor: 'alice', status: 'SUBMITTED', revoked: false },
});

describe('the rule new decisions record', () => {
  it('is as-of-append-time/v2, named in the orderingRule text', () => {
    expect(JOIN_RULE).toBe('as-of-append-time/v2');
    expect(ORDERING_RULE_TEXT).toBe(V2.text);
    expect(ORDERING_RULE_TEXT).toContain('as-of-append-time/v2');
    expect(ORDERING_RULE_TEXT.length).toBeLessThanOrEqual(256);
  });

  it('keeps the v1 text byte for byte, so decisions made under v1 still name their rule', () => {
    expect(V1.text).toBe(
      'rounding: largest-remainder, ties by accountId ascending; join: as-of-record-time/v1 (table state as of the inference record timestamp, after every table partition passed it)',
    );
  });

  it('given a recorded orderingRule, then the rule it names is found again; a text naming none is not', () => {
    expect(recordedJoinRule(V1.text)).toBe(V1);
    expect(recordedJoinRule(V2.text)).toBe(V2);
    expect(recordedJoinRule('largest-remainder; ties by accountId ascending')).toBeNull();
  });
});

describe('as-of-append-time/v2', () => {
  it('given a table record appended in the millisecond before the inference, then the inference sees it', () => {
    expect(visibleAsOf([version(T - 1, 0n)], V2.asOfMs(T))?.offset).toBe(0n);
  });

  it('given a table record appended in the inference millisecond or later, then the inference never sees it', () => {
    expect(visibleAsOf([version(T, 0n)], V2.asOfMs(T))).toBeNull();
    expect(visibleAsOf([version(T - 5, 0n), version(T, 1n)], V2.asOfMs(T))?.offset).toBe(0n);
  });

  it('given a partition whose fold passed a record within the grace after T, then it still waits', () => {
    const catchUp = tablesCaughtUp([progress(5n, T + GRACE_MS - 1)], V2.asOfMs(T), null, GRACE_MS, V2);
    expect(catchUp).toEqual({ caughtUp: false, waitingFor: [{ topic: TOPIC, partition: 0 }] });
  });

  it('given a partition whose fold passed a record the grace after T, then it is caught up without any observation', () => {
    expect(tablesCaughtUp([progress(5n, T + GRACE_MS)], V2.asOfMs(T), null, GRACE_MS, V2)).toEqual({
      caughtUp: true,
    });
  });

  it('given a partition at its end offset observed just before T plus the grace, then it waits', () => {
    expect(
      tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), observation(T + GRACE_MS - 1, 5n), GRACE_MS, V2).caughtUp,
    ).toBe(false);
  });

  it('given a partition at its end offset observed at T plus the grace, then it is caught up', () => {
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), observation(T + GRACE_MS, 5n), GRACE_MS, V2)).toEqual({
      caughtUp: true,
    });
  });

  it('given a grace of 0 (one broker, the decider on its clock), then an observation at T itself closes the partition', () => {
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), observation(T, 5n), 0, V2).caughtUp).toBe(true);
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), observation(T - 1, 5n), 0, V2).caughtUp).toBe(false);
  });

  const lookup = (observedAtMs: number, stampedFromMs: number, offset: bigint) => ({
    observedAtMs,
    stampedFromMs,
    offsets: new Map([[partitionKey(TOPIC, 0), offset]]),
  });

  it('given a partition whose fold reached the first record stamped the grace after T, then it is caught up without reading it', () => {
    // Offsets 5 onwards were appended while the batch was on its way: the fold need not read them.
    const observed = lookup(T + 200, T + GRACE_MS, 5n);
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), observed, GRACE_MS, V2)).toEqual({ caughtUp: true });
    expect(tablesCaughtUp([progress(4n, T - 3)], V2.asOfMs(T), observed, GRACE_MS, V2).caughtUp).toBe(false);
  });

  it('given an observation that looked for records stamped before the grace after T, then it closes nothing', () => {
    const early = lookup(T + 200, T + GRACE_MS - 1, 5n);
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), early, GRACE_MS, V2).caughtUp).toBe(false);
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), lookup(T + 200, T + 90, 5n), GRACE_MS, V2)).toEqual({
      caughtUp: true,
    });
  });

  it('given an observation made before the grace after T, then its offsets close nothing, stamped lookups included', () => {
    const tooSoon = lookup(T + GRACE_MS - 1, T + GRACE_MS, 5n);
    expect(tablesCaughtUp([progress(5n, T - 3)], V2.asOfMs(T), tooSoon, GRACE_MS, V2).caughtUp).toBe(false);
  });

  it('given every clock within half the grace of true time, then once caught up no unread record changes what the inference sees', () => {
    const halfMs = GRACE_MS / 2;
    const skew = fc.integer({ min: -halfMs, max: halfMs });
    const events = fc.oneof(
      fc.record({
        type: fc.constant('ContributionSubmitted' as const),
        contributionId: fc.constantFrom('c1', 'c2'),
        datanetId: fc.constant('d1'),
        contributor: fc.constantFrom('alice', 'bob'),
      }),
      fc.record({
        type: fc.constant('ContributionValidated' as const),
        contributionId: fc.constantFrom('c1', 'c2'),
        decision: fc.constantFrom('ACCEPTED' as const, 'REJECTED' as const),
      }),
    ) as fc.Arbitrary<TableEvent>;
    // One partition: true append times that never go back, each stamped by a leader whose clock is off by
    // at most half the grace (leaders may change between records).
    const partition = (index: number) =>
      fc.array(fc.tuple(events, fc.integer({ min: 0, max: 15 }), skew), { maxLength: 25 }).map((steps) => {
        let trueMs = 9_900;
        return steps.map(([event, stepMs, skewMs], offset) => {
          trueMs += stepMs;
          const record: TableRecord = {
            partition: index,
            offset: BigInt(offset),
            timestampMs: trueMs + skewMs,
            event: withPartitionIds(event, index),
          };
          return { trueMs, record };
        });
      });
    fc.assert(
      fc.property(
        fc.tuple(partition(0), partition(1)),
        fc.tuple(fc.nat(25), fc.nat(25)),
        fc.tuple(fc.integer({ min: 9_900, max: 10_100 }), skew),
        fc.tuple(fc.integer({ min: 9_900, max: 10_200 }), skew),
        // The observation looks for records stamped this long after the closing instant, or asks for end
        // offsets alone (null). Less than 0 is too early to count: down to 40 ms before it, the records
        // after the offset found may be ones the inference sees.
        fc.option(fc.integer({ min: -40, max: 60 })),
        (logs, consumedCounts, [inferenceTrueMs, inferenceSkewMs], [observedTrueMs, deciderSkewMs], lookupMs) => {
          const asOfMs = V2.asOfMs(inferenceTrueMs + inferenceSkewMs);
          const stampedFromMs = lookupMs === null ? Infinity : V2.closedByRecordAtMs(asOfMs, GRACE_MS) + lookupMs;
          const consumed = logs.map((log, index) =>
            fold(
              log.slice(0, consumedCounts[index]).map(({ record }) => record),
              index,
            ),
          );
          // What the broker answers: the first record it holds stamped at or after stampedFromMs, else its end.
          const offsets = new Map(
            logs.map((log, index) => {
              const held = log.filter(({ trueMs }) => trueMs <= observedTrueMs);
              const stamped = held.findIndex(({ record }) => record.timestampMs >= stampedFromMs);
              return [partitionKey(TOPIC, index), BigInt(stamped === -1 ? held.length : stamped)];
            }),
          );
          const catchUp = tablesCaughtUp(
            consumed.map((result) => result.progress),
            asOfMs,
            { observedAtMs: observedTrueMs + deciderSkewMs, stampedFromMs, offsets },
            GRACE_MS,
            V2,
          );
          fc.pre(catchUp.caughtUp);
          const full = logs.map((log, index) =>
            fold(
              log.map(({ record }) => record),
              index,
            ),
          );
          expect(
            visibleStates(
              consumed.flatMap((result) => result.versions),
              asOfMs,
            ),
          ).toEqual(
            visibleStates(
              full.flatMap((result) => result.versions),
              asOfMs,
            ),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('as-of-record-time/v1, kept for the decisions made under it', () => {
  it('given a table record timestamped at T, then the inference sees it', () => {
    expect(visibleAsOf([version(T, 0n)], V1.asOfMs(T))?.offset).toBe(0n);
  });

  it('given a partition whose fold passed a record one millisecond after T, then it is caught up', () => {
    expect(tablesCaughtUp([progress(5n, T + 1)], V1.asOfMs(T), null, 1_000, V1)).toEqual({ caughtUp: true });
  });

  it('given an end offset observed the grace after T, then it is caught up, and not a millisecond before', () => {
    expect(tablesCaughtUp([progress(5n, T)], V1.asOfMs(T), observation(T + 1_000, 5n), 1_000, V1).caughtUp).toBe(true);
    expect(tablesCaughtUp([progress(5n, T)], V1.asOfMs(T), observation(T + 999, 5n), 1_000, V1).caughtUp).toBe(false);
  });
});

function withPartitionIds(event: TableEvent, partition: number): TableEvent {
  return 'contributionId' in event ? { ...event, contributionId: `${event.contributionId}-p${partition}` } : event;
}

function fold(records: readonly TableRecord[], partition: number) {
  return foldTableRecords({ topic: TOPIC, partition, nextOffset: 0n, watermarkMs: -1 }, new Map(), records);
}
