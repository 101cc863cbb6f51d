import { Logger } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { adminOffsetsByTimestamp } from '@tributary/kafka-wire';
import {
  AttributionInputError,
  JOIN_RULE,
  JOIN_RULES,
  decideAttribution,
  entityKey,
  observationCloses,
  partitionKey,
  tablesCaughtUp,
  visibleAsOf,
  type AttributionDecision,
  type ContributionState,
  type DatanetState,
  type EntityKind,
  type EntityVersion,
  type ModelTableState,
  type PartitionProgress,
  type SplitPolicy,
  type TablesObservation,
} from '@tributary/attribution';
import { recordFit, toRecord } from '@tributary/contracts';
import type {
  InboundRecord,
  OutputRecord,
  ProcessContext,
  ProcessedBatch,
  Rejection,
  TransactionalHandler,
} from '@tributary/messaging';
import { type DecisionStore, type DecisionRow } from './decision-store';
import { InferenceRejected, readInference, type InferenceLimits, type ReadInference } from './inference-record';
import { RepeatedInferences, type DecidedInference } from './repeated-inferences';
import { VersionCache } from './version-cache';
import { toAttributedEvent } from './wire';
import type { DecisionObserver } from '../metrics/attribution-metrics';
import type { StateStore } from '../state/state-store';

export interface DeciderOptions {
  readonly tableTopics: readonly string[];
  readonly attributionsTopic: string;
  /** The attributions topic's max.message.bytes (the topic catalog's): a decision larger than it is dead-lettered. */
  readonly decisionBytesMax: number;
  readonly topicPrefix: string;
  readonly protocolId: string;
  /** The operator's split policy (protocol share); absent: policy v1, the model's own split. */
  readonly policy?: SplitPolicy;
  readonly limits: InferenceLimits;
  readonly orderingWaitMsMax: number;
  readonly orderingGraceMs: number;
  readonly source: string;
}

/** The tables did not pass a batch's time within the bound; the attempt fails and is retried, never decided early. */
export class OrderingWaitExceeded extends Error {
  override readonly name = 'OrderingWaitExceeded';
}

/** How long a wait for the fold lasts at most when no commit of it is heard (a lost notification, no session). */
const POLL_INTERVAL_MS = 50;
/** The rule new decisions are made under (and record, wire.ts). */
const JOIN = JOIN_RULES[JOIN_RULE];
const NO_OBSERVER: DecisionObserver = {
  batchDecided: () => undefined,
  rejected: () => undefined,
  duplicatesSkipped: () => undefined,
};
const NO_VERSIONS: readonly EntityVersion[] = [];

/** Told when the table fold commits progress (TableProgressSignal); without it the decider polls. */
export interface ProgressSignal {
  generation(): number;
  changedSince(generation: number, waitMsMax: number): Promise<void>;
}

const POLLING: ProgressSignal = { generation: () => 0, changedSince: (_generation, waitMsMax) => sleep(waitMsMax) };

/** A batch's entity versions, per entity kind by entity id. */
type VersionsByEntity = { readonly [K in EntityKind]: ReadonlyMap<string, readonly EntityVersion[]> };

/**
 * Decides a batch of one inference partition: checks each record (poison to the DLQ), waits until the
 * table state as of the batch's latest inference time is complete (ordering.ts), reads the versions
 * visible as of each inference, applies the policy, and stores the decisions under the partition's claim
 * while the processor sends them: its Kafka transaction commits only once they are stored.
 */
export class Decider implements TransactionalHandler {
  private readonly logger = new Logger(Decider.name);
  private readonly versionCache: VersionCache;

  constructor(
    private readonly options: DeciderOptions,
    private readonly state: StateStore,
    private readonly decisions: DecisionStore,
    private readonly admin: Admin,
    private readonly observer: DecisionObserver = NO_OBSERVER,
    private readonly progressSignal: ProgressSignal = POLLING,
    private readonly tableOffsets: TableOffsets = adminTableOffsets(admin),
  ) {
    this.versionCache = new VersionCache((keys, asOfMaxMs) => this.state.versions(keys, asOfMaxMs));
  }

  async claimed(partition: number, claimToken: string, committedOffset: bigint | null): Promise<void> {
    const discarded = await this.decisions.claim(partition, claimToken, committedOffset);
    if (discarded > 0)
      this.logger.warn(`partition ${partition}: discarded ${discarded} stored decisions of an uncommitted transaction`);
  }

  async process(records: readonly InboundRecord[], context: ProcessContext): Promise<ProcessedBatch> {
    const rejections: Rejection[] = [];
    const reject = (record: InboundRecord, error: Error) => {
      rejections.push({ record, reason: error.message, errorClass: error.name });
      this.observer.rejected(error.message);
    };
    const nowMs = Date.now();
    const readable: ReadInference[] = [];
    for (const record of records) {
      try {
        readable.push(readInference(record, this.options.limits, nowMs));
      } catch (error) {
        if (!(error instanceof InferenceRejected)) throw error;
        reject(record, error);
      }
    }
    if (readable.length === 0) return { outputs: [], rejections };
    const asOfMaxMs = Math.max(...readable.map((inference) => inference.asOfMs));
    // The claim and the ids decided before are asked for while the batch waits for the tables.
    const pending = this.decisions.begin(
      context.partition,
      context.claimToken,
      readable.map((inference) => inference.facts.inferenceId),
    );
    const waitStartedMs = Date.now();
    let versions: VersionsByEntity;
    let orderingWaitMs: number;
    try {
      await this.waitForTables(asOfMaxMs, context);
      orderingWaitMs = Date.now() - waitStartedMs;
      versions = await this.loadVersions(readable, asOfMaxMs);
    } catch (error) {
      await pending.abandon();
      throw error;
    }
    const { result: outputs, stored } = await pending.decide((alreadyDecided) =>
      this.decideAll(readable, versions, alreadyDecided, context.partition, reject),
    );
    // Counted once stored, as before the store overlapped the send; a failed store is the batch's retry's to count.
    void stored.then(
      () =>
        this.observer.batchDecided({
          records: records.length,
          decisions: outputs.length,
          orderingWaitMs,
          durationMs: Date.now() - nowMs,
        }),
      () => undefined,
    );
    return { outputs, rejections, stored };
  }

  private decideAll(
    inferences: readonly ReadInference[],
    versions: VersionsByEntity,
    alreadyDecided: ReadonlyMap<string, DecidedInference>,
    partition: number,
    reject: (record: InboundRecord, error: Error) => void,
  ): { rows: DecisionRow[]; result: OutputRecord[] } {
    const topic = inferences[0]?.record.topic ?? '';
    const repeats = new RepeatedInferences(topic, alreadyDecided);
    let duplicates = 0;
    const rows: DecisionRow[] = [];
    const outputs: OutputRecord[] = [];
    // One instant per batch, named by both the event's occurredAt and its record's ce_time.
    const decidedAt = new Date();
    const decidedAtMs = BigInt(decidedAt.getTime());
    for (const inference of inferences) {
      // An id decided before or earlier in this batch gets no second decision: the same content again is
      // a re-delivery (skipped, counted), other content is another inference under a used id (the DLQ).
      const repeat = repeats.check(inference.facts.inferenceId, inference.contentHash);
      if (repeat.type === 'duplicate') {
        duplicates += 1;
        continue;
      }
      if (repeat.type === 'conflict') {
        reject(inference.record, new InferenceRejected(repeat.reason));
        continue;
      }
      let decision: AttributionDecision;
      try {
        decision = this.decide(inference, versions);
      } catch (error) {
        if (!(error instanceof InferenceRejected)) throw error;
        reject(inference.record, error);
        continue;
      }
      const event = toAttributedEvent(decision, inference.eventId, decidedAtMs, inference.producer);
      const record = toRecord('InferenceAttributed', event, {
        source: this.options.source,
        topicPrefix: this.options.topicPrefix,
        time: decidedAt,
      });
      // A decision the topic cannot take would fail the whole transaction on every attempt: measured
      // first (key, value, headers, Kafka's framing), it goes to the DLQ and the partition goes on.
      const fit = recordFit(record, this.options.decisionBytesMax);
      if (!fit.fits) {
        reject(
          inference.record,
          new InferenceRejected(decisionTooLargeReason(fit.bytes, fit.limitBytes, record.topic)),
        );
        continue;
      }
      repeats.decided(inference.facts.inferenceId, partition, BigInt(inference.record.offset), inference.contentHash);
      // The decision goes to the attributions partition numbered like the inference's: that partition is
      // then written only by this inference partition's transactional id.
      outputs.push({ topic: record.topic, partition, key: record.key, value: record.value, headers: record.headers });
      rows.push({
        inferenceId: inference.facts.inferenceId,
        inferenceOffset: BigInt(inference.record.offset),
        eventId: event.eventId,
        method: inference.facts.method,
        value: record.value,
        headers: record.headers,
        contentHash: inference.contentHash,
      });
    }
    if (duplicates > 0) this.observer.duplicatesSkipped(topic, duplicates);
    return { rows, result: outputs };
  }

  /** The policy applied to the state visible as of the inference's time; poison becomes InferenceRejected. */
  private decide(inference: ReadInference, versions: VersionsByEntity): AttributionDecision {
    const { facts, asOfMs } = inference;
    const visible = <S>(entity: EntityKind, id: string): S | null =>
      (visibleAsOf(versions[entity].get(id) ?? NO_VERSIONS, asOfMs)?.state as S | undefined) ?? null;
    const model = visible<ModelTableState>('model', facts.modelId);
    if (model === null)
      throw new InferenceRejected(`modelId: UNKNOWN_MODEL ${facts.modelId} is not registered as of ${asOfMs}`);
    if (model.retired)
      throw new InferenceRejected(`modelId: MODEL_RETIRED ${facts.modelId} was retired before ${asOfMs}`);
    const datanets: DatanetState[] = [];
    for (const id of model.datanetIds) {
      const state = visible<DatanetState>('datanet', id);
      if (state !== null) datanets.push(state);
    }
    const contributions: ContributionState[] = [];
    const listed = new Set<string>();
    for (const { contributionId } of facts.attributions) {
      if (listed.has(contributionId)) continue;
      listed.add(contributionId);
      const state = visible<ContributionState>('contribution', contributionId);
      if (state !== null) contributions.push(state);
    }
    try {
      // The table state as is: the policy reads the model's fields it knows and copies them into inputsSeen, so `retired` goes no further.
      // The datanets' terms as of the inference are in their states: a model breaking them is refused here
      // (DATANET_TERMS), so terms tightened after an inference's time never touch its decision.
      const { protocolId, policy } = this.options;
      return decideAttribution({
        inference: facts,
        model,
        datanets,
        contributions,
        protocolId,
        ...(policy === undefined ? {} : { policy }),
      });
    } catch (error) {
      if (error instanceof AttributionInputError) throw new InferenceRejected(error.message);
      throw error;
    }
  }

  /**
   * The batch's versions by entity and id: looked up once per entity here, then ten or so times per
   * inference. The models name the datanets, so the datanets their cached versions already name are
   * asked for with the models and the contributions, in one query; only datanets named by a version
   * the cache did not hold yet take a second.
   */
  private async loadVersions(inferences: readonly ReadInference[], asOfMaxMs: number): Promise<VersionsByEntity> {
    const modelIds = new Set<string>();
    const contributionIds = new Set<string>();
    for (const { facts } of inferences) {
      modelIds.add(facts.modelId);
      for (const attribution of facts.attributions) contributionIds.add(attribution.contributionId);
    }
    const namedDatanets = (models: Iterable<readonly EntityVersion[]>) => {
      const ids = new Set<string>();
      for (const list of models)
        for (const version of list)
          if (version.entity === 'model') version.state.datanetIds.forEach((id) => ids.add(id));
      return ids;
    };
    const cachedDatanetIds = namedDatanets([...modelIds].map((id) => this.versionCache.held('model', id)));
    const keys = (entity: EntityKind, ids: Iterable<string>) => [...ids].map((id) => ({ entity, id }));
    const found = await this.versionCache.versions(
      [...keys('model', modelIds), ...keys('contribution', contributionIds), ...keys('datanet', cachedDatanetIds)],
      asOfMaxMs,
    );
    const datanetIds = namedDatanets([...modelIds].map((id) => found.get(entityKey('model', id)) ?? NO_VERSIONS));
    const uncached = [...datanetIds].filter((id) => !cachedDatanetIds.has(id));
    if (uncached.length > 0)
      for (const [key, versions] of await this.versionCache.versions(keys('datanet', uncached), asOfMaxMs))
        found.set(key, versions);
    const byId = (entity: EntityKind, ids: ReadonlySet<string>) =>
      new Map([...ids].map((id) => [id, found.get(entityKey(entity, id)) ?? NO_VERSIONS] as const));
    return {
      model: byId('model', modelIds),
      datanet: byId('datanet', datanetIds),
      contribution: byId('contribution', contributionIds),
    };
  }

  /**
   * Waits, bounded, until every table partition closed the as-of prefix (the join rule, ordering.ts): one
   * observation of the table partitions made once the prefix can be closed (its time plus the grace), then
   * the fold reaching its offsets, woken by the fold's commits (TableProgressSignal) rather than polled.
   * The observation asks the broker for each partition's first record stamped at or after the closing
   * instant (its end offset where there is none yet), so the fold is waited for only up to the records
   * appended before the batch's inferences, not up to those appended while the batch was on its way.
   * An observation that closes the prefix is never replaced by one that could only ask for more.
   */
  private async waitForTables(asOfMs: number, context: ProcessContext): Promise<void> {
    const deadlineMs = Date.now() + this.options.orderingWaitMsMax;
    const { orderingGraceMs } = this.options;
    const waiter: TableWaiter = {
      asOfMs,
      observableAtMs: JOIN.closedByObservationAtMs(asOfMs, orderingGraceMs),
      closedByRecordAtMs: JOIN.closedByRecordAtMs(asOfMs, orderingGraceMs),
    };
    this.waiters.add(waiter);
    try {
      // An earlier observation that closes this prefix stays valid: what it did not see is stamped later.
      let observation = this.lastObservation;
      const closes = (candidate: TablesObservation | null): candidate is TablesObservation =>
        candidate !== null && observationCloses(candidate, asOfMs, orderingGraceMs, JOIN);
      for (;;) {
        // Read before the progress, so a fold committing between the two still wakes the wait below.
        const generation = this.progressSignal.generation();
        // The observation and the fold's progress are asked for at once: the progress only ever moves
        // forward, so whichever answers first, comparing the two never closes a prefix too early.
        const observing =
          !closes(observation) && Date.now() >= waiter.observableAtMs ? this.observeTablesFor(waiter) : null;
        const [progress, observed] = await Promise.all([this.tableProgress(), observing]);
        if (observed !== null) {
          observation = observed;
          if ((this.lastObservation?.stampedFromMs ?? -Infinity) < observed.stampedFromMs)
            this.lastObservation = observed;
        }
        const catchUp = tablesCaughtUp(progress, asOfMs, observation, orderingGraceMs, JOIN);
        if (catchUp.caughtUp) return;
        if (Date.now() > deadlineMs || !context.stillOwned()) {
          const waiting = catchUp.waitingFor.map(({ topic, partition }) => partitionKey(topic, partition)).join(', ');
          throw new OrderingWaitExceeded(
            `tables did not pass ${asOfMs} within ${this.options.orderingWaitMsMax} ms: waiting for ${waiting}`,
          );
        }
        if (closes(observation)) await this.progressSignal.changedSince(generation, POLL_INTERVAL_MS);
        else if (Date.now() < waiter.observableAtMs) await sleep(Math.min(waiter.observableAtMs - Date.now(), 1_000));
        await context.heartbeat();
      }
    } finally {
      this.waiters.delete(waiter);
    }
  }

  private partitions: Array<{ topic: string; partition: number }> | null = null;
  private lastObservation: TablesObservation | null = null;
  /** The read of the fold's progress in flight, and the signal's generation when it started. */
  private progressRead: { generation: number; progress: Promise<PartitionProgress[]> } | null = null;
  /** The batches waiting for the tables now, so one observation can serve all of them. */
  private readonly waiters = new Set<TableWaiter>();
  /** The observation in flight, and when it was asked for. */
  private observing: { startedAtMs: number; observation: Promise<TablesObservation> } | null = null;

  /**
   * Every table partition with the fold's progress; a partition never written has progress 0 / -1.
   * The partitions decided at once share one read while no fold commit was heard since it started: a
   * commit before it started is in it, and one after it bumps the generation, which the waits see.
   */
  private tableProgress(): Promise<PartitionProgress[]> {
    const generation = this.progressSignal.generation();
    if (this.progressRead?.generation === generation) return this.progressRead.progress;
    const progress = this.readTableProgress();
    const read = { generation, progress };
    this.progressRead = read;
    const forget = () => {
      if (this.progressRead === read) this.progressRead = null;
    };
    progress.then(forget, forget);
    return progress;
  }

  private async readTableProgress(): Promise<PartitionProgress[]> {
    if (this.partitions === null) {
      const metadata = await this.admin.fetchTopicMetadata({ topics: [...this.options.tableTopics] });
      this.partitions = metadata.topics.flatMap((topic) =>
        topic.partitions.map((partition) => ({ topic: topic.name, partition: partition.partitionId })),
      );
    }
    const stored = new Map(
      (await this.state.progress()).map((progress) => [partitionKey(progress.topic, progress.partition), progress]),
    );
    return this.partitions.map(
      ({ topic, partition }) =>
        stored.get(partitionKey(topic, partition)) ?? { topic, partition, nextOffset: 0n, watermarkMs: -1 },
    );
  }

  /**
   * An observation that closes the waiter's prefix: the one in flight when it does, else a new one, asked
   * for the latest closing instant among the waiters it can serve now, so the batches waiting at once
   * share one.
   */
  private observeTablesFor(waiter: TableWaiter): Promise<TablesObservation> {
    const inFlight = this.observing;
    if (inFlight !== null && inFlight.startedAtMs >= waiter.observableAtMs) {
      return inFlight.observation.then((observation) =>
        observationCloses(observation, waiter.asOfMs, this.options.orderingGraceMs, JOIN)
          ? observation
          : this.observeTablesFor(waiter),
      );
    }
    const startedAtMs = Date.now();
    let stampedFromMs = waiter.closedByRecordAtMs;
    for (const other of this.waiters)
      if (other.observableAtMs <= startedAtMs) stampedFromMs = Math.max(stampedFromMs, other.closedByRecordAtMs);
    const observing = { startedAtMs, observation: this.observeTables(startedAtMs, stampedFromMs) };
    this.observing = observing;
    const forget = () => {
      if (this.observing === observing) this.observing = null;
    };
    observing.observation.then(forget, forget);
    return observing.observation;
  }

  private async observeTables(observedAtMs: number, stampedFromMs: number): Promise<TablesObservation> {
    // observedAtMs is the time before the requests: anything appended after the broker answered is later still.
    const offsets = new Map<string, bigint>();
    // The first offset stamped at or after stampedFromMs, or the end offset where no record is.
    for (const { topic, partition, offset } of await this.tableOffsets.offsetsByTimestamp(
      this.options.tableTopics,
      stampedFromMs,
    ))
      offsets.set(partitionKey(topic, partition), BigInt(offset));
    return { observedAtMs, stampedFromMs, offsets };
  }
}

/**
 * Where each table partition's records stamped from a time on start: per partition, the first offset
 * stamped at or after the time, or the end offset where no record is (kafkajs's offsets by timestamp).
 */
export interface TableOffsets {
  offsetsByTimestamp(
    topics: readonly string[],
    timestampMs: number,
  ): Promise<ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly offset: string }>>;
}

/** TableOffsets from kafkajs's admin (libs/kafka-wire adminOffsetsByTimestamp). */
export function adminTableOffsets(admin: Pick<Admin, 'fetchTopicOffsetsByTimestamp'>): TableOffsets {
  return { offsetsByTimestamp: (topics, timestampMs) => adminOffsetsByTimestamp(admin, topics, timestampMs) };
}

interface TableWaiter {
  /** The instant whose table state the batch is decided with. */
  readonly asOfMs: number;
  /** When an observation starts to count for the waiter's prefix (JoinRule.closedByObservationAtMs). */
  readonly observableAtMs: number;
  /** The closing instant of the waiter's prefix (JoinRule.closedByRecordAtMs). */
  readonly closedByRecordAtMs: number;
}

/**
 * The DLQ reason of a decision too large for its topic: the rule first (the metric's label), then the
 * size and the limit, so both survive the reason's truncation; the record key names the inference.
 */
export function decisionTooLargeReason(bytes: number, limitBytes: number, topic: string): string {
  return `decision-too-large: the decision would be ${bytes} bytes as a Kafka record (key, value, headers and framing), more than the ${limitBytes} bytes (max.message.bytes) of ${topic}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
