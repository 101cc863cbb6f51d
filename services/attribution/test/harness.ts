import { randomUUID } from 'node:crypto';
import type { catalogFor, EventType } from '@tributary/contracts';
import { eventually, startServiceProcess, type ServiceProcess } from '@tributary/testing';

type Send = (topic: string, records: Array<{ type: EventType; data: unknown }>) => Promise<unknown>;

/**
 * The smallest world an inference can be decided in: datanet-1 (owned by olga), its accepted
 * contribution known-1 (by dora) and model-1 registered on it (owned by mona, 10/30/60 split).
 */
export async function publishSmallWorld(
  send: Send,
  topics: ReturnType<typeof catalogFor>['topics'],
  occurredAtMs: number,
): Promise<void> {
  const base = () => ({ eventId: `evt-${randomUUID()}`, occurredAt: BigInt(occurredAtMs) });
  await send(topics.datanets.name, [
    {
      type: 'DatanetCreated',
      data: {
        ...base(),
        datanetId: 'datanet-1',
        ownerId: 'olga',
        name: 'Recipes',
        license: 'CC-BY-4.0',
        curatorShareBps: 2_000,
      },
    },
  ]);
  await send(topics.contributions.name, [
    {
      type: 'ContributionSubmitted',
      data: {
        ...base(),
        contributionId: 'known-1',
        datanetId: 'datanet-1',
        contributorId: 'dora',
        contentHash: 'sha256:00',
        sizeBytes: 10n,
        license: 'CC-BY-4.0',
      },
    },
    {
      type: 'ContributionValidated',
      data: {
        ...base(),
        contributionId: 'known-1',
        validatorId: 'val',
        decision: 'ACCEPTED',
        qualityScoreBps: 9_000,
        reason: null,
      },
    },
  ]);
  await send(topics.models.name, [
    {
      type: 'ModelRegistered',
      data: {
        ...base(),
        modelId: 'model-1',
        ownerId: 'mona',
        baseModel: 'base',
        datanetIds: ['datanet-1'],
        split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
      },
    },
  ]);
}

/**
 * The attribution service as its own process on a test prefix and database, with the broker's shortest
 * session timeout (a killed member leaves the group within seconds); `extra` adds or overrides variables.
 * Resolves once it is ready.
 */
export async function startAttribution(
  databaseUrl: string,
  prefix: string,
  name: string,
  extra: Record<string, string> = {},
): Promise<ServiceProcess> {
  const instance = startServiceProcess(
    'services/attribution/src/main.ts',
    {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
      DATABASE_URL: databaseUrl,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      ATTRIBUTION_HTTP_PORT: '0',
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      CONSUMER_REBALANCE_TIMEOUT_MS: '6000',
      CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      ...extra,
    },
    name,
  );
  await eventually(() => expect(instance.output()).toContain('attribution ready'), 90_000);
  return instance;
}
