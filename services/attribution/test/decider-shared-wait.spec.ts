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

/** A decision store for which nothing was decided before, and every batch is stored at once. */
function storeDecidingAlone(): DecisionStore {
  return {
    begin: () => ({
      decide: async (decide: (seen: ReadonlyMap<string, unknown>) => { result: unknown }) => ({
        result: decide(new Map<string, unknown>()).result,
        stored: Promise.resolve(),
      }),
      abandon: async () => undefined,
    }),
  } as unknown as DecisionStore;
}

/** 'decided' when the batch ends within two seconds, 'stuck' when it does not. */
async function outcomeOf(batch: Promise<unknown>): Promise<'decided' | 'stuck'> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), 2_000)));
  try {
    return await Promise.race([batch.then(() => 'decided' as const), stuck]);
  } finally {
    clearTimeout(timer);
  }
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
    const decisions = storeDecidingAlone();
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

// Each round trip a batch waits for lengthens every partition's cycle under load: the table wait asks
// the broker and PostgreSQL at once, and a batch whose models the cache knows reads its versions in one
// query.
describe('the round trips of one batch', () => {
  const context: ProcessContext = {
    partition: 0,
    claimToken: 'claim',
    heartbeat: async () => undefined,
    stillOwned: () => true,
  };
  const decisions = storeDecidingAlone();
  const tableAdmin = (onAsk: () => Promise<void>) =>
    ({
      fetchTopicMetadata: async () => ({
        topics: TABLE_TOPICS.map((name) => ({
          name,
          partitions: Array.from({ length: TABLE_PARTITIONS }, (_, partitionId) => ({ partitionId })),
        })),
      }),
      fetchTopicOffsetsByTimestamp: async () => {
        await onAsk();
        return Array.from({ length: TABLE_PARTITIONS }, (_, partition) => ({ partition, offset: '0' }));
      },
    }) as unknown as Admin;
  const progressAt = (nextOffset: bigint) =>
    TABLE_TOPICS.flatMap((topic) =>
      Array.from({ length: TABLE_PARTITIONS }, (_, partition) => ({ topic, partition, nextOffset, watermarkMs: -1 })),
    );

  it('asks for the fold progress and the observation of the tables at once', async () => {
    // Each answers only once the other was asked: one after the other, the batch would never be decided.
    let progressAsked!: () => void;
    let observationAsked!: () => void;
    const progressWasAsked = new Promise<void>((resolve) => (progressAsked = resolve));
    const observationWasAsked = new Promise<void>((resolve) => (observationAsked = resolve));
    const state = {
      progress: async () => {
        progressAsked();
        await observationWasAsked;
        return progressAt(0n);
      },
      versions: async () => new Map(),
    } as unknown as StateStore;
    const admin = tableAdmin(async () => {
      observationAsked();
      await progressWasAsked;
    });
    const decider = new Decider(OPTIONS, state, decisions, admin, undefined, new TestSignal());
    expect(await outcomeOf(decider.process([inference(0, Date.now() - 10)], context))).toBe('decided');
  });

  it('opens the decision transaction, asking for the claim, while it waits for the tables', async () => {
    // The tables are observed only once the claim was asked for: after the wait, the batch would never end.
    let begun!: () => void;
    const wasBegun = new Promise<void>((resolve) => (begun = resolve));
    const alone = storeDecidingAlone();
    const decisions = {
      begin: (...args: Parameters<DecisionStore['begin']>) => {
        begun();
        return alone.begin(...args);
      },
    } as unknown as DecisionStore;
    const state = { progress: async () => progressAt(0n), versions: async () => new Map() } as unknown as StateStore;
    const decider = new Decider(
      OPTIONS,
      state,
      decisions,
      tableAdmin(() => wasBegun),
      undefined,
      new TestSignal(),
    );
    expect(await outcomeOf(decider.process([inference(0, Date.now() - 10)], context))).toBe('decided');
  });

  it('reads the versions in one query once the cache knows the models, their datanets with them', async () => {
    const model = {
      entity: 'model',
      id: SAMPLE_EVENTS.InferenceCompleted.modelId,
      partition: 0,
      offset: 0n,
      visibleFromMs: 0,
      state: {
        modelId: SAMPLE_EVENTS.InferenceCompleted.modelId,
        owner: 'owner',
        datanetIds: ['datanet-a'],
        split: { ownerBps: 5_000, dataBps: 5_000 },
        retired: false,
      },
    };
    const queries: string[][] = [];
    const state = {
      progress: async () => progressAt(0n),
      versions: async (keys: ReadonlyArray<{ entity: string; id: string }>) => {
        queries.push(keys.map(({ entity, id }) => `${entity}:${id}`).sort());
        const found = new Map<string, unknown[]>();
        if (keys.some(({ entity }) => entity === 'model')) found.set(`model:${model.id}`, [model]);
        return found;
      },
    } as unknown as StateStore;
    const decider = new Decider(
      OPTIONS,
      state,
      decisions,
      tableAdmin(async () => undefined),
      undefined,
      new TestSignal(),
    );
    const contributions = SAMPLE_EVENTS.InferenceCompleted.attributions.map(
      ({ contributionId }) => `contribution:${contributionId}`,
    );

    // The first batch learns from the model which datanets to read: two queries.
    await decider.process([inference(0, Date.now() - 20)], context);
    expect(queries).toEqual([[...contributions, `model:${model.id}`].sort(), ['datanet:datanet-a']]);
    // A later batch asks for what changed since, the model's datanet with it: one query.
    queries.length = 0;
    await decider.process([inference(0, Date.now() - 10)], context);
    expect(queries).toEqual([['datanet:datanet-a', ...contributions, `model:${model.id}`].sort()]);
  });
});
