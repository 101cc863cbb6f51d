// Proves without a broker or database that the gateway refuses every event type one service alone
// publishes (the decision InferenceAttributed, the three payout events and the treasury's two funding
// events): a POST of one, alone or in a batch, is a 400 naming that publisher, before anything is
// claimed or sent, and no API key may grant one.
import { EVENT_TYPES, type EventType } from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';
import { scopeProblems, type ApiKeyScope } from '../src/auth/api-key';
import { ApiKeyRepository } from '../src/auth/api-key.store';
import type { GatewayConfig } from '../src/gateway.config';
import { IngestService, type IncomingEvent } from '../src/ingest/ingest.service';
import { GatewayRejection } from '../src/ingest/rejection';
import { GATEWAY_EVENT_TYPES } from '../src/ingest/wire-format';

// Written out here rather than read from EVENT_PUBLISHERS, so that a wrong entry in the table fails this spec.
const INTERNAL: ReadonlyArray<readonly [EventType, string]> = [
  ['InferenceAttributed', 'attribution'],
  ['PayoutRequested', 'payouts'],
  ['PayoutSettled', 'payouts'],
  ['PayoutFailed', 'payouts'],
  ['FundsDeposited', 'treasury'],
  ['FundsReversed', 'treasury'],
];

const FULL_SCOPE: ApiKeyScope = { producerId: 'p', eventTypes: ['*'], datanetIds: ['*'], modelIds: ['*'] };

/** A valid event of the type as a producer would send it over HTTP: JSON, with every int64 as a decimal string. */
const wireBody = (type: EventType): unknown => {
  const asWire = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${value}` : value);
  return JSON.parse(JSON.stringify(SAMPLE_EVENTS[type], asWire));
};

/**
 * An IngestService whose Kafka and database stand-ins record every call. The claim fails as a database
 * that is down would, so an event that passes validation ends in a 503 instead of a 400.
 */
function ingestWithStandIns() {
  const publisher = { publishOne: jest.fn(), publishAtomically: jest.fn(), cooldownRemainingMs: 0 };
  const claim = jest.fn(async () => Promise.reject(new Error('no database in a unit spec')));
  const idempotency = { claim, release: jest.fn(), acknowledge: jest.fn() };
  const metrics = { accepted: { inc: jest.fn() }, reject: jest.fn() };
  const config = { TRIBUTARY_TOPIC_PREFIX: '', GATEWAY_RETRY_AFTER_S: 1 } as unknown as GatewayConfig;
  const service = new IngestService(
    config,
    publisher as never,
    idempotency as never,
    metrics as never,
    { resolve: jest.fn(async () => new Map()) } as never,
  );
  return { service, publisher, idempotency };
}

async function rejectionOf(work: Promise<unknown>): Promise<GatewayRejection> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatewayRejection);
  return error as GatewayRejection;
}

describe('an event type a service alone publishes', () => {
  it('is none of the types the gateway accepts, and every other type is one of them', () => {
    const internal = INTERNAL.map(([type]) => type);
    expect(GATEWAY_EVENT_TYPES.filter((type) => internal.includes(type))).toEqual([]);
    expect([...GATEWAY_EVENT_TYPES, ...internal].sort()).toEqual([...EVENT_TYPES].sort());
  });

  describe.each(INTERNAL)('%s, published by the %s service', (type, service) => {
    const rule = `${type} is published by the ${service} service only`;

    it('is refused alone with 400 invalid, naming the rule, and nothing is claimed or sent', async () => {
      const { service: ingest, publisher, idempotency } = ingestWithStandIns();
      const rejection = await rejectionOf(ingest.ingest(FULL_SCOPE, [{ type, data: wireBody(type) }], 'single'));
      expect(rejection.body()).toEqual({
        statusCode: 400,
        error: 'invalid',
        message: expect.stringContaining(rule),
        issues: [{ path: 'eventType', rule: 'internalEventType', message: expect.stringContaining(rule) }],
      });
      expect(rejection.message).toMatch(/nothing was sent$/);
      expect(idempotency.claim).not.toHaveBeenCalled();
      expect(publisher.publishOne).not.toHaveBeenCalled();
    });

    it('refuses the whole batch it is part of, naming its item, and nothing is claimed or sent', async () => {
      const { service: ingest, publisher, idempotency } = ingestWithStandIns();
      const batch: IncomingEvent[] = [
        { type: 'InferenceCompleted', data: wireBody('InferenceCompleted') },
        { type, data: wireBody(type) },
      ];
      const rejection = await rejectionOf(ingest.ingest(FULL_SCOPE, batch, 'batch'));
      expect(rejection.status).toBe(400);
      expect(rejection.message).toContain(rule);
      const issue = { path: 'events[1].type', rule: 'internalEventType', message: expect.stringContaining(rule) };
      expect(rejection.issues).toEqual([issue]);
      expect(idempotency.claim).not.toHaveBeenCalled();
      expect(publisher.publishAtomically).not.toHaveBeenCalled();
    });

    it('cannot be granted to an API key, and creating a key that names it is an error naming the rule', async () => {
      const scope = { ...FULL_SCOPE, eventTypes: ['InferenceCompleted', type] };
      const problem = `event-types: "${type}" cannot be granted: ${rule}`;
      expect(scopeProblems(scope)).toEqual([expect.stringContaining(problem)]);
      const database = { query: jest.fn() };
      const repository = new ApiKeyRepository(database as never);
      await expect(repository.create(scope)).rejects.toThrow(rule);
      expect(database.query).not.toHaveBeenCalled();
    });
  });

  it('leaves a type producers publish to go on towards Kafka under the same stand-ins', async () => {
    const { service: ingest, idempotency } = ingestWithStandIns();
    const event = { type: 'InferenceCompleted', data: wireBody('InferenceCompleted') };
    const rejection = await rejectionOf(ingest.ingest(FULL_SCOPE, [event], 'single'));
    expect(rejection.status).toBe(503);
    expect(idempotency.claim).toHaveBeenCalledTimes(1);
  });

  it('keeps the answer for an unknown type as it was: unknownEventType', async () => {
    const { service: ingest } = ingestWithStandIns();
    const rejection = await rejectionOf(ingest.ingest(FULL_SCOPE, [{ type: 'NoSuchEvent', data: {} }], 'single'));
    expect(rejection.issues).toEqual([expect.objectContaining({ path: 'eventType', rule: 'unknownEventType' })]);
    expect(rejection.message).toBe('1 field(s) break the event schema; nothing was sent');
  });
});
