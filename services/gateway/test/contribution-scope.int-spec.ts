// Proves, on the real broker and database, that a key's datanet scope binds validations and revocations
// too, although those events name only a contribution: the gateway learns each contribution's datanet
// from its accepted ContributionSubmitted, keeps it in its own table, and judges a ContributionValidated
// or ContributionRevoked by it. A key for datanet A cannot validate or revoke a contribution of datanet
// B (403, nothing sent), nor take B's contribution id into A to gain control of it (409). Absence from
// Kafka is proved with a marker: an accepted event with the same record key (the contribution id),
// read up to, and the refused events are not before it.
import { randomUUID } from 'node:crypto';
import { createTestDatabase, testBrokers, uniqueName, type TestDatabase } from '@tributary/testing';
import type { ApiKeyRepository } from '../src/auth/api-key.store';
import {
  headersOf,
  keyRepository,
  post,
  readPartitionUntil,
  scope,
  startGateway,
  type RunningGateway,
} from './gateway-harness';

const CONTRIBUTION_TYPES = ['ContributionSubmitted', 'ContributionValidated', 'ContributionRevoked'];

const submitted = (contributionId: string, datanetId: string) => ({
  eventId: `evt-${randomUUID()}`,
  contributionId,
  occurredAt: 1_760_000_000_000,
  datanetId,
  contributorId: 'contributor-1',
  contentHash: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  sizeBytes: 1_024,
  license: 'CC-BY-4.0',
});

const validated = (contributionId: string) => ({
  eventId: `evt-${randomUUID()}`,
  contributionId,
  occurredAt: 1_760_000_000_000,
  validatorId: 'validator-1',
  decision: 'ACCEPTED',
  qualityScoreBps: 9_000,
  reason: null,
});

const revoked = (contributionId: string) => ({
  eventId: `evt-${randomUUID()}`,
  contributionId,
  occurredAt: 1_760_000_000_000,
  reason: 'takedown',
});

describe('contribution scope at the gateway', () => {
  const prefix = `${uniqueName('gwcs')}.`;
  const datanetA = `datanet-a-${randomUUID().slice(0, 8)}`;
  const datanetB = `datanet-b-${randomUUID().slice(0, 8)}`;
  let database: TestDatabase;
  let keys: { repository: ApiKeyRepository; close(): Promise<void> };
  let gateway: RunningGateway;
  let keyA: string;
  let keyB: string;
  let operatorKey: string;

  const events = (type: string) => `${gateway.baseUrl}/events/${type}`;

  /**
   * Publishes a marker keyed by `contributionId` with the operator's key, reads that partition up to it,
   * and answers which of `eventIds` Kafka holds before it.
   */
  async function landedBefore(contributionId: string, eventIds: readonly string[]): Promise<string[]> {
    const marker = validated(contributionId);
    const accepted = await post(events('ContributionValidated'), marker, operatorKey);
    expect(accepted.status).toBe(202);
    const messages = await readPartitionUntil(
      process.env,
      accepted.body.topic,
      accepted.body.partition,
      (message) => headersOf(message).ce_id === marker.eventId,
    );
    expect(messages.map((message) => headersOf(message).ce_id)).toContain(marker.eventId);
    return messages.map((message) => headersOf(message).ce_id!).filter((eventId) => eventIds.includes(eventId));
  }

  beforeAll(async () => {
    database = await createTestDatabase('gateway');
    keys = await keyRepository(database.url);
    const contributionKey = (producerId: string, datanetIds: string[]) =>
      keys.repository.create(scope(producerId, { eventTypes: CONTRIBUTION_TYPES, datanetIds, modelIds: [] }));
    keyA = (await contributionKey(`producer-a-${randomUUID().slice(0, 8)}`, [datanetA])).key;
    keyB = (await contributionKey(`producer-b-${randomUUID().slice(0, 8)}`, [datanetB])).key;
    operatorKey = (await keys.repository.create(scope(`operator-${randomUUID().slice(0, 8)}`))).key;
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_KEY_CACHE_TTL_MS: '0',
        GATEWAY_INSTANCE_ID: uniqueName('contribution-scope'),
      },
      'gateway-contribution-scope',
    );
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await keys?.close();
    await database?.drop();
  });

  it('a key for datanet A cannot validate or revoke a contribution in datanet B (403, nothing sent)', async () => {
    const contributionId = `contribution-${randomUUID()}`;
    expect((await post(events('ContributionSubmitted'), submitted(contributionId, datanetB), keyB)).status).toBe(202);

    const validation = validated(contributionId);
    const revocation = revoked(contributionId);
    const refusedValidation = await post(events('ContributionValidated'), validation, keyA);
    expect(refusedValidation.status).toBe(403);
    expect(refusedValidation.body).toMatchObject({ statusCode: 403, error: 'forbidden' });
    expect(refusedValidation.body.message).toContain('nothing was sent');
    expect(refusedValidation.body.issues).toEqual([
      expect.objectContaining({ path: 'contributionId', rule: 'contributionNotInScope' }),
    ]);
    const refusedRevocation = await post(events('ContributionRevoked'), revocation, keyA);
    expect(refusedRevocation.status).toBe(403);
    expect(refusedRevocation.body.issues).toEqual([
      expect.objectContaining({ path: 'contributionId', rule: 'contributionNotInScope' }),
    ]);

    // A batch carrying one such event beside an allowed one sends none of it.
    const own = `contribution-${randomUUID()}`;
    const ownSubmission = submitted(own, datanetA);
    const smuggled = revoked(contributionId);
    const batch = await post(
      events('batch'),
      {
        events: [
          { type: 'ContributionSubmitted', data: ownSubmission },
          { type: 'ContributionRevoked', data: smuggled },
        ],
      },
      keyA,
    );
    expect(batch.status).toBe(403);
    expect(batch.body.issues).toEqual([
      expect.objectContaining({ path: 'events[1].data.contributionId', rule: 'contributionNotInScope' }),
    ]);

    await expect(
      landedBefore(contributionId, [validation.eventId, revocation.eventId, smuggled.eventId]),
    ).resolves.toEqual([]);
    await expect(landedBefore(own, [ownSubmission.eventId])).resolves.toEqual([]);
  });

  it('lets a key validate and revoke the contributions of its own datanets, also one submitted in the same batch', async () => {
    const contributionId = `contribution-${randomUUID()}`;
    expect((await post(events('ContributionSubmitted'), submitted(contributionId, datanetA), keyA)).status).toBe(202);
    expect((await post(events('ContributionValidated'), validated(contributionId), keyA)).status).toBe(202);
    expect((await post(events('ContributionRevoked'), revoked(contributionId), keyA)).status).toBe(202);

    const fresh = `contribution-${randomUUID()}`;
    const together = await post(
      events('batch'),
      {
        events: [
          { type: 'ContributionSubmitted', data: submitted(fresh, datanetA) },
          { type: 'ContributionValidated', data: validated(fresh) },
        ],
      },
      keyA,
    );
    expect(together.status).toBe(202);
    // And the other datanet's key may not touch it.
    expect((await post(events('ContributionValidated'), validated(fresh), keyB)).status).toBe(403);
  });

  it('refuses a contribution the gateway never saw submitted to a datanet-scoped key, with its own rule; an all-datanet key may', async () => {
    const unknown = `contribution-${randomUUID()}`;
    const validation = validated(unknown);
    const reply = await post(events('ContributionValidated'), validation, keyA);
    expect(reply.status).toBe(403);
    expect(reply.body.issues).toEqual([
      expect.objectContaining({ path: 'contributionId', rule: 'contributionUnknown' }),
    ]);
    expect(reply.body.issues[0].message).toContain('no ContributionSubmitted');
    await expect(landedBefore(unknown, [validation.eventId])).resolves.toEqual([]); // the marker itself comes from the all-datanet key
  });

  it("refuses a submission taking another datanet's contribution id (409), and accepts a retry in the same datanet", async () => {
    const contributionId = `contribution-${randomUUID()}`;
    const original = submitted(contributionId, datanetB);
    expect((await post(events('ContributionSubmitted'), original, keyB)).status).toBe(202);

    const squat = submitted(contributionId, datanetA);
    const refused = await post(events('ContributionSubmitted'), squat, keyA);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ statusCode: 409, error: 'conflict' });
    expect(refused.body.issues).toEqual([
      expect.objectContaining({ path: 'contributionId', rule: 'contributionIdTaken' }),
    ]);
    // Even an all-datanet key cannot move a contribution to another datanet.
    expect((await post(events('ContributionSubmitted'), submitted(contributionId, datanetA), operatorKey)).status).toBe(
      409,
    );
    // The squat gained nothing: A still may not validate it.
    expect((await post(events('ContributionValidated'), validated(contributionId), keyA)).status).toBe(403);

    const retry = { ...submitted(contributionId, datanetB), eventId: `evt-${randomUUID()}` };
    expect((await post(events('ContributionSubmitted'), retry, keyB)).status).toBe(202);
    await expect(landedBefore(contributionId, [original.eventId, squat.eventId, retry.eventId])).resolves.toEqual([
      original.eventId,
      retry.eventId,
    ]);
  });
});
