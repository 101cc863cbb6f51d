// Proves the table fold and the as-of ordering rule with fast-check over random logs: the fold is the same however a partition is cut into batches and when a batch is applied twice, the state visible as of T equals a from-scratch fold of each partition's timestamp prefix, and once tablesCaughtUp says yes no later record can change that state.
import fc from 'fast-check';
import {
  entityKey,
  JOIN_RULES,
  foldTableRecords,
  partitionKey,
  tablesCaughtUp,
  type EntityVersion,
  type PartitionProgress,
  type TableEvent,
  type TableRecord,
} from '@tributary/attribution';
import { visibleStates } from './fixtures';

const TOPIC = 'tributary.contributions';
/** These properties are the v1 rule's (producer timestamps); ordering.spec.ts holds v2's. */
const V1 = JOIN_RULES['as-of-record-time/v1'];
const numRuns = 200;

/** Events of one partition: records are keyed by entity id, so each partition has entities of its own. */
const eventArbitrary = (partition: number): fc.Arbitrary<TableEvent> => {
  const contributionIds = ['c1', 'c2', 'c3'].map((id) => `${id}-p${partition}`);
  const datanetIds = ['d1', 'd2'].map((id) => `${id}-p${partition}`);
  return fc.oneof(
    fc.record({
      type: fc.constant('ContributionSubmitted' as const),
      contributionId: fc.constantFrom(...contributionIds),
      datanetId: fc.constantFrom('d1', 'd2'),
      contributor: fc.constantFrom('alice', 'bob'),
    }),
    fc.record({
      type: fc.constant('ContributionValidated' as const),
      contributionId: fc.constantFrom(...contributionIds),
      decision: fc.constantFrom('ACCEPTED' as const, 'REJECTED' as const),
    }),
    fc.record({
      type: fc.constant('ContributionRevoked' as const),
      contributionId: fc.constantFrom(...contributionIds),
    }),
    fc.record({
      type: fc.constant('DatanetCreated' as const),
      datanetId: fc.constantFrom(...datanetIds),
      owner: fc.constantFrom('olga', 'oscar'),
      curatorShareBps: fc.integer({ min: 0, max: 10_000 }),
    }),
    fc.record({
      type: fc.constant('DatanetUpdated' as const),
      datanetId: fc.constantFrom(...datanetIds),
      curatorShareBps: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
    }),
  );
};

/** One partition's records: consecutive offsets, timestamps that mostly rise but may step back (CreateTime skew). */
function partitionArbitrary(partition: number): fc.Arbitrary<TableRecord[]> {
  return fc
    .array(fc.tuple(eventArbitrary(partition), fc.integer({ min: -20, max: 100 })), { maxLength: 30 })
    .map((steps) => {
      let timestampMs = 1_000;
      return steps.map(([event, stepMs], index) => {
        timestampMs = Math.max(0, timestampMs + stepMs);
        return { partition, offset: BigInt(index), timestampMs, event };
      });
    });
}

const emptyProgress = (partition: number): PartitionProgress => ({
  topic: TOPIC,
  partition,
  nextOffset: 0n,
  watermarkMs: -1,
});

/** Folds a partition batch by batch, carrying the latest states forward as the service does from its tables. */
function foldInBatches(records: readonly TableRecord[], cuts: readonly number[], partition = 0) {
  let progress = emptyProgress(partition);
  const latest = new Map<string, EntityVersion['state']>();
  const versions: EntityVersion[] = [];
  const rejectedOffsets: bigint[] = [];
  let start = 0;
  for (const end of [...cuts.filter((cut) => cut > 0 && cut < records.length).sort((a, b) => a - b), records.length]) {
    const result = foldTableRecords(progress, latest, records.slice(start, end));
    for (const version of result.versions) latest.set(entityKey(version.entity, version.id), version.state);
    versions.push(...result.versions);
    rejectedOffsets.push(...result.rejected.map((rejection) => rejection.record.offset));
    progress = result.progress;
    start = end;
  }
  return { versions, rejectedOffsets, progress, latest };
}

/** The reference: fold from scratch only the records of each partition's as-of-T prefix, keep the final states. */
function referenceStatesAsOf(
  partitions: readonly TableRecord[][],
  asOfMs: number,
): Map<string, EntityVersion['state']> {
  const states = new Map<string, EntityVersion['state']>();
  partitions.forEach((records, partition) => {
    const prefixEnd = records.findIndex((record) => record.timestampMs > asOfMs);
    const prefix = prefixEnd === -1 ? records : records.slice(0, prefixEnd);
    const { latest } = foldInBatches(prefix, [], partition);
    for (const [key, state] of latest) states.set(key, state);
  });
  return states;
}

describe('a table partition folded in batches', () => {
  it('then versions, rejections and progress are the same however the partition is cut', () => {
    fc.assert(
      fc.property(partitionArbitrary(0), fc.array(fc.nat(30), { maxLength: 6 }), (records, cuts) => {
        expect(foldInBatches(records, cuts)).toEqual(foldInBatches(records, []));
      }),
      { numRuns },
    );
  });

  it('then a batch applied again (a redelivery) adds nothing', () => {
    fc.assert(
      fc.property(partitionArbitrary(0), (records) => {
        const once = foldInBatches(records, []);
        const again = foldTableRecords(once.progress, once.latest, records);
        expect(again.versions).toEqual([]);
        expect(again.rejected).toEqual([]);
        expect(again.progress).toEqual(once.progress);
      }),
      { numRuns },
    );
  });

  it('then a re-published event (the same event twice in a row) changes no state', () => {
    fc.assert(
      fc.property(partitionArbitrary(0), fc.nat(), (records, pick) => {
        fc.pre(records.length > 0);
        const index = pick % records.length;
        const doubled = [...records.slice(0, index + 1), records[index]!, ...records.slice(index + 1)].map(
          (record, offset) => ({
            ...record,
            offset: BigInt(offset),
            timestampMs: records[Math.min(offset, records.length - 1)]!.timestampMs,
          }),
        );
        expect(foldInBatches(doubled, []).latest).toEqual(foldInBatches(records, []).latest);
      }),
      { numRuns },
    );
  });

  it('then a revoked contribution stays revoked whatever follows', () => {
    fc.assert(
      fc.property(partitionArbitrary(0), (records) => {
        const { versions } = foldInBatches(records, []);
        const revokedAt = new Map<string, bigint>();
        for (const version of versions) {
          if (version.entity !== 'contribution') continue;
          const since = revokedAt.get(version.id);
          if (since !== undefined) expect(version.state.revoked).toBe(true);
          if (version.state.revoked && since === undefined) revokedAt.set(version.id, version.offset);
        }
      }),
      { numRuns },
    );
  });

  it('then visibleFromMs never decreases with the offset', () => {
    fc.assert(
      fc.property(partitionArbitrary(0), (records) => {
        const { versions } = foldInBatches(records, []);
        versions.forEach((version, index) => {
          if (index > 0) expect(version.visibleFromMs).toBeGreaterThanOrEqual(versions[index - 1]!.visibleFromMs);
        });
      }),
      { numRuns },
    );
  });
});

describe('the state visible as of a time T', () => {
  it('then it equals a from-scratch fold of every partition up to its first record later than T', () => {
    fc.assert(
      fc.property(
        fc.tuple(partitionArbitrary(0), partitionArbitrary(1)),
        fc.integer({ min: 900, max: 4_000 }),
        (partitions, asOfMs) => {
          const versions = partitions.flatMap((records, partition) => foldInBatches(records, [], partition).versions);
          expect(visibleStates(versions, asOfMs)).toEqual(referenceStatesAsOf(partitions, asOfMs));
        },
      ),
      { numRuns },
    );
  });

  it('then, once tablesCaughtUp says so, records the consumer has not read yet cannot change it', () => {
    const graceMs = 50;
    fc.assert(
      fc.property(
        fc.tuple(partitionArbitrary(0), partitionArbitrary(1)),
        fc.tuple(fc.nat(30), fc.nat(30)),
        fc.integer({ min: 900, max: 4_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (partitions, consumedCounts, asOfMs, observedAtMs) => {
          // What the broker held when the end offsets were read; records appended later carry a timestamp at
          // or after the observation (LogAppendTime, or CreateTime of a producer that publishes within graceMs).
          const logs = partitions.map((records) => {
            const observedEnd = records.findIndex((record) => record.timestampMs > observedAtMs);
            const endOffset = observedEnd === -1 ? records.length : observedEnd;
            const later = records
              .slice(endOffset)
              .map((record) => ({ ...record, timestampMs: Math.max(record.timestampMs, observedAtMs) }));
            return { records: [...records.slice(0, endOffset), ...later], endOffset };
          });
          const consumed = logs.map((log, partition) =>
            foldInBatches(
              log.records.slice(0, Math.min(consumedCounts[partition]!, log.records.length)),
              [],
              partition,
            ),
          );
          const catchUp = tablesCaughtUp(
            consumed.map((fold) => fold.progress).map((progress, partition) => ({ ...progress, partition })),
            asOfMs,
            {
              observedAtMs,
              stampedFromMs: Infinity,
              offsets: new Map(logs.map((log, partition) => [partitionKey(TOPIC, partition), BigInt(log.endOffset)])),
            },
            graceMs,
            V1,
          );
          fc.pre(catchUp.caughtUp);
          const seenVersions = consumed.flatMap((fold) => fold.versions);
          const fullVersions = logs.flatMap((log, partition) => foldInBatches(log.records, [], partition).versions);
          expect(visibleStates(seenVersions, asOfMs)).toEqual(visibleStates(fullVersions, asOfMs));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('tablesCaughtUp', () => {
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

  it('given a partition whose fold passed a record later than T, then it is caught up without any observation', () => {
    expect(tablesCaughtUp([progress(5n, 2_000)], 1_999, null, 1_000, V1)).toEqual({ caughtUp: true });
  });

  it('given a partition at its end offset observed only just after T, then it still waits for the grace period', () => {
    expect(tablesCaughtUp([progress(5n, 1_000)], 1_500, observation(2_000, 5n), 1_000, V1)).toEqual({
      caughtUp: false,
      waitingFor: [{ topic: TOPIC, partition: 0 }],
    });
  });

  it('given a partition at its end offset observed graceMs after T, then it is caught up', () => {
    expect(tablesCaughtUp([progress(5n, 1_000)], 1_500, observation(2_500, 5n), 1_000, V1)).toEqual({ caughtUp: true });
  });

  it('given a partition behind its end offset, then it waits', () => {
    expect(tablesCaughtUp([progress(4n, 1_000)], 1_500, observation(9_000, 5n), 1_000, V1).caughtUp).toBe(false);
  });

  it('given a partition never written (end offset 0), then it is caught up once observed', () => {
    expect(tablesCaughtUp([progress(0n, -1)], 1_500, observation(9_000, 0n), 1_000, V1)).toEqual({ caughtUp: true });
  });
});
