import { randomUUID } from 'node:crypto';
import type { catalogFor, EventType } from '@tributary/contracts';

type Send = (topic: string, records: Array<{ type: EventType; data: unknown }>) => Promise<unknown>;

/**
 * The smallest world an inference can be decided in: datanet-1 (owned by olga), its accepted
 * contribution known-1 (by dora) and model-1 registered on it (owned by mona, 10/30/60 split).
 */
export async function publishSmallWorld(send: Send, topics: ReturnType<typeof catalogFor>['topics'], occurredAtMs: number): Promise<void> {
  const base = () => ({ eventId: `evt-${randomUUID()}`, occurredAt: BigInt(occurredAtMs) });
  await send(topics.datanets.name, [{ type: 'DatanetCreated', data: { ...base(), datanetId: 'datanet-1', ownerId: 'olga', name: 'Recipes', license: 'CC-BY-4.0', curatorShareBps: 2_000 } }]);
  await send(topics.contributions.name, [
    { type: 'ContributionSubmitted', data: { ...base(), contributionId: 'known-1', datanetId: 'datanet-1', contributorId: 'dora', contentHash: 'sha256:00', sizeBytes: 10n, license: 'CC-BY-4.0' } },
    { type: 'ContributionValidated', data: { ...base(), contributionId: 'known-1', validatorId: 'val', decision: 'ACCEPTED', qualityScoreBps: 9_000, reason: null } },
  ]);
  await send(topics.models.name, [
    { type: 'ModelRegistered', data: { ...base(), modelId: 'model-1', ownerId: 'mona', baseModel: 'base', datanetIds: ['datanet-1'], split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 } } },
  ]);
}
