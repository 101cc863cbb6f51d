// The partitions decided at once wait for the table fold together: while six batches of six inference
// partitions wait for the same tables, they share one observation of the table partitions and one
// read of the fold's progress per commit heard, instead of each asking Kafka and PostgreSQL on its own.
// Stand-ins for the decider's ports (state, decisions, admin, the progress signal) count the asks.
import type { Admin } from 'kafkajs';
import { toRecord } from '@tributary/contracts';
import { keyPartition, type InboundRecord, type ProcessContext } from '@tributary/messaging';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';
import { Decider, type DeciderOptions, type ProgressSignal } from '../src/decision/decider';
import type { DecisionStore } from '../src/decision/decision-store';
import type { StateStore } from '../src/state/state-store';

const TABLE_TOPICS = ['tables.a', 'tables.b'];
const TABLE_PARTITIONS = 3;
const END_OFFSET = 5n;
const LIMITS = { attributionsMax: 1_000, feeMinorMax: 10n ** 15n, clockSkewMsMax: 60_000, partitionCount: 6 };

const OPTIONS: DeciderOptions = {
  tableTopics: TABLE_TOPICS,
  attributionsTopic: 'attributions',
  decisionBytesMax: 1024 * 1024,
  topicPrefix: '',
  protocolId: 'protocol',
  limits: LIMITS,
  orderingWaitMsMax: 10_000,
  orderingGraceMs: 0,
  source: 'urn:tributary:service:attribution',
};

function inference(partition: number, appendedAtMs: number): InboundRecord {
  const record = toRecord(
    'InferenceCompleted',
    { ...SAMPLE_EVENTS.InferenceCompleted, inferenceId: `inference-${partition}`, eventId: `evt-${partition}` },
    { source: 'urn:tributary:producer:acme' },
  );
  return {
    topic: record.topic,
    partition: keyPartition(record.key.toString(), LIMITS.partitionCount),
    offset: '0',
    key: Buffer.from(record.key),
    value: record.value,
    headers: { ...record.headers },
    timestampMs: appendedAtMs,
  };
}

/** A signal the test bumps, as the fold's NOTIFY would. */
class TestSignal implements ProgressSignal {
  private current = 0;
  private readonly waiters = new Set<() => void>();
  generation(): number {
    return this.current;
  }
  changedSince(generation: number, waitMsMax: number): Promise<void> {
    if (generation !== this.current) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => (this.waiters.delete(done), clearTimeout(timer), resolve());
      const timer = setTimeout(done, waitMsMax);
      this.waiters.add(done);
    });
  }
  bump(): void {
    this.current += 1;
    for (const waiter of [...this.waiters]) waiter();
  }
}

describe('batches of several partitions waiting for the tables at once', () => {
  it('share one observation of the table partitions and one progress read per fold commit', async () => {
    let folded = 0n;
    let progressReads = 0;
    let offsetAsks = 0;
    const askedFor: number[] = [];
    const state = {
      progress: async () => {
        progressReads += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return TABLE_TOPICS.flatMap((topic) =>
          Array.from({ length: TABLE_PARTITIONS }, (_, partition) => ({
            topic,
            partition,
            nextOffset: folded,
            watermarkMs: -1,
          })),
        );
      },
      versions: async () => new Map(),
    } as unknown as StateStore;
    const decisions = {
      decideOnce: async (
        _partition: number,
        _claim: string,
        _ids: readonly string[],
        decide: (seen: ReadonlyMap<string, unknown>) => { result: unknown },
      ) => ({ result: decide(new Map<string, unknown>()).result, stored: Promise.resolve() }),
    } as unknown as DecisionStore;
    const admin = {
      fetchTopicMetadata: async () => ({
        topics: TABLE_TOPICS.map((name) => ({
          name,
          partitions: Array.from({ length: TABLE_PARTITIONS }, (_, partitionId) => ({ partitionId })),
        })),
      }),
      fetchTopicOffsetsByTimestamp: async (_topic: string, timestamp: number) => {
        offsetAsks += 1;
        askedFor.push(timestamp);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return Array.from({ length: TABLE_PARTITIONS }, (_, partition) => ({
          partition,
          offset: String(END_OFFSET),
        }));
      },
    } as unknown as Admin;
    const signal = new TestSignal();
    const decider = new Decider(OPTIONS, state, decisions, admin, undefined, signal);
    const context = (partition: number): ProcessContext => ({
      partition,
      claimToken: 'claim',
      heartbeat: async () => undefined,
      stillOwned: () => true,
    });

    // Inferences appended at different times: the one observation looks for records stamped from the
    // latest of their closing instants, which closes every earlier one too.
    const appendedAtMs = Date.now() - 10;
    const batches = Array.from({ length: 6 }, (_, partition) =>
      decider.process([inference(partition, appendedAtMs - partition)], context(partition)),
    );
    // Every batch has looked and is waiting for the fold now.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(offsetAsks).toBe(TABLE_TOPICS.length);
    expect(askedFor).toEqual(TABLE_TOPICS.map(() => appendedAtMs));
    // On their own, six batches read at least twice each (before and after the observation), and again at
    // every 50 ms poll; together one read serves them all each time.
    const readsWhileWaiting = progressReads;
    expect(readsWhileWaiting).toBeLessThanOrEqual(5);

    folded = END_OFFSET;
    signal.bump();
    const decided = await Promise.all(batches);
    // The model is unknown to these empty tables: each batch is decided (a refusal), and none asked again.
    expect(decided.map((batch) => batch.rejections.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(offsetAsks).toBe(TABLE_TOPICS.length);
    // The commit heard: one read for all six (two when a poll's read was in flight as it came).
    expect(progressReads - readsWhileWaiting).toBeLessThanOrEqual(2);
  });
});
