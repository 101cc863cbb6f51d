// A realistic little AI economy as a deterministic stream of Tributary events: datanets are created,
// contributors submit records, validators accept or reject them, a few are revoked, models are
// registered on the datanets, and then agents and consumers pay for inferences whose attribution
// scores point at the contributions. Pure: the seed, the run id and the start time are inputs, so the
// same options always give the same events.
import type { EventData, ProducerEventType } from '@tributary/contracts';
import { SeededRandom } from './random';

/**
 * The event types the simulated producers publish. Drawn from ProducerEventType (EVENT_PUBLISHERS in the
 * contracts), so the simulator cannot emit a decision or a payout event, which their services alone publish.
 */
export type SimulatedEventType = Extract<
  ProducerEventType,
  | 'DatanetCreated'
  | 'ContributionSubmitted'
  | 'ContributionValidated'
  | 'ContributionRevoked'
  | 'ModelRegistered'
  | 'InferenceCompleted'
>;

export type SimulatedEvent = {
  [T in SimulatedEventType]: { readonly type: T; readonly data: EventData<T> };
}[SimulatedEventType];

export interface EconomyOptions {
  readonly seed: number;
  /** Prefixes every id, so two runs never publish the same event id with different contents. */
  readonly runId: string;
  /** occurredAt of the first event, in ms since the epoch; each later event is a few ms after it. */
  readonly startTimeMs: bigint;
  readonly datanetCount: number;
  readonly contributionsPerDatanet: number;
  readonly contributorCount: number;
  readonly validatorCount: number;
  readonly modelCount: number;
  readonly agentCount: number;
  readonly consumerCount: number;
  readonly asset: string;
}

export const ECONOMY_DEFAULTS: Omit<EconomyOptions, 'seed' | 'runId' | 'startTimeMs'> = {
  datanetCount: 3,
  contributionsPerDatanet: 12,
  contributorCount: 20,
  validatorCount: 4,
  modelCount: 4,
  agentCount: 6,
  consumerCount: 25,
  asset: 'USDC',
};

/** Bounds on every size option, so a typo cannot ask for a setup that never ends. */
const SIZE_LIMITS: Record<keyof typeof ECONOMY_DEFAULTS, readonly [number, number]> = {
  datanetCount: [1, 1_000],
  contributionsPerDatanet: [1, 10_000],
  contributorCount: [1, 100_000],
  validatorCount: [1, 1_000],
  modelCount: [1, 1_000],
  agentCount: [1, 10_000],
  consumerCount: [1, 100_000],
  asset: [1, 32],
};

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ATTRIBUTIONS_PER_INFERENCE_MAX = 8;
const METHODS = ['gradient-similarity/v1', 'influence-functions/v2', 'embedding-knn/v1'] as const;
const LICENSES = ['CC-BY-4.0', 'CC-BY-SA-4.0', 'CC0-1.0', 'MIT'] as const;
const BASE_MODELS = ['meta-llama/Llama-3.1-8B', 'mistralai/Mistral-7B-v0.3', 'Qwen/Qwen2.5-7B'] as const;
const DATANET_TOPICS = [
  'medical-notes',
  'legal-contracts',
  'code-reviews',
  'climate-papers',
  'recipes',
  'chess-games',
] as const;

/** Every problem with the options, each naming the option and its rule; empty when they are valid. */
export function economyOptionProblems(options: EconomyOptions): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(options.seed)) problems.push('seed: must be a safe integer');
  if (!RUN_ID.test(options.runId)) problems.push('runId: must be 1 to 64 letters, digits, "_" or "-"');
  if (options.startTimeMs < 0n) problems.push('startTimeMs: must be 0 or more');
  for (const [name, [min, max]] of Object.entries(SIZE_LIMITS)) {
    const value = name === 'asset' ? options.asset.length : (options as unknown as Record<string, number>)[name]!;
    if (!Number.isSafeInteger(value) || value < min || value > max)
      problems.push(`${name}: must be from ${min} to ${max}${name === 'asset' ? ' characters' : ''}`);
  }
  return problems;
}

interface Contribution {
  readonly contributionId: string;
  readonly datanetId: string;
}

interface Model {
  readonly modelId: string;
  readonly datanetIds: readonly string[];
}

/**
 * The economy as an endless stream: setup events first (setupEventCount of them), then paid
 * inferences forever. Callers take what they need (takeEvents); the stream itself never buffers.
 */
export function* simulateEconomy(options: EconomyOptions): Generator<SimulatedEvent, never, undefined> {
  const problems = economyOptionProblems(options);
  if (problems.length > 0) throw new RangeError(`invalid economy options: ${problems.join('; ')}`);
  const random = new SeededRandom(options.seed);
  const ids = idFactory(options.runId);
  let clockMs = options.startTimeMs;
  const tick = () => (clockMs += BigInt(random.int(1, 50)));
  let eventNumber = 0;
  const eventId = () => ids('evt', ++eventNumber);

  const datanetIds = Array.from({ length: options.datanetCount }, (_, index) =>
    ids(DATANET_TOPICS[index % DATANET_TOPICS.length]!, index + 1),
  );
  for (const datanetId of datanetIds) {
    yield {
      type: 'DatanetCreated',
      data: {
        eventId: eventId(),
        datanetId,
        occurredAt: tick(),
        ownerId: ids('owner', random.int(1, options.datanetCount)),
        name: `Datanet ${datanetId}`,
        license: random.pick(LICENSES),
        curatorShareBps: random.int(0, 20) * 100,
        // Open terms: every simulated model (data share 30% to 60%) may use every datanet.
        minDataBps: 0,
        allowedModelOwners: null,
      },
    };
  }
  const contributions: Contribution[] = [];
  for (const datanetId of datanetIds) {
    for (let index = 0; index < options.contributionsPerDatanet; index += 1) {
      const contribution = { contributionId: ids('contribution', contributions.length + 1), datanetId };
      contributions.push(contribution);
      yield* contributionLifecycle(contribution, options, random, ids, eventId, tick);
    }
  }
  const models: Model[] = [];
  for (let index = 0; index < options.modelCount; index += 1) {
    // One model in ten names no datanet: its data share goes to the protocol.
    const model = {
      modelId: ids('model', index + 1),
      datanetIds: random.chance(0.1) ? [] : random.sample(datanetIds, random.int(1, 2)),
    };
    models.push(model);
    const protocolBps = random.int(5, 15) * 100;
    const dataBps = random.int(30, 60) * 100;
    yield {
      type: 'ModelRegistered',
      data: {
        eventId: eventId(),
        modelId: model.modelId,
        occurredAt: tick(),
        ownerId: ids('model-owner', random.int(1, options.modelCount)),
        baseModel: random.pick(BASE_MODELS),
        datanetIds: model.datanetIds,
        split: { protocolBps, modelBps: 10_000 - protocolBps - dataBps, dataBps },
      },
    };
  }
  for (let inference = 1; ; inference += 1) {
    yield paidInference(inference, models, contributions, options, random, ids, eventId(), tick());
  }
}

/** Submitted, then validated (mostly accepted), and now and then revoked. */
function* contributionLifecycle(
  contribution: Contribution,
  options: EconomyOptions,
  random: SeededRandom,
  ids: (kind: string, number: number) => string,
  eventId: () => string,
  tick: () => bigint,
): Generator<SimulatedEvent> {
  const hex = Array.from({ length: 64 }, () => random.int(0, 15).toString(16)).join('');
  yield {
    type: 'ContributionSubmitted',
    data: {
      eventId: eventId(),
      contributionId: contribution.contributionId,
      occurredAt: tick(),
      datanetId: contribution.datanetId,
      contributorId: ids('contributor', random.int(1, options.contributorCount)),
      contentHash: `sha256:${hex}`,
      sizeBytes: BigInt(random.int(200, 2_000_000)),
      license: random.pick(LICENSES),
    },
  };
  const accepted = random.chance(0.85);
  yield {
    type: 'ContributionValidated',
    data: {
      eventId: eventId(),
      contributionId: contribution.contributionId,
      occurredAt: tick(),
      validatorId: ids('validator', random.int(1, options.validatorCount)),
      decision: accepted ? 'ACCEPTED' : 'REJECTED',
      qualityScoreBps: accepted ? random.int(5_000, 10_000) : random.int(0, 4_999),
      reason: accepted ? null : random.pick(['duplicate of an existing record', 'license unclear', 'low quality']),
    },
  };
  if (accepted && random.chance(0.03)) {
    yield {
      type: 'ContributionRevoked',
      data: {
        eventId: eventId(),
        contributionId: contribution.contributionId,
        occurredAt: tick(),
        reason: 'contributor request',
      },
    };
  }
}

function paidInference(
  number: number,
  models: readonly Model[],
  contributions: readonly Contribution[],
  options: EconomyOptions,
  random: SeededRandom,
  ids: (kind: string, number: number) => string,
  eventId: string,
  occurredAt: bigint,
): SimulatedEvent {
  const model = random.pick(models);
  const eligible = contributions.filter((contribution) => model.datanetIds.includes(contribution.datanetId));
  const attributed = random.sample(eligible, random.int(0, Math.min(ATTRIBUTIONS_PER_INFERENCE_MAX, eligible.length)));
  const attributions = attributed.map((contribution) => ({
    contributionId: contribution.contributionId,
    scorePpm: BigInt(random.int(1, 1_000_000)),
  }));
  // Now and then the serving side names a contribution nobody submitted: the attribution service must reject it.
  if (random.chance(0.05))
    attributions.push({
      contributionId: ids('unknown-contribution', number),
      scorePpm: BigInt(random.int(1, 1_000_000)),
    });
  // Fees spread over three orders of magnitude, as small and large inferences do.
  const feeMinor = BigInt(Math.round(10 ** (3 + random.next() * 3)));
  return {
    type: 'InferenceCompleted',
    data: {
      eventId,
      inferenceId: ids('inference', number),
      occurredAt,
      modelId: model.modelId,
      agentId: random.chance(0.7) ? ids('agent', random.int(1, options.agentCount)) : null,
      consumerId: ids('consumer', random.int(1, options.consumerCount)),
      asset: options.asset,
      feeMinor,
      attributions,
      method: random.pick(METHODS),
      latencyMs: random.int(40, 3_000),
    },
  };
}

function idFactory(runId: string) {
  return (kind: string, number: number) => `${runId}-${kind}-${number}`;
}

/** How many events come before the first inference, for these options (contributions revoked vary by seed). */
export function setupEventCount(options: EconomyOptions): number {
  let count = 0;
  for (const event of simulateEconomy(options)) {
    if (event.type === 'InferenceCompleted') return count;
    count += 1;
  }
  throw new Error('unreachable: the economy stream never ends');
}

export const TAKE_EVENTS_MAX = 10_000_000;

/** The first `count` events of the economy, for callers that want them all at once (bounded). */
export function takeEvents(options: EconomyOptions, count: number): SimulatedEvent[] {
  if (!Number.isSafeInteger(count) || count < 0 || count > TAKE_EVENTS_MAX)
    throw new RangeError(`count: must be from 0 to ${TAKE_EVENTS_MAX}`);
  const events: SimulatedEvent[] = [];
  if (count === 0) return events;
  for (const event of simulateEconomy(options)) {
    events.push(event);
    if (events.length >= count) break;
  }
  return events;
}
