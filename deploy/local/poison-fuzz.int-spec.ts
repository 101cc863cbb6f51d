// The poison fuzz: simulator traffic with hostile records mixed into every topic the services consume,
// against the real attribution service and ledger projector (each its own OS process, on a real broker
// and PostgreSQL), beside a clean pipeline fed the same simulator traffic without them.
//
// Hostile records, well over 1% of every consumed topic: undecodable bytes, no headers, an event of the
// wrong type, every kind of limit exceeded (strings, counts, fees), strings at their maximum size in
// three-byte characters, a NUL that PostgreSQL cannot store, amounts at 2^63 - 1, decisions whose sums
// pass 64 bits, ids reused with other content, and an inference whose decision would be too large for
// Kafka. The test holds when no service exits, every hostile record is in its group's DLQ with a
// reason (exactly as many as were injected), every group's lag is 0, and the ledger's balances and
// lineage equal the clean pipeline's. (The chain heads commit to source offsets, which the hostile
// records shift, so the balance part of the digest is what the two runs can share.)
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Kafka, Message, Producer } from 'kafkajs';
import {
  catalogFor,
  deadLetterTopicName,
  getEventContract,
  toRecord,
  topicCatalog,
  type EventData,
  type EventType,
  type InferenceAttributed,
  type InferenceCompleted,
} from '@tributary/contracts';
import { ledgerDigest } from '@tributary/ledger';
import { DLQ_HEADERS, ensureTopics } from '@tributary/messaging';
import { ECONOMY_DEFAULTS, takeEvents, type SimulatedEvent } from '@tributary/simulator';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';

const LONG_MAX = 2n ** 63n - 1n;
const SIMULATED_EVENTS = 1_200;
/** A character of three UTF-8 bytes: a string of the maximum length in characters at three times the bytes. */
const WIDE = '\u20ac';
const wide = (length: number) => WIDE.repeat(length);
const SOURCE = 'urn:tributary:fuzz';

type Pipeline = {
  readonly name: 'hostile' | 'clean';
  readonly prefix: string;
  readonly catalog: ReturnType<typeof catalogFor>;
  database?: TestDatabase;
  sql?: Client;
  readonly processes: ServiceProcess[];
};

/** A record as a producer would send it: a valid event of `type`, encoded with its topic's headers. */
function recordOf<T extends EventType>(prefix: string, type: T, data: EventData<T>): { topic: string } & Message {
  const record = toRecord(type, data, { source: SOURCE, topicPrefix: prefix });
  return { topic: record.topic, key: record.key, value: record.value, headers: record.headers };
}

/** Encodes past the schema's own limits (max lengths, counts): what a producer not using our client could send. */
function unchecked<T extends EventType>(
  prefix: string,
  type: T,
  valid: EventData<T>,
  data: unknown,
): { topic: string } & Message {
  const record = recordOf(prefix, type, valid);
  return { ...record, value: getEventContract(type).latest.avroType.toBuffer(data) };
}

const garbage = (topic: string, headers: Message['headers']): { topic: string } & Message => ({
  topic,
  key: `garbage-${randomUUID()}`,
  value: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0x00, 0x7f]),
  headers,
});

describe('the pipeline under a poison fuzz', () => {
  const runId = uniqueName('fz').replace(/\./g, '-');
  const pipelines: Pipeline[] = (['hostile', 'clean'] as const).map((name) => {
    const prefix = `${uniqueName(name === 'hostile' ? 'fzh' : 'fzc')}.`;
    return { name, prefix, catalog: catalogFor(prefix), processes: [] };
  });
  const [hostile, clean] = pipelines as [Pipeline, Pipeline];
  const events: SimulatedEvent[] = takeEvents(
    { ...ECONOMY_DEFAULTS, seed: 18, runId, startTimeMs: BigInt(Date.now() - 20_000) },
    SIMULATED_EVENTS,
  );
  let producer: Producer;
  let kafka: Kafka;
  /** Hostile records injected, by the consumer group whose DLQ must receive them. */
  const injected = new Map<string, number>();

  const send = async (records: Array<{ topic: string } & Message>) => {
    for (const record of records) {
      const { topic, ...message } = record;
      await producer.send({ topic, acks: -1, messages: [message] });
    }
  };
  const publishValid = async (pipeline: Pipeline, slice: readonly SimulatedEvent[]) => {
    const records = slice.map((event) => recordOf(pipeline.prefix, event.type, event.data as never));
    const byTopic = new Map<string, Message[]>();
    for (const { topic, ...message } of records) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
    // Table topics first, as the simulator orders them; one send per topic keeps each topic's order.
    for (const [topic, messages] of byTopic) {
      for (let first = 0; first < messages.length; first += 500)
        await producer.send({ topic, acks: -1, messages: messages.slice(first, first + 500) });
    }
  };

  const startPipeline = async (pipeline: Pipeline) => {
    pipeline.database = await createTestDatabase(`fuzz_${pipeline.name}`);
    pipeline.sql = new Client({ connectionString: pipeline.database.url, options: '-c search_path=ledger' });
    await pipeline.sql.connect();
    const common = {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
      DATABASE_URL: pipeline.database.url,
      TRIBUTARY_TOPIC_PREFIX: pipeline.prefix,
      CONSUMER_HANDLER_RETRY_BACKOFF_MS: '50',
    };
    const attribution = startServiceProcess(
      'services/attribution/src/main.ts',
      {
        ...common,
        ATTRIBUTION_HTTP_PORT: '0',
        ATTRIBUTION_FEE_MINOR_MAX: '1000000000',
        ATTRIBUTION_ORDERING_GRACE_MS: '200',
        ATTRIBUTION_RETRY_BACKOFF_MS: '50',
      },
      `attribution-${pipeline.name}`,
    );
    const projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      { ...common, LEDGER_PROJECTOR_HTTP_PORT: '0' },
      `ledger-projector-${pipeline.name}`,
    );
    pipeline.processes.push(attribution, projector);
    await eventually(() => expect(attribution.output()).toContain('attribution ready'), 120_000);
    await eventually(() => expect(projector.output()).toContain('ledger-projector ready'), 120_000);
  };

  /** Every hostile record, each counted against the group whose DLQ it must reach. */
  const hostileRecords = (): Array<{ topic: string } & Message> => {
    const { prefix, catalog } = hostile;
    const { topics, groups } = catalog;
    const records: Array<{ topic: string; group: string } & Message> = [];
    const add = (group: string, ...list: Array<{ topic: string } & Message>) =>
      list.forEach((record) => records.push({ ...record, group }));
    const datanet = events.find((event) => event.type === 'DatanetCreated')!.data;
    const model = events.find((event) => event.type === 'ModelRegistered')!.data;
    const inference = events.find((event) => event.type === 'InferenceCompleted')!.data;
    const headersOf = (record: Message) => record.headers;

    // The attribution service's table fold: datanets, contributions, models.
    const validDatanet = recordOf(prefix, 'DatanetCreated', {
      ...datanet,
      eventId: `evt-${randomUUID()}`,
      datanetId: `fz-datanet-${randomUUID()}`,
    });
    add(
      groups.attributionTables,
      garbage(topics.datanets.name, headersOf(validDatanet)),
      { topic: topics.contributions.name, key: 'no-headers', value: Buffer.from('{not avro') },
      // An inference on a table topic: an event of the wrong type.
      {
        ...recordOf(prefix, 'InferenceCompleted', {
          ...inference,
          eventId: `evt-${randomUUID()}`,
          inferenceId: `fz-${randomUUID()}`,
        }),
        topic: topics.models.name,
      },
      // A name over its maximum length, sent past the schema's limits.
      unchecked(prefix, 'DatanetCreated', datanet, {
        ...datanet,
        eventId: `evt-${randomUUID()}`,
        datanetId: `fz-datanet-${randomUUID()}`,
        name: wide(100_000),
      }),
      // The datanet id reused with other content: the log contradicts itself.
      recordOf(prefix, 'DatanetCreated', { ...datanet, eventId: `evt-${randomUUID()}`, ownerId: 'mallory' }),
      // A validation of a contribution nobody submitted, with ids at their maximum length in three-byte characters.
      recordOf(prefix, 'ContributionValidated', {
        eventId: `evt-${randomUUID()}`,
        contributionId: wide(256),
        occurredAt: datanet.occurredAt,
        validatorId: wide(256),
        decision: 'ACCEPTED',
        qualityScoreBps: 9_000,
        reason: wide(4_096),
      }),
      // A NUL in an id: the schema takes it, PostgreSQL cannot store it.
      recordOf(prefix, 'DatanetCreated', {
        ...datanet,
        eventId: `evt-${randomUUID()}`,
        datanetId: `fz-nul-\u0000-${randomUUID()}`,
      }),
    );

    // The attribution service's decisions: inferences.
    const fresh = (fields: Partial<InferenceCompleted>): InferenceCompleted => ({
      ...inference,
      eventId: `evt-${randomUUID()}`,
      inferenceId: `fz-inf-${randomUUID()}`,
      ...fields,
    });
    const reused = fresh({});
    add(
      groups.attribution,
      garbage(topics.inferences.name, headersOf(recordOf(prefix, 'InferenceCompleted', reused))),
      {
        ...recordOf(prefix, 'ModelRegistered', {
          ...model,
          eventId: `evt-${randomUUID()}`,
          modelId: `fz-model-${randomUUID()}`,
        }),
        topic: topics.inferences.name,
      },
      // A fee at 2^63 - 1, far above the service's bound.
      recordOf(prefix, 'InferenceCompleted', fresh({ feeMinor: LONG_MAX })),
      // More attributions than the schema allows, and an id past its maximum length.
      unchecked(prefix, 'InferenceCompleted', reused, {
        ...fresh({}),
        attributions: Array.from({ length: 5_000 }, (_, index) => ({ contributionId: `c-${index}`, scorePpm: 1n })),
      }),
      unchecked(prefix, 'InferenceCompleted', reused, { ...fresh({}), consumerId: wide(10_000) }),
      // Ids at their maximum length in three-byte characters, for a model nobody registered.
      recordOf(
        prefix,
        'InferenceCompleted',
        fresh({
          modelId: wide(256),
          consumerId: wide(256),
          attributions: [{ contributionId: wide(256), scorePpm: 1_000n }],
        }),
      ),
      // A decision too large for Kafka: 1,000 attributions to long three-byte ids on a real model.
      recordOf(
        prefix,
        'InferenceCompleted',
        fresh({
          modelId: model.modelId,
          attributions: Array.from({ length: 1_000 }, (_, index) => ({
            contributionId: `${wide(250)}${index}`.slice(0, 256),
            scorePpm: 1n,
          })),
        }),
      ),
      // A NUL in a contribution id.
      recordOf(
        prefix,
        'InferenceCompleted',
        fresh({
          modelId: model.modelId,
          attributions: [{ contributionId: `nul-\u0000-${randomUUID()}`, scorePpm: 1_000n }],
        }),
      ),
    );
    // The same inference id again with another fee, after the first was decided.
    const reusedFirst = recordOf(prefix, 'InferenceCompleted', { ...reused, modelId: model.modelId });
    const reusedAgain = recordOf(prefix, 'InferenceCompleted', {
      ...reused,
      modelId: model.modelId,
      eventId: `evt-${randomUUID()}`,
      feeMinor: reused.feeMinor + 1n,
    });

    // The ledger projector: decisions and payouts, written as the operator could.
    const decisionOf = (fields: Partial<InferenceAttributed>): InferenceAttributed => {
      const inferenceId = `fz-dec-${randomUUID()}`;
      return {
        eventId: `attributed:${inferenceId}`,
        inferenceId,
        occurredAt: inference.occurredAt,
        inferenceEventId: `completed:${inferenceId}`,
        producer: SOURCE,
        policyVersion: 1,
        modelId: model.modelId,
        consumerId: 'fuzz-consumer',
        asset: 'USDC',
        feeMinor: 100n,
        split: { protocolBps: 1000, modelBps: 3000, dataBps: 6000 },
        postings: [{ accountId: 'protocol:tributary', asset: 'USDC', amountMinor: 100n }],
        rejected: [],
        contributionsSeen: [],
        datanetsSeen: [],
        orderingRule: 'largest-remainder; ties by accountId ascending',
        ...fields,
      };
    };
    const overflow = decisionOf({
      feeMinor: LONG_MAX,
      postings: [
        { accountId: 'contributor:whale', asset: 'USDC', amountMinor: LONG_MAX },
        { accountId: 'contributor:whale2', asset: 'USDC', amountMinor: LONG_MAX },
      ],
    });
    const firstDecision = decisionOf({});
    add(
      groups.ledgerProjector,
      garbage(topics.attributions.name, headersOf(recordOf(prefix, 'InferenceAttributed', firstDecision))),
      recordOf(prefix, 'InferenceAttributed', overflow),
      unchecked(
        prefix,
        'InferenceAttributed',
        firstDecision,
        decisionOf({
          postings: [
            { accountId: 'contributor:mallory', asset: 'USDC', amountMinor: 200n },
            { accountId: 'protocol:tributary', asset: 'USDC', amountMinor: -100n },
          ],
        }),
      ),
      recordOf(
        prefix,
        'InferenceAttributed',
        decisionOf({ postings: [{ accountId: `contributor:nul-\u0000`, asset: 'USDC', amountMinor: 100n }] }),
      ),
      unchecked(
        prefix,
        'InferenceAttributed',
        firstDecision,
        decisionOf({ postings: [{ accountId: `contributor:${wide(5_000)}`, asset: 'USDC', amountMinor: 100n }] }),
      ),
      {
        ...recordOf(prefix, 'DatanetCreated', { ...datanet, eventId: `evt-${randomUUID()}` }),
        topic: topics.attributions.name,
      },
      garbage(
        topics.payouts.name,
        headersOf(
          recordOf(prefix, 'PayoutRequested', {
            eventId: `evt-${randomUUID()}`,
            payoutId: 'p',
            accountId: 'contributor:nobody',
            occurredAt: 1n,
            asset: 'USDC',
            amountMinor: 1n,
            epoch: 1,
          }),
        ),
      ),
      recordOf(prefix, 'PayoutRequested', {
        eventId: `evt-${randomUUID()}`,
        payoutId: `fz-payout-${randomUUID()}`,
        accountId: 'contributor:nobody',
        occurredAt: 1n,
        asset: 'USDC',
        amountMinor: LONG_MAX,
        epoch: 1,
      }),
      recordOf(prefix, 'PayoutSettled', {
        eventId: `evt-${randomUUID()}`,
        payoutId: `fz-never-requested-${randomUUID()}`,
        accountId: 'contributor:nobody',
        occurredAt: 1n,
        rail: 'ach',
        reference: wide(256),
      }),
      { ...recordOf(prefix, 'InferenceCompleted', fresh({})), topic: topics.payouts.name },
    );
    // A decision id reused with other content, after the first was applied.
    const conflicting = recordOf(prefix, 'InferenceAttributed', {
      ...decisionOf({
        feeMinor: 200n,
        postings: [{ accountId: 'protocol:tributary', asset: 'USDC', amountMinor: 200n }],
      }),
      eventId: firstDecision.eventId,
    });
    for (const { group } of records) injected.set(group, (injected.get(group) ?? 0) + 1);
    injected.set(groups.attribution, injected.get(groups.attribution)! + 1);
    injected.set(groups.ledgerProjector, injected.get(groups.ledgerProjector)! + 1);
    // Pairs whose first half is valid: its effect is part of what the two runs compare, so the clean run gets it too.
    pairsForClean.push(
      ['InferenceCompleted', { ...reused, modelId: model.modelId }],
      ['InferenceAttributed', firstDecision],
    );
    return [
      ...records.map(({ group: _group, ...record }) => record),
      reusedFirst,
      recordOf(prefix, 'InferenceAttributed', firstDecision),
      ...delayed(reusedAgain, conflicting),
    ];
  };
  const pairsForClean: Array<[EventType, unknown]> = [];
  /** Records that must come after the first half of their pair is applied: sent last, in order. */
  const laterRecords: Array<{ topic: string } & Message> = [];
  const delayed = (...records: Array<{ topic: string } & Message>) => {
    laterRecords.push(...records);
    return [];
  };

  beforeAll(async () => {
    kafka = testKafka('poison-fuzz');
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await withAdmin(async (admin) => {
      for (const pipeline of pipelines) await ensureTopics(admin, topicCatalog(pipeline.catalog), 1);
    });
    await Promise.all(pipelines.map(startPipeline));
  }, 300_000);

  afterAll(async () => {
    for (const pipeline of pipelines) for (const process of pipeline.processes) await process.stop();
    await producer?.disconnect();
    for (const pipeline of pipelines) {
      await pipeline.sql?.end();
      await pipeline.database?.drop();
    }
  });

  it("dead-letters every hostile record, loses no valid one, and ends with the clean run's balances and lag 0", async () => {
    const half = Math.floor(events.length / 2);
    const poison = hostileRecords();
    // Hostile records in the middle of the traffic: valid records before and after them on every topic.
    await publishValid(hostile, events.slice(0, half));
    await publishValid(clean, events.slice(0, half));
    await send(poison);
    for (const [type, data] of pairsForClean) await send([recordOf(clean.prefix, type as never, data as never)]);
    await publishValid(hostile, events.slice(half));
    await publishValid(clean, events.slice(half));
    // The second halves of the reused-id pairs, once their first halves are in.
    await eventually(async () => {
      for (const pipeline of pipelines) {
        const rows = await pipeline.sql!.query(
          'SELECT count(*)::int AS count FROM inferences WHERE inference_id = ANY($1)',
          [
            [
              (pairsForClean[0]![1] as InferenceCompleted).inferenceId,
              (pairsForClean[1]![1] as InferenceAttributed).inferenceId,
            ],
          ],
        );
        expect(rows.rows[0].count).toBe(2);
      }
    }, 180_000);
    await send(laterRecords);

    const inferenceCount = events.filter((event) => event.type === 'InferenceCompleted').length + 1;
    await eventually(async () => {
      for (const pipeline of pipelines) {
        const rows = await pipeline.sql!.query(
          `SELECT count(*)::int AS count FROM inferences WHERE inference_id NOT LIKE 'fz-dec-%'`,
        );
        expect(rows.rows[0].count).toBe(inferenceCount);
      }
    }, 300_000);

    // Every hostile record in its group's DLQ, with a reason: as many as were injected, beyond what the clean run dead-letters.
    for (const [group, count] of injected) {
      const cleanGroup = group.replace(hostile.prefix, clean.prefix);
      const cleanDead = (await readDeadLetters(kafka, deadLetterTopicName(cleanGroup))).length;
      await eventually(async () => {
        const dead = await readDeadLetters(kafka, deadLetterTopicName(group));
        expect({ group, count: dead.length }).toEqual({ group, count: count + cleanDead });
        for (const message of dead) expect(message.headers?.[DLQ_HEADERS.reason]?.toString().length).toBeGreaterThan(0);
        // Each for its own reason, not by accident.
        const reasons = dead.map((message) => message.headers?.[DLQ_HEADERS.reason]?.toString() ?? '');
        for (const rule of EXPECTED_REASONS[group.slice(hostile.prefix.length)] ?? [])
          expect({ group, rule, found: reasons.some((reason) => rule.test(reason)) }).toEqual({
            group,
            rule,
            found: true,
          });
      }, 120_000);
    }

    // No service exited, and none gave up on a partition.
    for (const pipeline of pipelines) {
      for (const process of pipeline.processes) {
        expect(process.child.exitCode).toBeNull();
        expect(process.output()).not.toMatch(/failed \d+ times|stopped: /);
      }
    }

    // The valid records' effects: the same balances (the balance part of the digest) and the same lineage.
    const balanceDigest = async (pipeline: Pipeline) => {
      const rows = await pipeline.sql!.query('SELECT account, asset, balance_minor::text AS balance FROM accounts');
      return ledgerDigest(
        rows.rows.map((row) => ({ account: row.account, asset: row.asset, balanceMinor: BigInt(row.balance) })),
        [],
      );
    };
    expect(await balanceDigest(hostile)).toBe(await balanceDigest(clean));
    const lineage = async (pipeline: Pipeline) =>
      (
        await pipeline.sql!.query(
          `SELECT transaction_id, posting_index, account, asset, amount_minor::text FROM ledger_entries ORDER BY 1, 2`,
        )
      ).rows;
    expect(await lineage(hostile)).toEqual(await lineage(clean));
    expect(
      (
        await hostile.sql!.query(
          `SELECT count(*)::int AS count FROM accounts WHERE account LIKE 'contributor:whale%' OR account LIKE 'contributor:mallory%'`,
        )
      ).rows[0].count,
    ).toBe(0);

    // Every group's lag is 0: Kafka's committed offsets are at the end of every partition it reads.
    await eventually(async () => {
      const { topics, groups } = hostile.catalog;
      const reads: Array<[string, string[]]> = [
        [groups.attributionTables, [topics.datanets.name, topics.contributions.name, topics.models.name]],
        [groups.attribution, [topics.inferences.name]],
        [groups.ledgerProjector, [topics.attributions.name, topics.payouts.name]],
      ];
      await withAdmin(async (admin) => {
        for (const [groupId, groupTopics] of reads) {
          for (const topic of groupTopics) {
            const ends = await admin.fetchTopicOffsets(topic);
            const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
            const lag = ends.map(
              ({ partition, high }) =>
                Number(high) -
                Math.max(0, Number(committed!.partitions.find((entry) => entry.partition === partition)?.offset ?? 0)),
            );
            expect({ groupId, topic, lag }).toEqual({ groupId, topic, lag: ends.map(() => 0) });
          }
        }
      });
    }, 60_000);
  }, 900_000);
});

/** What each group's DLQ must say, one pattern per kind of hostile record (by group name without the prefix). */
const EXPECTED_REASONS: Record<string, RegExp[]> = {
  'tributary.attribution.tables': [
    /not a valid v\d+ record/,
    /^\(no ce_type\): content-type/,
    /does not belong on .*\.models$/,
    /name: must be at most 256 characters long/,
    /^CONFLICTS_WITH_EXISTING: datanet/,
    /^UNKNOWN_ENTITY: contribution \u20ac/,
    /^SQLSTATE 22021: .*\(the handler failed on this record alone\)$/,
  ],
  'tributary.attribution': [
    /not a valid v\d record/,
    /does not belong on .*\.inferences$/,
    /^feeMinor: at most/,
    /attributions: must have at most 1000 items/,
    /consumerId: must be at most 256 characters long/,
    /^modelId: UNKNOWN_MODEL \u20ac/,
    /^decision-too-large: /,
    /^SQLSTATE 22021: /,
    /^inferenceId: fz-inf-.* was already decided .*sha256:[0-9a-f]{64}.*sha256:[0-9a-f]{64}/,
  ],
  'tributary.ledger-projector': [
    /InferenceAttributed v\d+: not a valid v\d+ record/,
    /PayoutRequested v1: not a valid v1 record/,
    /sum to 9223372036854775807, not 0/,
    /must be >= 0 \(got -100\)/,
    /accountId: must be at most 256 characters long/,
    /^SQLSTATE 22021: /,
    /does not belong on .*\.attributions$/,
    /does not belong on .*\.payouts$/,
    /exceeds the payable balance 0 of contributor:nobody/,
    /was never requested/,
    /^eventId: attributed:fz-dec-.* was already applied from .*sha256:[0-9a-f]{64}.*sha256:[0-9a-f]{64}/,
  ],
};

/** The dead letters of a DLQ topic, read to its end (records with a reason; re-drive markers carry none). */
async function readDeadLetters(kafka: Kafka, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  let end: number;
  try {
    end = (await admin.fetchTopicOffsets(topic)).reduce((sum, { high }) => sum + Number(high), 0);
  } finally {
    await admin.disconnect();
  }
  if (end === 0) return [];
  const messages = await readTopic(topic, end, 60_000);
  return messages.filter((message) => message.headers?.[DLQ_HEADERS.reason] !== undefined);
}
